//! Deleting a file: its object and its row, in an order that never loses track of either.

use filegate_domain::DomainError;
use filegate_domain::audit::{AuditAction, AuditEvent, RequestOrigin};
use filegate_domain::file::{FileRecord, file_not_found};
use filegate_domain::ids::FileId;
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;
use filegate_store::StorageError;
use filegate_store::metadata::ChangeStatusError;

use crate::file_service::FileService;

impl FileService {
    /// Deletes a file's object and metadata, in an order that never leaves a row pointing at
    /// a missing object as if it were there, nor an object without a row:
    ///
    /// 1. mark the row `deleting_at` (from then on it reads as deleted and cannot change),
    /// 2. delete the object (and abort the multipart upload of a file never uploaded),
    /// 3. delete the row and write `file.deleted` in one transaction.
    ///
    /// A crash between steps leaves a marked row, which a retry of the same DELETE finishes.
    pub async fn delete(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
    ) -> Result<(), DomainError> {
        let file = match self
            .store()
            .mark_deleting(&caller.org, id, Timestamp::now())
            .await
        {
            Ok(file) => file,
            Err(ChangeStatusError::Conflict) => return Err(file_not_found(id)),
            Err(ChangeStatusError::Storage(e)) => return Err(e.into()),
        };
        self.finish_removal(caller, origin, &file).await
    }

    /// Steps 2 and 3 of a removal whose row is marked: the object, then the row with its
    /// audit row (`file.expired` for what the sweeper expired, else `file.deleted`).
    pub(crate) async fn finish_removal(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        file: &FileRecord,
    ) -> Result<(), DomainError> {
        if file.uploaded_at.is_none() {
            self.discard_unverified(file).await?;
        } else {
            self.objects().delete(&file.object_key()).await?;
        }
        let action = if file.expired_at.is_some() {
            AuditAction::FileExpired
        } else {
            AuditAction::FileDeleted
        };
        let event = AuditEvent::new(
            &caller.org,
            file.id,
            action,
            &caller.actor,
            origin,
            Timestamp::now(),
        )
        .with_detail("name", file.name.as_str())
        .with_detail("status", file.status.as_str());
        match self.store().remove_file(file, &event).await {
            // A concurrent removal of the same file finished first: it is gone either way.
            Ok(()) | Err(ChangeStatusError::Conflict) => Ok(()),
            Err(ChangeStatusError::Storage(e)) => Err(e.into()),
        }
    }

    /// Removes what a file that never became `uploaded` may have in S3: the parts of its
    /// multipart upload (aborted, so none stay billed) and the object. Safe to repeat.
    pub(crate) async fn discard_unverified(&self, file: &FileRecord) -> Result<(), StorageError> {
        let key = file.object_key();
        if let Some(upload) = &file.multipart {
            self.objects()
                .abort_multipart_upload(&key, &upload.upload_id)
                .await?;
        }
        self.objects().delete(&key).await
    }
}
