//! The domain's one error: what went wrong, in words a client may read, and which kind of
//! failure it is. It knows nothing of HTTP: `filegate-http` maps each [`ErrorKind`] to a
//! status and renders the body, once.

use std::borrow::Cow;

/// What kind of failure an error is; the HTTP layer gives each its status and `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request is malformed or a field is invalid.
    Invalid,
    /// The declared or sent payload is larger than allowed.
    TooLarge,
    /// A media type that is not accepted.
    UnsupportedMediaType,
    /// Well-formed, but not something this request can work with (a URL that is not a
    /// presigned URL, say).
    Unprocessable,
    /// A byte range outside the object.
    RangeNotSatisfiable,
    /// A method the path does not have.
    MethodNotAllowed,
    /// No credentials, or credentials that do not verify.
    Unauthenticated,
    /// Valid credentials without what the request needs.
    Forbidden,
    /// Missing, or another organisation's (the two are indistinguishable on purpose).
    NotFound,
    /// The resource is not in a state that allows the request.
    Conflict,
    /// Something that existed but no longer works (an expired or tampered presigned URL).
    Gone,
    /// A dependency (DynamoDB, S3) is throttling or unreachable; the client may retry.
    Unavailable,
    /// An upstream (S3 behind a presigned URL) was unreachable or answered unexpectedly.
    BadGateway,
    /// A fault of ours; the cause is logged, never shown.
    Internal,
}

/// An error as the client may see it. Built with the named constructors, so that every
/// `code` keeps the kind it was documented with.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind:?} {code}: {message}")]
pub struct DomainError {
    kind: ErrorKind,
    code: &'static str,
    message: Cow<'static, str>,
    param: Option<String>,
    details: Option<serde_json::Map<String, serde_json::Value>>,
}

macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $kind:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
                Self::new(ErrorKind::$kind, code, message)
            }
        )*
    };
}

impl DomainError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            param: None,
            details: None,
        }
    }

    constructors! {
        /// 400-like: the request is malformed or a field is invalid.
        invalid => Invalid;
        /// The declared or sent payload is larger than allowed.
        too_large => TooLarge;
        /// A media type we do not accept.
        unsupported_media_type => UnsupportedMediaType;
        /// Well-formed, but not something this request can work with.
        unprocessable => Unprocessable;
        /// A byte range outside the object.
        range_not_satisfiable => RangeNotSatisfiable;
        /// No credentials, or credentials that do not verify.
        unauthenticated => Unauthenticated;
        /// Valid credentials without the needed scope.
        forbidden => Forbidden;
        /// Missing, or another organisation's.
        not_found => NotFound;
        /// The resource is not in a state that allows the request.
        conflict => Conflict;
        /// Existed, but no longer works.
        gone => Gone;
        /// A dependency is throttling or unreachable; the client may retry.
        unavailable => Unavailable;
        /// An upstream was unreachable or answered unexpectedly.
        bad_gateway => BadGateway;
    }

    /// A known path with another method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            ErrorKind::MethodNotAllowed,
            "method_not_allowed",
            "this method is not allowed on this path",
        )
    }

    /// A fault of ours. The cause is logged here, once, and never shown to the client.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %ErrorChain(cause), "internal error");
        Self::new(
            ErrorKind::Internal,
            "internal_error",
            "an internal error occurred; retry later or contact support with the request id",
        )
    }

    /// Names the request field the error is about (`files[3].name`).
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Prefixes the param, for errors of an entry inside a list (`files[3]` + `name`).
    pub fn within(mut self, prefix: &str) -> Self {
        self.param = Some(match self.param.take() {
            Some(p) => format!("{prefix}.{p}"),
            None => prefix.to_owned(),
        });
        self
    }

    /// Adds a machine-readable detail (`details.<key>`).
    pub fn with_detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details
            .get_or_insert_with(serde_json::Map::new)
            .insert(key.to_owned(), value.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn details(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.details.as_ref()
    }
}

/// Displays an error with its sources, for logs.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_prefixing_builds_paths_for_batch_entries() {
        let e = DomainError::invalid("name_too_long", "x").with_param("name");
        assert_eq!(e.within("files[3]").param(), Some("files[3].name"));
        let e = DomainError::invalid("invalid_entry", "x");
        assert_eq!(e.within("files[0]").param(), Some("files[0]"));
    }
}
