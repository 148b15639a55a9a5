//! Declaring uploads: pending files and their presigned PUTs, one or a batch, all or nothing.

use filegate_domain::DomainError;
use filegate_domain::audit::{AuditAction, AuditEvent, RequestOrigin};
use filegate_domain::file::{FileRecord, FileStatus};
use filegate_domain::ids::FileId;
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;
use filegate_domain::upload::{FileDeclaration, UploadTicket};
use filegate_store::metadata::CreateFilesError;

use crate::file_service::FileService;

impl FileService {
    /// Creates pending files and their presigned PUTs. Nothing is written unless every file
    /// is; URLs are signed first, as signing has no side effects.
    pub async fn initiate(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        declarations: Vec<FileDeclaration>,
    ) -> Result<Vec<(FileRecord, UploadTicket)>, DomainError> {
        let now = Timestamp::now();
        let expires_in = self.policy().url_expiry_secs;
        let mut records = Vec::with_capacity(declarations.len());
        let mut tickets = Vec::with_capacity(declarations.len());
        let mut events = Vec::with_capacity(declarations.len());
        for d in declarations {
            let record = FileRecord {
                id: FileId::new(),
                org: caller.org.clone(),
                name: d.name,
                content_type: d.content_type,
                size_bytes: d.size,
                checksum_sha256: d.checksum,
                status: FileStatus::Pending,
                folder: d.folder,
                parent: d.parent,
                public: d.public,
                error_message: None,
                uploaded_by: caller.actor.clone(),
                created_at: now,
                updated_at: now,
                uploaded_at: None,
                upload_mismatch: None,
                deleting_at: None,
                expired_at: None,
            };
            let ticket = self
                .objects()
                .presign_upload(
                    &record.object_key(),
                    &record.content_type,
                    record.size_bytes,
                    record.checksum_sha256.as_ref(),
                    expires_in,
                    now,
                )
                .await?;
            events.push(
                AuditEvent::new(
                    &record.org,
                    record.id,
                    AuditAction::FileCreated,
                    &caller.actor,
                    origin,
                    now,
                )
                .with_detail("name", record.name.as_str())
                .with_detail("size_bytes", record.size_bytes.bytes().to_string()),
            );
            records.push(record);
            tickets.push(ticket);
        }
        match self
            .store()
            .create_files(&records, &events, now.plus_seconds(expires_in))
            .await
        {
            Ok(()) => {}
            Err(CreateFilesError::FolderNotFound(folder)) => {
                // Name the first entry that goes into the missing folder, as validation does.
                let param = match records.iter().position(|r| r.folder == Some(folder)) {
                    Some(i) if records.len() > 1 => format!("files[{i}].folder"),
                    _ => "folder".to_owned(),
                };
                return Err(DomainError::not_found(
                    "folder_not_found",
                    format!("folder {folder} does not exist"),
                )
                .with_param(param));
            }
            Err(CreateFilesError::Storage(e)) => return Err(e.into()),
        }
        Ok(records.into_iter().zip(tickets).collect())
    }
}
