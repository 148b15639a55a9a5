//! The one mapping from the domain's errors to HTTP: status, `type`, the `WWW-Authenticate`
//! challenge, and the JSON error document of API.md.
//!
//! Handlers return `Result<_, ApiError>`; `?` turns any [`DomainError`] into one. The body is
//! written by the error-rendering layer ([`crate::layers`]), which knows the request id that
//! the error itself does not.

use axum::response::{IntoResponse, Response};
use filegate_domain::{DomainError, ErrorKind};
pub use filegate_wire::error::{ErrorBody, ErrorDetail, ErrorType};
use http::{HeaderValue, StatusCode, header};

/// A [`DomainError`] on its way to the client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} {}: {}", self.status(), .0.code(), .0.message())]
pub struct ApiError(pub DomainError);

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        Self(e)
    }
}

/// The status and `type` of each kind of domain error: the whole mapping, in one place.
fn status_and_type(kind: ErrorKind) -> (StatusCode, ErrorType) {
    use ErrorType::*;
    match kind {
        ErrorKind::Invalid => (StatusCode::BAD_REQUEST, InvalidRequestError),
        ErrorKind::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, InvalidRequestError),
        ErrorKind::UnsupportedMediaType => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, InvalidRequestError)
        }
        ErrorKind::Unprocessable => (StatusCode::UNPROCESSABLE_ENTITY, InvalidRequestError),
        ErrorKind::RangeNotSatisfiable => (StatusCode::RANGE_NOT_SATISFIABLE, InvalidRequestError),
        ErrorKind::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, InvalidRequestError),
        ErrorKind::Unauthenticated => (StatusCode::UNAUTHORIZED, AuthenticationError),
        ErrorKind::Forbidden => (StatusCode::FORBIDDEN, PermissionError),
        ErrorKind::NotFound => (StatusCode::NOT_FOUND, NotFound),
        ErrorKind::Conflict => (StatusCode::CONFLICT, Conflict),
        ErrorKind::Gone => (StatusCode::GONE, Gone),
        ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, UpstreamError),
        ErrorKind::BadGateway => (StatusCode::BAD_GATEWAY, UpstreamError),
        ErrorKind::Internal => (StatusCode::INTERNAL_SERVER_ERROR, InternalError),
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        status_and_type(self.0.kind()).0
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    pub fn param(&self) -> Option<&str> {
        self.0.param()
    }

    pub fn message(&self) -> &str {
        self.0.message()
    }

    pub(crate) fn body(&self, request_id: &str) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                kind: status_and_type(self.0.kind()).1,
                code: self.0.code().to_owned(),
                message: self.0.message().to_owned(),
                param: self.0.param().map(str::to_owned),
                details: self.0.details().cloned(),
            },
            request_id: request_id.to_owned(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = status.into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"filegate\""),
            );
        }
        // The body is written by the error-rendering layer, which knows the request id.
        response.extensions_mut().insert(self);
        response
    }
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
    /// A dependency could not be reached; retry later (`auth_unavailable`: the identity
    /// provider's signing keys could not be fetched and none are cached).
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthenticated_responses_carry_a_bearer_challenge() {
        let r = ApiError::from(DomainError::unauthenticated("missing_credentials", "x"))
            .into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
    }

    #[test]
    fn details_are_in_the_body_only_when_set() {
        let plain = ApiError::from(DomainError::conflict("upload_mismatch", "x"));
        let json = serde_json::to_value(plain.body("req_1")).unwrap();
        assert!(json["error"].get("details").is_none(), "{json}");
        let with = ApiError::from(
            DomainError::conflict("upload_mismatch", "x").with_detail("reason", "size"),
        );
        let json = serde_json::to_value(with.body("req_1")).unwrap();
        assert_eq!(json["error"]["details"]["reason"], "size");
        assert_eq!(json["error"]["type"], "conflict");
    }
}
