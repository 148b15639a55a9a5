//! Finalize: check what actually landed in S3 against the declaration and move the file on.
//! The HTTP finalize and the S3-event finalizer ([`FileService::finalize_object`]) both run
//! [`FileService::finalize`].

use filegate_domain::audit::{AuditAction, AuditEvent, RequestOrigin};
use filegate_domain::file::MultipartUpload;
use filegate_domain::file::{FileRecord, FileStatus, UploadMismatch, parse_object_key};
use filegate_domain::ids::FileId;
use filegate_domain::multipart::{PartPlan, upload_incomplete};
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;
use filegate_domain::type_detection::{HEAD_BYTES, check_declared_type};
use filegate_domain::upload::EVENT_FINALIZER;
use filegate_domain::{DomainError, ErrorKind};
use filegate_store::metadata::{ChangeStatusError, StatusChange};
use filegate_store::objects::{Completion, ObjectHead, PUBLIC_TAG};

use crate::file_service::FileService;
use crate::retry::{Attempt, retry_on_conflict};

/// What the S3-event finalizer did with one created object.
#[derive(Debug)]
pub enum ObjectFinalized {
    /// Another bucket's, or a key filegate never makes: ignored.
    NotOurs,
    /// The file is past `pending` (now, or already).
    Finalized(Box<FileRecord>),
    /// Settled without an upload (missing, mismatched, already failed): nothing to retry.
    Settled(DomainError),
    /// No file will ever point at the object (deleted, or never declared): it was removed.
    OrphanDeleted,
    /// A transient failure: the event should be delivered again.
    Retry(DomainError),
}

/// What a finalize left.
#[derive(Debug)]
pub enum Finalized {
    /// The file is past `pending`: verified now, or before.
    Done(FileRecord),
    /// Everything is checked but the whole file's SHA-256, which would take this finalize
    /// longer than it may run: the file stays `pending`, and the finalize of the object's S3
    /// event (which may read it all) finishes the check.
    Verifying(FileRecord),
}

/// How many bytes one finalize may read to hash an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashBudget {
    /// A finalize inside a client's request: `FILEGATE_FINALIZE_HASH_MAX_BYTES`.
    Request,
    /// The S3-event finalizer, which has its function's whole timeout.
    Unbounded,
}

impl FileService {
    /// Checks the uploaded object against the declaration and moves the file on:
    /// `pending → uploaded` when it matches, `pending → failed` (object deleted) when it does
    /// not. Files already past `pending` come back unchanged, so replays and racing
    /// finalizers (HTTP and S3 event) are safe: the store lets exactly one transition happen.
    /// A multipart file is completed first.
    pub async fn finalize(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
        budget: HashBudget,
    ) -> Result<Finalized, DomainError> {
        retry_on_conflict(
            "the file kept changing while it was being finalized; retry",
            || self.try_finalize(caller, origin, id, budget),
        )
        .await
    }

