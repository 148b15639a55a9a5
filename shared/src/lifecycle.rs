//! A file's life after upload: status changes made by the caller's own pipeline, and delete.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{AuditAction, AuditEvent, RequestOrigin};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::files::{FileRecord, FileStatus};
use crate::ids::FileId;
use crate::service::{FileService, file_not_found};
use crate::store::{ChangeStatusError, StatusChange};
use crate::timestamp::Timestamp;

const ERROR_MESSAGE_MAX_CHARS: usize = 1000;

/// `POST /v1/files/{id}/status`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeStatusRequest {
    /// `processing`, `ready` or `failed`.
    #[schema(example = "ready")]
    pub status: String,
    /// Why the file failed: required with `failed`, refused otherwise. At most 1000
    /// characters.
    #[serde(default)]
    pub error_message: Option<String>,
}

/// `{"id","object":"file","deleted":true}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeletedFile {
    pub id: String,
    /// Always `file`.
    #[schema(example = "file")]
    pub object: &'static str,
    pub deleted: bool,
}

/// A validated status change request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRequest {
    pub to: FileStatus,
    pub error_message: Option<String>,
}

impl StatusRequest {
    pub fn parse(request: &ChangeStatusRequest) -> Result<Self, ApiError> {
        let to = FileStatus::parse(&request.status).ok_or_else(|| {
            ApiError::invalid(
                "invalid_status",
                "status must be one of pending, uploaded, processing, ready, failed",
            )
            .with_param("status")
        })?;
        let message = request.error_message.as_deref().map(str::trim);
        let param = |e: ApiError| e.with_param("error_message");
        let error_message = match (to, message) {
            (FileStatus::Failed, None | Some("")) => {
                return Err(param(ApiError::invalid(
                    "error_message_required",
                    "error_message is required when status is failed",
                )));
            }
            (FileStatus::Failed, Some(m)) if m.chars().count() > ERROR_MESSAGE_MAX_CHARS => {
                return Err(param(ApiError::invalid(
                    "error_message_too_long",
                    format!("error_message must be at most {ERROR_MESSAGE_MAX_CHARS} characters"),
                )));
            }
            (FileStatus::Failed, Some(m))
                if m.chars().any(|c| c.is_control() && c != '\n' && c != '\t') =>
            {
                return Err(param(ApiError::invalid(
                    "error_message_invalid_character",
                    "error_message must not contain control characters other than newlines and tabs",
                )));
            }
            (FileStatus::Failed, Some(m)) => Some(m.to_owned()),
            (_, None) => None,
            (_, Some(_)) => {
                return Err(param(ApiError::invalid(
                    "error_message_not_allowed",
                    "error_message is only accepted with status failed",
                )));
            }
        };
        Ok(Self { to, error_message })
    }
}

impl FileService {
    /// Moves a file along its lifecycle, only along the transitions of
    /// [`FileStatus::can_become`] and only from the status it is in when the write lands.
    pub async fn change_status(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
        request: &StatusRequest,
    ) -> Result<FileRecord, ApiError> {
        for _ in 0..3 {
            let file = self.get(&caller.org, id).await?;
            if !file.status.can_become(request.to) {
                return Err(ApiError::conflict(
                    "invalid_transition",
                    format!("a {} file cannot become {}", file.status, request.to),
                )
                .with_param("status"));
            }
            let now = Timestamp::now();
            let mut event = AuditEvent::new(
                &caller.org,
                file.id,
                AuditAction::FileStatusChanged,
                &caller.actor,
                origin,
                now,
            )
            .with_detail("from", file.status.as_str())
            .with_detail("to", request.to.as_str());
            if let Some(message) = &request.error_message {
                event = event.with_detail("error_message", message.as_str());
            }
            let change = StatusChange {
                from: file.status,
                to: request.to,
                at: now,
                error_message: request.error_message.clone(),
            };
            match self.store().change_status(&file, &change, &event).await {
                Ok(updated) => {
                    if file.status == FileStatus::Pending {
                        // Bytes that were never verified are not kept (as with a failed
                        // finalize). The change has been made either way: a failed cleanup
                        // is logged, and finalize removes the object if it is ever called.
                        if let Err(e) = self.objects().delete(&file.object_key()).await {
                            tracing::warn!(
                                error = %crate::error::ErrorChain(&e),
                                file = %file.id,
                                "could not delete the object of a file failed while pending"
                            );
                        }
                    }
                    return Ok(updated);
                }
                Err(ChangeStatusError::Conflict) => continue,
                Err(ChangeStatusError::Storage(e)) => return Err(e.into()),
            }
        }
        Err(ApiError::conflict(
            "concurrent_update",
            "the file kept changing; read it and retry",
        ))
    }

    /// Deletes a file's object and metadata, in an order that never leaves a row pointing at
    /// a missing object as if it were there, nor an object without a row:
    ///
    /// 1. mark the row `deleting_at` (from then on it reads as deleted and cannot change),
    /// 2. delete the object,
    /// 3. delete the row and write `file.deleted` in one transaction.
    ///
    /// A crash between steps leaves a marked row, which a retry of the same DELETE finishes.
    pub async fn delete(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
    ) -> Result<DeletedFile, ApiError> {
        let deleted = DeletedFile {
            id: id.to_string(),
            object: "file",
            deleted: true,
        };
        let file = match self
            .store()
            .mark_deleting(&caller.org, id, Timestamp::now())
            .await
        {
            Ok(file) => file,
            Err(ChangeStatusError::Conflict) => return Err(file_not_found(id)),
            Err(ChangeStatusError::Storage(e)) => return Err(e.into()),
        };
        self.objects().delete(&file.object_key()).await?;
        let event = AuditEvent::new(
            &caller.org,
            file.id,
            AuditAction::FileDeleted,
            &caller.actor,
            origin,
            Timestamp::now(),
        )
        .with_detail("name", file.name.as_str())
        .with_detail("status", file.status.as_str());
        match self.store().remove_file(&file, &event).await {
            Ok(()) => Ok(deleted),
            // A concurrent DELETE of the same file finished first: it is deleted either way.
            Err(ChangeStatusError::Conflict) => Ok(deleted),
            Err(ChangeStatusError::Storage(e)) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: &str, message: Option<&str>) -> Result<StatusRequest, ApiError> {
        StatusRequest::parse(&ChangeStatusRequest {
            status: status.into(),
            error_message: message.map(Into::into),
        })
    }

    fn code(r: Result<StatusRequest, ApiError>) -> (&'static str, Option<String>) {
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
