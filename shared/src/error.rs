//! The one error type of the API and its one mapping to HTTP.
//!
//! Handlers return `Result<_, ApiError>`. The response body is rendered by
//! [`crate::http::render_errors`], which adds the request id that the error itself does not know.

use std::borrow::Cow;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

/// The `type` field of an error, which fixes its HTTP status family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    InvalidRequestError,
    AuthenticationError,
    PermissionError,
    NotFound,
    Conflict,
    Gone,
    UpstreamError,
    InternalError,
}

/// An error as the client sees it. Construct it with the named constructors so that every
/// `code` keeps the status it was documented with.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    status: StatusCode,
    kind: ErrorType,
    code: &'static str,
    message: Cow<'static, str>,
    param: Option<String>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: ErrorType,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            kind,
            code,
            message: message.into(),
            param: None,
        }
    }

    /// 400: the request is malformed or a field is invalid.
    pub fn invalid(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidRequestError,
            code,
            message,
        )
    }

    /// 413: the declared or sent payload is larger than allowed.
    pub fn too_large(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::InvalidRequestError,
            code,
            message,
        )
    }

    /// 415: a media type we do not accept.
    pub fn unsupported_media_type(
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorType::InvalidRequestError,
            code,
            message,
        )
    }

    /// 401: no credentials, or credentials that do not verify.
    pub fn unauthenticated(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorType::AuthenticationError,
            code,
            message,
        )
    }

    /// 403: valid credentials without the needed scope.
    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorType::PermissionError,
            code,
            message,
        )
    }

    /// 404: missing, or another organisation's (the two are indistinguishable on purpose).
    pub fn not_found(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorType::NotFound, code, message)
    }

    /// 422: well-formed, but not something this request can work with (a URL that is not a
    /// presigned URL, say).
    pub fn unprocessable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::InvalidRequestError,
            code,
            message,
        )
    }

    /// 409: the resource is not in a state that allows the request.
    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorType::Conflict, code, message)
    }

    /// 405 for a known path with another method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorType::InvalidRequestError,
            "method_not_allowed",
            "this method is not allowed on this path",
        )
    }

    /// 503: a dependency (DynamoDB, S3) is throttling or unreachable; the client may retry.
    pub fn unavailable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::UpstreamError,
            code,
            message,
        )
    }

    /// 410: the request names something that existed but no longer works (an expired or
    /// tampered presigned URL).
    pub fn gone(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::GONE, ErrorType::Gone, code, message)
    }

    /// 416: a `Range` outside the object.
    pub fn range_not_satisfiable(
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            ErrorType::InvalidRequestError,
            code,
            message,
        )
    }

    /// 502: an upstream (S3 behind a presigned URL) was unreachable or answered unexpectedly.
    pub fn bad_gateway(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            ErrorType::UpstreamError,
            code,
            message,
        )
    }

    /// 500. The cause is logged here, once, and never shown to the client.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %ErrorChain(cause), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::InternalError,
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

    pub fn status(&self) -> StatusCode {
        self.status
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

    pub(crate) fn body(&self, request_id: &str) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                kind: self.kind,
                code: self.code.to_owned(),
                message: self.message.to_string(),
                param: self.param.clone(),
            },
            request_id: request_id.to_owned(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"filegate\""),
            );
        }
        // The body is written by `render_errors`, which knows the request id.
        response.extensions_mut().insert(self);
        response
    }
}

/// The JSON error document of API.md.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    pub request_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// A stable snake_case word, e.g. `name_too_long`.
    pub code: String,
    pub message: String,
    /// The request field the error is about, e.g. `files[3].name`.
    pub param: Option<String>,
}

/// The answers every authenticated route can give, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
pub enum AuthErrors {
    /// Missing, invalid or expired credentials (`missing_credentials`, `invalid_token`,
    /// `token_expired`).
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// Valid credentials without the scope the route needs (`insufficient_scope`).
    #[response(status = 403)]
    Forbidden(ErrorBody),
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
        let e = ApiError::invalid("name_too_long", "x").with_param("name");
        assert_eq!(e.within("files[3]").param(), Some("files[3].name"));
        let e = ApiError::invalid("invalid_entry", "x");
        assert_eq!(e.within("files[0]").param(), Some("files[0]"));
    }

    #[test]
    fn unauthenticated_responses_carry_a_bearer_challenge() {
        let r = ApiError::unauthenticated("missing_credentials", "x").into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
