//! The upload path: declare files (one or a batch), hand out presigned PUTs, and finalize by
//! checking what actually landed in S3. Both the HTTP finalize and the S3-event finalizer call
//! [`Uploads::finalize`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{AuditAction, AuditEvent, RequestOrigin};
use crate::auth::{Actor, Caller};
use crate::config::UploadPolicy;
use crate::error::ApiError;
use crate::files::{
    ContentType, FileName, FileObject, FileRecord, FileSize, FileStatus, Parent, Sha256Checksum,
    SizeInput,
};
use crate::ids::{FileId, FolderId, OrgId};
use crate::objects::{ObjectHead, UploadTicket};
use crate::service::FileService;
use crate::store::{ChangeStatusError, CreateFilesError, StatusChange};
use crate::timestamp::Timestamp;

/// Most files one batch may declare.
pub const MAX_BATCH: usize = 10;

/// `POST /v1/files`: one file to upload.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFileRequest {
    /// 1–255 characters (NFC); no control characters, `/` or `\`; not `.` or `..`.
    #[schema(example = "Acme Co MSA.pdf")]
    pub name: String,
    /// `type/subtype`, optionally restricted by the deployment's allow-list.
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// Exact size in bytes, as a string or an integer: 1 to the deployment's maximum.
    pub size_bytes: SizeInput,
    /// SHA-256 of the bytes, base64 (or hex). When given, S3 and finalize both verify it.
    #[serde(default)]
    pub checksum_sha256: Option<String>,
    /// Folder id; absent or null is the root.
    #[serde(default)]
    pub folder: Option<String>,
    /// The entity in your own domain this file belongs to.
    #[serde(default)]
    pub parent: Option<Parent>,
    #[serde(default)]
    pub public: Option<bool>,
}

/// `POST /v1/files/batch`: 1–10 files, all accepted or none. `folder` and `parent` apply to
/// every entry that does not set its own.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFilesRequest {
    pub files: Vec<CreateFileRequest>,
    #[serde(default)]
    pub folder: Option<String>,
    #[serde(default)]
    pub parent: Option<Parent>,
}

/// A file with the instructions to upload its bytes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileUpload {
    #[serde(flatten)]
    pub file: FileObject,
    pub upload: UploadTicket,
}

/// The batch response: a list of files with their uploads, in request order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileUploadList {
    /// Always `list`.
    #[schema(example = "list")]
    pub object: &'static str,
    pub data: Vec<FileUpload>,
    /// Always false: every file of the batch is here.
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

impl FileUploadList {
    pub fn new(data: Vec<FileUpload>) -> Self {
        Self {
            object: "list",
            data,
            has_more: false,
            next_cursor: None,
        }
    }
}

/// A validated declaration: everything needed to create a pending file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileDeclaration {
    pub name: FileName,
    pub content_type: ContentType,
    pub size: FileSize,
    pub checksum: Option<Sha256Checksum>,
    pub folder: Option<FolderId>,
    pub parent: Option<Parent>,
    pub public: bool,
}

impl FileDeclaration {
    /// Checks one request against the policy; errors name the field (`name`, `parent.id`).
    pub fn parse(req: &CreateFileRequest, policy: &UploadPolicy) -> Result<Self, ApiError> {
        Ok(Self {
            name: FileName::parse(&req.name)?,
            content_type: ContentType::parse(&req.content_type, &policy.allowed_content_types)?,
            size: FileSize::parse(&req.size_bytes, policy.max_upload_bytes)?,
            checksum: req
                .checksum_sha256
                .as_deref()
                .map(Sha256Checksum::parse)
                .transpose()?,
            folder: parse_folder(req.folder.as_deref())?,
            parent: req
                .parent
                .as_ref()
                .map(|p| Parent::parse(&p.kind, &p.id))
                .transpose()?,
            public: req.public.unwrap_or(false),
        })
    }

    /// Checks a batch; the first bad entry rejects it with `param` like `files[3].name`.
    pub fn parse_batch(
        req: &CreateFilesRequest,
        policy: &UploadPolicy,
    ) -> Result<Vec<Self>, ApiError> {
        if req.files.is_empty() || req.files.len() > MAX_BATCH {
            return Err(ApiError::invalid(
                "invalid_batch_size",
                format!("files must hold 1 to {MAX_BATCH} entries"),
            )
            .with_param("files"));
        }
        let batch_folder = parse_folder(req.folder.as_deref())?;
        let batch_parent = req
            .parent
            .as_ref()
            .map(|p| Parent::parse(&p.kind, &p.id))
            .transpose()?;
        req.files
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let mut declaration =
                    Self::parse(entry, policy).map_err(|e| e.within(&format!("files[{i}]")))?;
                if entry.folder.is_none() {
                    declaration.folder = batch_folder;
                }
                if entry.parent.is_none() {
                    declaration.parent.clone_from(&batch_parent);
                }
                Ok(declaration)
            })
            .collect()
    }
}