    /// One round of [`FileService::finalize`]: `Changed` when the file moved on between the
    /// read and the write.
    async fn try_finalize(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
        budget: HashBudget,
    ) -> Result<Attempt<Finalized>, DomainError> {
        let (org, actor) = (&caller.org, &caller.actor);
        let file = self.get(caller, id).await?;
        match file.status {
            FileStatus::Pending => {}
            FileStatus::Failed => {
                // A file that failed while pending has unverified bytes: removing them again
                // is harmless and repairs a crash between marking it failed and deleting the
                // object. One that failed later (`processing → failed`) keeps its verified
                // bytes.
                if file.uploaded_at.is_none() {
                    self.discard_unverified(&file).await?;
                } else if file.public {
                    // Repairs a crash between marking it failed and taking the tag off.
                    self.objects().untag_public(&file.object_key()).await?;
                }
                let reason = file.error_message.clone().unwrap_or_default();
                if let Some(mismatch) = file.upload_mismatch {
                    // Failed by a finalize (this path or the other): the same answer again.
                    return Err(mismatch.error(reason));
                }
                return Err(DomainError::conflict(
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
                if file.public {
                    // Repairs a crash between marking it uploaded and tagging it.
                    self.publish(&file).await?;
                }
                return Ok(Attempt::Done(Finalized::Done(file)));
            }
        }
        let key = file.object_key();
        let mut head = self.objects().head(&key).await?;
        // Only a finalize in a request completes an upload: an S3 event means the object
        // exists, and one that no longer does is not to be rebuilt from parts.
        if let (None, Some(upload), HashBudget::Request) = (&head, &file.multipart, budget) {
            if self.complete_upload(&file, upload).await? == Completion::PartsChanged {
                return Ok(Attempt::Changed);
            }
            head = self.objects().head(&key).await?;
        }
        let Some(head) = head else {
            return Err(match file.multipart {
                None => DomainError::conflict(
                    "upload_missing",
                    "no object has been uploaded for this file yet; PUT the bytes to the upload URL first",
                ),
                Some(_) => DomainError::conflict(
                    "upload_missing",
                    "the multipart upload no longer exists (aborted); declare the file again",
                ),
            });
        };
        let now = Timestamp::now();
        let max_hashed = match budget {
            HashBudget::Request => self.policy().finalize_hash_max_bytes,
            HashBudget::Unbounded => u64::MAX,
        };
        let outcome = match self.mismatch(&file, &head, max_hashed).await? {
            Verdict::Unhashed => return Ok(Attempt::Done(Finalized::Verifying(file))),
            Verdict::Matches => {
                let event =
                    AuditEvent::new(org, file.id, AuditAction::FileUploaded, actor, origin, now)
                        .with_detail("size_bytes", head.size.to_string())
                        .with_detail("etag", head.etag.clone().unwrap_or_default());
                let change = StatusChange {
                    from: FileStatus::Pending,
                    to: FileStatus::Uploaded,
                    at: now,
                    error_message: None,
                    mismatch: None,
                };
                self.store()
                    .change_status(&file, &change, &event)
                    .await
                    .map(Ok)
            }
            Verdict::Mismatch(mismatch, reason) => {
                let event =
                    AuditEvent::new(org, file.id, AuditAction::FileFailed, actor, origin, now)
                        .with_detail("reason", reason.clone());
                let change = StatusChange {
                    from: FileStatus::Pending,
                    to: FileStatus::Failed,
                    at: now,
                    error_message: Some(reason.clone()),
                    mismatch: Some(mismatch),
                };
                self.store()
                    .change_status(&file, &change, &event)
                    .await
                    .map(|_| Err((mismatch, reason)))
            }
        };
        match outcome {
            Ok(Ok(uploaded)) => {
                // Tagged only once marked uploaded: a public file is never reachable through
                // the CDN while pending. A crash in between leaves it untagged (not served),
                // which the next finalize repairs.
                if uploaded.public {
                    self.publish(&uploaded).await?;
                }
                Ok(Attempt::Done(Finalized::Done(uploaded)))
            }
            Ok(Err((mismatch, reason))) => {
                // Marked failed first, then deleted: a crash in between leaves a failed
                // file whose object the next finalize removes.
                self.objects().delete(&key).await?;
                Err(mismatch.error(reason))
            }
            Err(ChangeStatusError::Conflict) => Ok(Attempt::Changed),
            Err(ChangeStatusError::Storage(e)) => Err(e.into()),
        }
    }

    /// The S3-event finalize policy for one created object of `bucket`: objects of other
    /// buckets or of a shape filegate never makes are not ours; an object whose file is gone
    /// (deleted, or never declared) is removed, as no row will ever point at it; a finalize
    /// that settled (finalized, missing, mismatched, failed) is done; anything else (storage
    /// throttled or down) is worth another delivery.
    pub async fn finalize_object(
        &self,
        origin: &RequestOrigin,
        bucket: &str,
        key: &str,
    ) -> ObjectFinalized {
        if bucket != self.objects().bucket() {
            return ObjectFinalized::NotOurs;
        }
        let Some((org, id)) = parse_object_key(key) else {
            return ObjectFinalized::NotOurs;
        };
        let caller = Caller::system(org, EVENT_FINALIZER);
        // Boxed: the SDK futures inside are large, and nesting them per record and per
        // message would make one enormous future type.
        match Box::pin(self.finalize(&caller, origin, &id, HashBudget::Unbounded)).await {
            Ok(Finalized::Done(file) | Finalized::Verifying(file)) => {
                ObjectFinalized::Finalized(Box::new(file))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => match self.objects().delete(key).await {
                Ok(()) => ObjectFinalized::OrphanDeleted,
                Err(e) => ObjectFinalized::Retry(e.into()),
            },
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Unavailable | ErrorKind::BadGateway | ErrorKind::Internal
                ) =>
            {
                ObjectFinalized::Retry(e)
            }
            Err(e) => ObjectFinalized::Settled(e),
        }
    }

    /// Tags a public file's object for the CDN, then reads the file again: a file that failed
    /// or went meanwhile (its untag may have run before this tag) is untagged again.
    async fn publish(&self, file: &FileRecord) -> Result<(), DomainError> {
        let key = file.object_key();
        self.objects().tag_public(&key).await?;
        let now = self.store().get_file(&file.org, &file.id).await?;
        let servable = now.is_some_and(|f| {
            f.deleting_at.is_none()
                && matches!(
                    f.status,
                    FileStatus::Uploaded | FileStatus::Processing | FileStatus::Ready
                )
        });
        if !servable {
            self.objects().untag_public(&key).await?;
        }
        Ok(())
    }

    /// Completes a multipart upload from the parts S3 reports, once every part 1…`part_count`
    /// is there with its exact length (else `409 upload_incomplete`, nothing changed). S3 not
    /// knowing the upload means a racing finalize completed it (the object is then there) or a
    /// delete aborted it (it is not): the caller looks at the object either way.
    async fn complete_upload(
        &self,
        file: &FileRecord,
        upload: &MultipartUpload,
    ) -> Result<Completion, DomainError> {
        let key = file.object_key();
        let Some(mut parts) = self.objects().all_parts(&key, &upload.upload_id).await? else {
            return Ok(Completion::NoSuchUpload);
        };
        let plan = PartPlan::of(file.size_bytes, upload);
        let missing = plan.missing(&parts);
        if !missing.is_empty() {
            return Err(upload_incomplete(&missing));
        }
        // Parts past the plan cannot have been signed by filegate: S3 discards them.
        parts.retain(|p| p.number <= plan.part_count);
        Ok(self
            .objects()
            .complete_multipart_upload(&key, &upload.upload_id, &parts)
            .await?)
    }

    /// Whether the object matches the declaration, and why not when it does not.
    async fn mismatch(
        &self,
        file: &FileRecord,
        head: &ObjectHead,
        max_hashed: u64,
    ) -> Result<Verdict, DomainError> {
        let declared = file.size_bytes.bytes();
        if head.size != declared {
            return Ok(Verdict::Mismatch(
                UploadMismatch::Size,
                format!(
                    "the uploaded object is {} bytes but {declared} were declared",
                    head.size
                ),
            ));
        }
        if let Some(got) = &head.content_type
            && got != file.content_type.as_str()
        {
            return Ok(Verdict::Mismatch(
                UploadMismatch::ContentType,
                format!(
                    "the object was uploaded as {got} but {} was declared",
                    file.content_type.as_str()
                ),
            ));
        }
        // Only finalize tags, and only with the public tag; other tags (a malware scanner's)
        // are not the uploader's doing, as uploads cannot tag (see the template).
        if head.tag_count > 0
            && self
                .objects()
                .tags(&file.object_key())
                .await?
                .iter()
                .any(|(k, _)| k == PUBLIC_TAG.0)
        {
            return Ok(Verdict::Mismatch(
                UploadMismatch::UnsignedHeader,
                format!(
                    "the object was stored with the tag {}, which only finalize sets",
                    PUBLIC_TAG.0
                ),
            ));
        }
        if let Some(header) = head.stored_headers.first() {
            // Nothing beyond what the URL signed: a `Content-Encoding` would make browsers
            // decode the bytes into something finalize never saw, a `Cache-Control` would
            // keep them cached after delete, a tag could publish a private file.
            return Ok(Verdict::Mismatch(
                UploadMismatch::UnsignedHeader,
                format!(
                    "the object was stored with {header}, which the upload URL did not sign; upload with exactly the headers it lists"
                ),
            ));
        }
        let Some(head_bytes) = self
            .objects()
            .first_bytes(&file.object_key(), HEAD_BYTES)
            .await?
        else {
            return Err(DomainError::conflict(
                "upload_missing",
                "the uploaded object disappeared while it was being checked; upload it again",
            ));
        };
        if let Err(message) = check_declared_type(&file.content_type, &head_bytes) {
            return Ok(Verdict::Mismatch(UploadMismatch::DetectedType, message));
        }
        if let Some(want) = &file.checksum_sha256 {
            // S3 keeps the checksum when the client sent the signed header; otherwise (an
            // emulator, or an S3-compatible store that ignores it) hash the object ourselves.
            // A multipart object's checksum is S3's digest of its parts' digests, never the
            // whole file's SHA-256: the object is read once, here.
            let stored = head
                .checksum_sha256
                .as_ref()
                .filter(|_| file.multipart.is_none());
            let got = match stored {
                Some(c) => c.clone(),
                None if head.size > max_hashed => return Ok(Verdict::Unhashed),
                None => self
                    .objects()
                    .sha256(&file.object_key())
                    .await?
                    .as_base64()
                    .to_owned(),
            };
            if got != want.as_base64() {
                return Ok(Verdict::Mismatch(
                    UploadMismatch::Checksum,
                    format!(
                        "the uploaded object's SHA-256 is {got} but {} was declared",
                        want.as_base64()
                    ),
                ));
            }
        }
        Ok(Verdict::Matches)
    }
}

/// What [`FileService::mismatch`] found.
enum Verdict {
    Matches,
    Mismatch(UploadMismatch, String),
    /// Everything but the SHA-256 matches, and the object is too large to hash within budget.
    Unhashed,
}
