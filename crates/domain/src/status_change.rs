//! Status changes asked for by the caller's own pipeline: which status, and why it failed.

use crate::error::DomainError;
use crate::file::FileStatus;

const ERROR_MESSAGE_MAX_CHARS: usize = 1000;

/// A validated status change request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRequest {
    pub to: FileStatus,
    pub error_message: Option<String>,
}

impl StatusRequest {
    /// `status` as sent, and `error_message`: required with `failed`, refused otherwise.
    pub fn parse(status: &str, error_message: Option<&str>) -> Result<Self, DomainError> {
        let to = FileStatus::parse(status).ok_or_else(|| {
            DomainError::invalid(
                "invalid_status",
                "status must be one of pending, uploaded, processing, ready, failed",
            )
            .with_param("status")
        })?;
        let message = error_message.map(str::trim);
        let param = |e: DomainError| e.with_param("error_message");
        let error_message = match (to, message) {
            (FileStatus::Failed, None | Some("")) => {
                return Err(param(DomainError::invalid(
                    "error_message_required",
                    "error_message is required when status is failed",
                )));
            }
            (FileStatus::Failed, Some(m)) if m.chars().count() > ERROR_MESSAGE_MAX_CHARS => {
                return Err(param(DomainError::invalid(
                    "error_message_too_long",
                    format!("error_message must be at most {ERROR_MESSAGE_MAX_CHARS} characters"),
                )));
            }
            (FileStatus::Failed, Some(m))
                if m.chars().any(|c| c.is_control() && c != '\n' && c != '\t') =>
            {
                return Err(param(DomainError::invalid(
                    "error_message_invalid_character",
                    "error_message must not contain control characters other than newlines and tabs",
                )));
            }
            (FileStatus::Failed, Some(m)) => Some(m.to_owned()),
            (_, None) => None,
            (_, Some(_)) => {
                return Err(param(DomainError::invalid(
                    "error_message_not_allowed",
                    "error_message is only accepted with status failed",
                )));
            }
        };
        Ok(Self { to, error_message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: &str, message: Option<&str>) -> Result<StatusRequest, DomainError> {
        StatusRequest::parse(status, message)
    }

    fn code(r: Result<StatusRequest, DomainError>) -> (&'static str, Option<String>) {
        let e = r.unwrap_err();
        (e.code(), e.param().map(str::to_owned))
    }

    #[test]
    fn failed_needs_a_message_and_nothing_else_takes_one() {
        assert_eq!(
            parse("failed", Some(" OCR crashed ")).unwrap(),
            StatusRequest {
                to: FileStatus::Failed,
                error_message: Some("OCR crashed".into())
            }
        );
        assert_eq!(
            code(parse("failed", None)),
            ("error_message_required", Some("error_message".into()))
        );
        assert_eq!(
            code(parse("failed", Some("  "))).0,
            "error_message_required"
        );
        assert_eq!(
            code(parse("ready", Some("x"))).0,
            "error_message_not_allowed"
        );
        assert_eq!(
            code(parse("failed", Some(&"x".repeat(1001)))).0,
            "error_message_too_long"
        );
        assert_eq!(
            code(parse("failed", Some("a\u{1b}[31m"))).0,
            "error_message_invalid_character"
        );
        assert!(parse("failed", Some("line 1\nline 2")).is_ok());
        assert_eq!(
            code(parse("done", None)),
            ("invalid_status", Some("status".into()))
        );
    }
}