fn parse_folder(raw: Option<&str>) -> Result<Option<FolderId>, ApiError> {
    crate::folders::parse_folder_ref(raw, "folder")
}

/// The component name finalize records when S3 events drive it.
pub const EVENT_FINALIZER: &str = "s3-event-finalizer";

impl FileService {
    /// Creates pending files and their presigned PUTs. Nothing is written unless every file
    /// is; URLs are signed first, as signing has no side effects.
    pub async fn initiate(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        declarations: Vec<FileDeclaration>,
    ) -> Result<Vec<FileUpload>, ApiError> {
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
                deleting_at: None,
            };
            let ticket = self
                .objects()
                .presign_upload(
                    &record.object_key(),
                    &record.content_type,
                    record.size_bytes,
                    record.checksum_sha256.as_ref(),
                    record.public,
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
                return Err(ApiError::not_found(
                    "folder_not_found",
                    format!("folder {folder} does not exist"),
                )
                .with_param(param));
            }
            Err(CreateFilesError::Storage(e)) => return Err(e.into()),
        }
        Ok(records
            .iter()
            .zip(tickets)
            .map(|(record, upload)| FileUpload {
                file: record.into(),
                upload,
            })
            .collect())
    }

    /// Checks the uploaded object against the declaration and moves the file on:
    /// `pending → uploaded` when it matches, `pending → failed` (object deleted) when it does
    /// not. Files already past `pending` come back unchanged, so replays and racing
    /// finalizers (HTTP and S3 event) are safe: the store lets exactly one transition happen.
    pub async fn finalize(
        &self,
        org: &OrgId,
        id: &FileId,
        actor: &Actor,
        origin: &RequestOrigin,
    ) -> Result<FileRecord, ApiError> {
        // A lost race re-reads and decides again; three rounds cover any real interleaving.
        for _ in 0..3 {
            let file = self.get(org, id).await?;
            match file.status {
                FileStatus::Pending => {}
                FileStatus::Failed => {
                    // A failed file's object is garbage; removing it again is harmless and
                    // repairs a crash between marking the file failed and deleting the object.
                    self.objects().delete(&file.object_key()).await?;
                    return Err(ApiError::conflict(
                        "file_failed",
                        format!(
                            "the file has failed and cannot be finalized: {}",
                            file.error_message
                                .as_deref()
                                .unwrap_or("no reason recorded")
                        ),
                    ));
                }
                FileStatus::Uploaded | FileStatus::Processing | FileStatus::Ready => {
                    return Ok(file);
                }
            }
            let key = file.object_key();
            let Some(head) = self.objects().head(&key).await? else {
                return Err(ApiError::conflict(
                    "upload_missing",
                    "no object has been uploaded for this file yet; PUT the bytes to the upload URL first",
                ));
            };
            let now = Timestamp::now();
            let outcome = match self.mismatch(&file, &head).await? {
                None => {
                    let event = AuditEvent::new(
                        org,
                        file.id,
                        AuditAction::FileUploaded,
                        actor,
                        origin,
                        now,
                    )
                    .with_detail("size_bytes", head.size.to_string())
                    .with_detail("etag", head.etag.clone().unwrap_or_default());
                    let change = StatusChange {
                        from: FileStatus::Pending,
                        to: FileStatus::Uploaded,
                        at: now,
                        error_message: None,
                    };
                    self.store()
                        .change_status(&file, &change, &event)
                        .await
                        .map(Ok)
                }
                Some(reason) => {
                    let event =
                        AuditEvent::new(org, file.id, AuditAction::FileFailed, actor, origin, now)
                            .with_detail("reason", reason.clone());
                    let change = StatusChange {
                        from: FileStatus::Pending,
                        to: FileStatus::Failed,
                        at: now,
                        error_message: Some(reason.clone()),
                    };
                    self.store()
                        .change_status(&file, &change, &event)
                        .await
                        .map(|_| Err(reason))
                }
            };
            match outcome {
                Ok(Ok(uploaded)) => return Ok(uploaded),
                Ok(Err(reason)) => {
                    // Marked failed first, then deleted: a crash in between leaves a failed
                    // file whose object the next finalize removes.
                    self.objects().delete(&key).await?;
                    return Err(ApiError::conflict("upload_mismatch", reason));
                }
                Err(ChangeStatusError::Conflict) => continue,
                Err(ChangeStatusError::Storage(e)) => return Err(e.into()),
            }
        }
        Err(ApiError::conflict(
            "concurrent_update",
            "the file kept changing while it was being finalized; retry",
        ))
    }

    /// Why the object does not match the declaration, if it does not.
    async fn mismatch(
        &self,
        file: &FileRecord,
        head: &ObjectHead,
    ) -> Result<Option<String>, ApiError> {
        let declared = file.size_bytes.bytes();
        if head.size != declared {
            return Ok(Some(format!(
                "the uploaded object is {} bytes but {declared} were declared",
                head.size
            )));
        }
        if let Some(got) = &head.content_type
            && got != file.content_type.as_str()
        {
            return Ok(Some(format!(
                "the object was uploaded as {got} but {} was declared",
                file.content_type.as_str()
            )));
        }
        if let Some(want) = &file.checksum_sha256 {
            // S3 keeps the checksum when the client sent the signed header; otherwise (an
            // emulator, or an S3-compatible store that ignores it) hash the object ourselves.
            let got = match &head.checksum_sha256 {
                Some(c) => c.clone(),
                None => self
                    .objects()
                    .sha256(&file.object_key())
                    .await?
                    .as_base64()
                    .to_owned(),
            };
            if got != want.as_base64() {
                return Ok(Some(format!(
                    "the uploaded object's SHA-256 is {got} but {} was declared",
                    want.as_base64()
                )));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Encryption;
    use crate::files::AllowedContentTypes;

    fn policy() -> UploadPolicy {
        UploadPolicy {
            max_upload_bytes: 1000,
            allowed_content_types: AllowedContentTypes::parse_list("application/pdf,image/*")
                .unwrap(),
            url_expiry_secs: 300,
            encryption: Encryption::S3Managed,
        }
    }

    fn entry(name: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "content_type": "application/pdf", "size_bytes": "10"})
    }

    fn batch(v: serde_json::Value) -> CreateFilesRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_batch_inherits_folder_and_parent_unless_an_entry_sets_its_own() {
        let own = FolderId::new();
        let shared = FolderId::new();
        let mut second = entry("b.pdf");
        second["folder"] = own.to_string().into();
        second["parent"] = serde_json::json!({"type": "agent", "id": "a1"});
        let req = batch(serde_json::json!({
            "files": [entry("a.pdf"), second],
            "folder": shared.to_string(),
            "parent": {"type": "knowledge", "id": "k1"}
        }));
        let d = FileDeclaration::parse_batch(&req, &policy()).unwrap();
        assert_eq!(d[0].folder, Some(shared));
        assert_eq!(d[0].parent.as_ref().unwrap().kind, "knowledge");
        assert_eq!(d[1].folder, Some(own));
        assert_eq!(d[1].parent.as_ref().unwrap().kind, "agent");
    }

    #[test]
    fn batch_errors_name_the_entry_and_field() {
        let mut files: Vec<_> = (0..5).map(|i| entry(&format!("{i}.pdf"))).collect();
        files[3]["name"] = "a/b".into();
        let e =
            FileDeclaration::parse_batch(&batch(serde_json::json!({ "files": files })), &policy())
                .unwrap_err();
        assert_eq!(
            (e.code(), e.param()),
            ("name_invalid_character", Some("files[3].name"))
        );

        files[3] = entry("ok.pdf");
        files[1]["size_bytes"] = "1001".into();
        let e =
            FileDeclaration::parse_batch(&batch(serde_json::json!({ "files": files })), &policy())
                .unwrap_err();
        assert_eq!(
            (e.code(), e.param()),
            ("file_too_large", Some("files[1].size_bytes"))
        );
    }

    #[test]
    fn batches_hold_one_to_ten_files() {
        for n in [0, 11] {
            let files: Vec<_> = (0..n).map(|i| entry(&format!("{i}.pdf"))).collect();
            let e = FileDeclaration::parse_batch(
                &batch(serde_json::json!({ "files": files })),
                &policy(),
            )
            .unwrap_err();
            assert_eq!(
                (e.code(), e.param()),
                ("invalid_batch_size", Some("files")),
                "{n}"
            );
        }
        let files: Vec<_> = (0..10).map(|i| entry(&format!("{i}.pdf"))).collect();
        assert_eq!(
            FileDeclaration::parse_batch(&batch(serde_json::json!({ "files": files })), &policy())
                .unwrap()
                .len(),
            10
        );
    }

    #[test]
    fn a_bad_folder_id_is_invalid_id_on_folder() {
        let mut e = entry("a.pdf");
        e["folder"] = "docs".into();
        let req: CreateFileRequest = serde_json::from_value(e).unwrap();
        let err = FileDeclaration::parse(&req, &policy()).unwrap_err();
        assert_eq!((err.code(), err.param()), ("invalid_id", Some("folder")));
    }
}
