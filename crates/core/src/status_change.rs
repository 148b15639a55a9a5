//! Status changes made by the caller's own pipeline, along the transitions of
//! [`FileStatus::can_become`].

use filegate_domain::DomainError;
use filegate_domain::audit::{AuditAction, AuditEvent, RequestOrigin};
use filegate_domain::error::ErrorChain;
use filegate_domain::file::{FileRecord, FileStatus};
use filegate_domain::ids::FileId;
use filegate_domain::principal::Caller;
use filegate_domain::status_change::StatusRequest;
use filegate_domain::timestamp::Timestamp;
use filegate_store::metadata::{ChangeStatusError, StatusChange};

use crate::file_service::FileService;
use crate::retry::{Attempt, retry_on_conflict};

impl FileService {
    /// Moves a file along its lifecycle, only along the transitions of
    /// [`FileStatus::can_become`] and only from the status it is in when the write lands.
    pub async fn change_status(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
        request: &StatusRequest,
    ) -> Result<FileRecord, DomainError> {
        retry_on_conflict(
            "the file kept changing; read it and retry",
            move || async move {
                let file = self.get(caller, id).await?;
                if !file.status.can_become(request.to) {
                    return Err(DomainError::conflict(
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
                    mismatch: None,
                };
                // A public file that fails stops being served by the CDN before it is
                // marked failed: a failure to untag fails the request (retry), and a
                // change that then does not happen puts the tag back.
                let unpublish = file.public
                    && request.to == FileStatus::Failed
                    && file.status != FileStatus::Pending;
                if unpublish {
                    self.objects().untag_public(&file.object_key()).await?;
                }
                let written = self.store().change_status(&file, &change, &event).await;
                if unpublish && written.is_err() {
                    self.objects().tag_public(&file.object_key()).await?;
                }
                match written {
                    Ok(updated) => {
                        if file.status == FileStatus::Pending {
                            // Bytes that were never verified are not kept (as with a failed
                            // finalize). The change has been made either way: a failed cleanup
                            // is logged, and finalize removes the object if it is ever called.
                            if let Err(e) = self.discard_unverified(&file).await {
                                tracing::warn!(
                                    error = %ErrorChain(&e),
                                    file = %file.id,
                                    "could not delete the object of a file failed while pending"
                                );
                            }
                        }
                        Ok(Attempt::Done(updated))
                    }
                    Err(ChangeStatusError::Conflict) => Ok(Attempt::Changed),
                    Err(ChangeStatusError::Storage(e)) => Err(e.into()),
                }
            },
        )
        .await
    }
}
