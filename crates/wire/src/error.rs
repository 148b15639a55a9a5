//! The JSON error document of API.md: every refusal, on every route, in one shape.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The `type` field of an error, which fixes its HTTP status family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

/// The JSON error document of API.md.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    pub request_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// A stable snake_case word, e.g. `name_too_long`.
    pub code: String,
    pub message: String,
    /// The request field the error is about, e.g. `files[3].name`.
    pub param: Option<String>,
    /// Machine-readable facts, for the errors that have some: e.g. `reason` (`size`,
    /// `content_type`, `checksum`, `unsigned_header`, `detected_type`) of `upload_mismatch`. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}
