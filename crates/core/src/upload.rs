//! Declaring uploads: pending files and their presigned PUTs or multipart uploads, one or a
//! batch, all or nothing.

use filegate_domain::DomainError;
use filegate_domain::audit::{AuditAction, AuditEvent, RequestOrigin};
use filegate_domain::error::ErrorChain;
use filegate_domain::file::MultipartUpload;
use filegate_domain::file::{FileRecord, FileStatus};
use filegate_domain::ids::FileId;
use filegate_domain::multipart::{MultipartTicket, PartPlan};
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;
use filegate_domain::upload::{FileDeclaration, UploadTicket};
use filegate_store::metadata::CreateFilesError;

use crate::file_service::FileService;

impl FileService {
    /// Creates pending files with their upload instructions: a presigned PUT, or for large
    /// files (and those declared `multipart`) an S3 multipart upload whose parts are signed on
    /// request. Nothing is written unless every file is. PUTs are signed first, as signing has
    /// no side effects; multipart uploads are created first too, and aborted again when the
    /// files cannot be written (the bucket's lifecycle rule catches what a crash leaves).
    pub async fn initiate(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        declarations: Vec<FileDeclaration>,
    ) -> Result<Vec<(FileRecord, UploadTicket)>, DomainError> {
        let now = Timestamp::now();
        let mut records = Vec::with_capacity(declarations.len());
        let mut tickets = Vec::with_capacity(declarations.len());
        let mut events = Vec::with_capacity(declarations.len());
        for d in declarations {
            let multipart = self.policy().uses_multipart(&d);
            let mut record = FileRecord {
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
                multipart: None,
            };
            let ticket = match multipart {
                true => match self.create_upload(&record, now).await {
                    Ok(upload) => {
                        let ticket = UploadTicket::Multipart(MultipartTicket::new(&upload));
                        record.multipart = Some(upload);
                        ticket
                    }
                    Err(e) => {
                        self.abort_uploads(&records).await;
                        return Err(e);
                    }
                },
                false => {
                    let signed = self
                        .objects()
                        .presign_upload(
                            &record.object_key(),
                            &record.content_type,
                            record.size_bytes,
                            record.checksum_sha256.as_ref(),
                            self.policy().url_expiry_secs,
                            now,
                        )
                        .await;
                    match signed {
                        Ok(ticket) => UploadTicket::Put(ticket),
                        Err(e) => {
                            self.abort_uploads(&records).await;
                            return Err(e.into());
                        }
                    }
                }
            };
            let mut event = AuditEvent::new(
                &record.org,
                record.id,
                AuditAction::FileCreated,
                &caller.actor,
                origin,
                now,
            )
            .with_detail("name", record.name.as_str())
            .with_detail("size_bytes", record.size_bytes.bytes().to_string());
            if let Some(upload) = &record.multipart {
                event = event.with_detail("part_count", upload.part_count);
            }
            events.push(event);
            records.push(record);
            tickets.push(ticket);
        }
        let url_expires_at = now.plus_seconds(self.policy().url_expiry_secs);
        let written = self
            .store()
            .create_files(&records, &events, url_expires_at)
            .await;
        if written.is_err() {
            self.abort_uploads(&records).await;
        }
        match written {
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

    /// Starts the S3 multipart upload of a file about to be declared, cut as
    /// [`PartPlan::for_size`] says.
    async fn create_upload(
        &self,
        record: &FileRecord,
        now: Timestamp,
    ) -> Result<MultipartUpload, DomainError> {
        let plan = PartPlan::for_size(record.size_bytes);
        let part_checksums = record.checksum_sha256.is_some();
        let upload_id = self
            .objects()
            .create_multipart_upload(&record.object_key(), &record.content_type, part_checksums)
            .await?;
        Ok(MultipartUpload {
            upload_id,
            part_size: plan.part_size,
            part_count: plan.part_count,
            part_checksums,
            expires_at: now.plus_seconds(self.policy().multipart_expiry_secs),
        })
    }

    /// Aborts the uploads of files that were never written. Best effort: the bucket's
    /// lifecycle rule aborts what this cannot.
    async fn abort_uploads(&self, records: &[FileRecord]) {
        for record in records {
            if let Some(upload) = &record.multipart
                && let Err(e) = self
                    .objects()
                    .abort_multipart_upload(&record.object_key(), &upload.upload_id)
                    .await
            {
                tracing::warn!(error = %ErrorChain(&e), file = %record.id, "could not abort the multipart upload of a file that was not declared");
            }
        }
    }
}
