//! The bucket: presigned uploads, and what finalize needs to check an upload.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, ServerSideEncryption,
    Tag, Tagging,
};
use bytes::Bytes;
use filegate_domain::byte_range::ByteRange;
use filegate_domain::file::{ContentType, FileSize, Sha256Checksum};
use filegate_domain::multipart::{HeldPart, PartNumber, PartTicket};
use filegate_domain::timestamp::Timestamp;
use filegate_domain::upload::PutTicket;
use http_body_util::BodyExt as _;
use http_body_util::combinators::BoxBody;
use sha2::{Digest, Sha256};

use crate::config::Encryption;
use crate::error::{BoxError, StorageError, StorageOperation};

/// The object tag of `public` files (key and value). A CDN in front of the bucket
/// (`FILEGATE_PUBLIC_BASE_URL`) is granted `s3:GetObject` only on objects with this tag
/// (bucket policy condition `s3:ExistingObjectTag/filegate-public`), so knowing a private
/// file's key gets nothing from it. Finalize puts it on once the bytes are verified; it comes
/// off when the file fails and goes with the object when the file is deleted.
pub const PUBLIC_TAG: (&str, &str) = ("filegate-public", "true");

/// What S3 says about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    pub size: u64,
    pub content_type: Option<String>,
    /// Full-object SHA-256 when S3 has one (it does when the upload sent the checksum header).
    pub checksum_sha256: Option<String>,
    pub etag: Option<String>,
    /// The headers and metadata S3 stored beyond type, length, encryption and checksum
    /// (lowercase names: `content-encoding`, `cache-control`, `x-amz-meta-…`), none of
    /// which filegate signs.
    pub stored_headers: Vec<String>,
    /// How many tags the object has (S3 tells only a caller that may read them).
    pub tag_count: u32,
}

/// What GetObject found.
#[derive(Debug)]
pub enum ObjectRead {
    Found(Box<ObjectBody>),
    Missing,
    /// The range starts past the end of the object.
    RangeNotSatisfiable,
}

/// An object (or the requested range of it) whose body has not been read yet.
#[derive(Debug)]
pub struct ObjectBody {
    /// Bytes in `body`: the range's length for a range request.
    pub content_length: Option<u64>,
    /// `bytes first-last/total`, for a range request.
    pub content_range: Option<String>,
    pub etag: Option<String>,
    /// As an HTTP date.
    pub last_modified: Option<String>,
    /// The bytes, read only as the caller polls them; dropping it closes S3's connection.
    pub body: ObjectStream,
}

/// An object's bytes on their way from S3, as an `http_body` body.
pub type ObjectStream = BoxBody<Bytes, BoxError>;

#[derive(Debug, Clone)]
pub struct ObjectStore {
    client: Client,
    bucket: String,
    encryption: Encryption,
}

impl ObjectStore {
    pub fn new(client: Client, bucket: impl Into<String>, encryption: Encryption) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            encryption,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// A presigned PUT whose signature binds the content type, length, encryption, write-once
    /// (`If-None-Match: *`) and, when declared, the SHA-256: S3 refuses a PUT whose headers
    /// differ, and with the checksum header S3 itself refuses bytes that do not hash to it.
    /// It carries no tag: a public file is tagged at finalize, once its bytes are verified.
    pub async fn presign_upload(
        &self,
        key: &str,
        content_type: &ContentType,
        size: FileSize,
        checksum: Option<&Sha256Checksum>,
        expires_in: u64,
        now: Timestamp,
    ) -> Result<PutTicket, StorageError> {
        let op = StorageOperation::PresignUpload;
        let (sse, kms_key) = sse_of(&self.encryption);
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type.as_str())
            .content_length(i64::try_from(size.bytes()).unwrap_or(i64::MAX))
            // Write-once: the URL cannot replace bytes that finalize has already verified.
            .if_none_match("*")
            .server_side_encryption(sse)
            .set_ssekms_key_id(kms_key);
        // aws-sdk-rust#1103 reported that the presigner dropped this header; with the SDK
        // version pinned here it is signed, which
        // `tests::upload_signature_binds_type_length_encryption_and_checksum` guards. Finalize
        // verifies the checksum as well, for stores that ignore the header (emulators).
        if let Some(checksum) = checksum {
            request = request.checksum_sha256(checksum.as_base64());
        }
        let presigned = request
            .presigned(presigning(op, now, expires_in)?)
            .await
            .map_err(|e| StorageError::new(op, e))?;
        Ok(PutTicket {
            method: "PUT".to_owned(),
            url: presigned.uri().to_owned(),
            headers: headers_to_send(&presigned, size.bytes()),
            expires_in,
            expires_at: now.plus_seconds(expires_in),
        })
    }

    /// Starts a multipart upload with the type, encryption and checksum algorithm bound (the
    /// parts cannot change them); returns its upload id. With `part_checksums`, SHA-256: S3
    /// then refuses a part sent without its SHA-256 or with bytes that do not hash to it, and
    /// completing needs every part's. Without, S3 refuses a part that carries a checksum.
    pub async fn create_multipart_upload(
        &self,
        key: &str,
        content_type: &ContentType,
        part_checksums: bool,
    ) -> Result<String, StorageError> {
        let op = StorageOperation::CreateMultipartUpload;
        let (sse, kms_key) = sse_of(&self.encryption);
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type.as_str())
            .server_side_encryption(sse)
            .set_ssekms_key_id(kms_key)
            .set_checksum_algorithm(part_checksums.then_some(ChecksumAlgorithm::Sha256))
            .send()
            .await
            .map_err(|e| StorageError::new(op, e))?;
        out.upload_id
            .ok_or_else(|| StorageError::other(op, "S3 returned no upload id"))
    }

    /// A presigned `UploadPart` whose signature binds the part's exact length and, when given,
    /// its SHA-256.
    #[allow(clippy::too_many_arguments)]
    pub async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        number: PartNumber,
        length: u64,
        checksum: Option<&Sha256Checksum>,
        expires_in: u64,
        now: Timestamp,
    ) -> Result<PartTicket, StorageError> {
        let op = StorageOperation::PresignPart;
        let presigned = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(i32::try_from(number.get()).unwrap_or(i32::MAX))
            .content_length(i64::try_from(length).unwrap_or(i64::MAX))
            .set_checksum_sha256(checksum.map(|c| c.as_base64().to_owned()))
            .presigned(presigning(op, now, expires_in)?)
            .await
            .map_err(|e| StorageError::new(op, e))?;
        Ok(PartTicket {
            object: "upload_part".to_owned(),
            part_number: number.get(),
            method: "PUT".to_owned(),
            url: presigned.uri().to_owned(),
            headers: headers_to_send(&presigned, length),
            expires_in,
            expires_at: now.plus_seconds(expires_in),
        })
    }

    /// One page of the parts S3 holds for an upload, after part number `after`; `None` when
    /// S3 knows no such upload (completed or aborted).
    pub async fn list_parts(
        &self,
        key: &str,
        upload_id: &str,
        after: Option<u32>,
        limit: u32,
    ) -> Result<Option<PartsPage>, StorageError> {
        let op = StorageOperation::ListParts;
        let result = self
            .client
            .list_parts()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .set_part_number_marker(after.map(|n| n.to_string()))
            .max_parts(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) if is_no_such_upload(&e) => return Ok(None),
            Err(e) => return Err(StorageError::new(op, e)),
        };
        let parts: Vec<HeldPart> = out
            .parts()
            .iter()
            .map(|p| HeldPart {
                number: p
                    .part_number()
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                size: p.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                etag: p.e_tag().unwrap_or_default().to_owned(),
                checksum_sha256: p.checksum_sha256().map(str::to_owned),
            })
            .collect();
        let next = match out.is_truncated() {
            Some(true) => out
                .next_part_number_marker()
                .and_then(|m| m.parse().ok())
                .or_else(|| parts.last().map(|p| p.number)),
            _ => None,
        };
        Ok(Some(PartsPage { parts, next }))
    }

    /// Every part S3 holds for an upload, in order; `None` when S3 knows no such upload.
    pub async fn all_parts(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<Vec<HeldPart>>, StorageError> {
        let mut parts = Vec::new();
        let mut after = None;
        loop {
            let Some(page) = self.list_parts(key, upload_id, after, 1000).await? else {
                return Ok(None);
            };
            parts.extend(page.parts);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(Some(parts)),
            }
        }
    }

    /// Completes an upload from `parts` (as S3 listed them: its own ETags and checksums, never
    /// the client's).
    pub async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[HeldPart],
    ) -> Result<Completion, StorageError> {
        let op = StorageOperation::CompleteMultipartUpload;
        let completed = parts
            .iter()
            .map(|p| {
                CompletedPart::builder()
                    .part_number(i32::try_from(p.number).unwrap_or(i32::MAX))
                    .e_tag(&p.etag)
                    .set_checksum_sha256(p.checksum_sha256.clone())
                    .build()
            })
            .collect();
        let result = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(Completion::Completed),
            Err(e) if is_no_such_upload(&e) => Ok(Completion::NoSuchUpload),
            Err(e)
                if matches!(
                    e.as_service_error().and_then(|s| s.code()),
                    Some("InvalidPart" | "InvalidPartOrder" | "EntityTooSmall")
                ) =>
            {
                Ok(Completion::PartsChanged)
            }
            Err(e) => Err(StorageError::new(op, e)),
        }
    }

    /// Aborts an upload and frees its parts; an upload S3 no longer knows (completed or
    /// aborted before) is fine, so retries are safe.
    pub async fn abort_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        let result = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_no_such_upload(&e) => Ok(()),
            Err(e) => Err(StorageError::new(StorageOperation::AbortMultipartUpload, e)),
        }
    }

    /// A presigned GET whose response carries `content_type` and `content_disposition`
    /// instead of what the object was stored with (both are part of the signature).
    pub async fn presign_download(
        &self,
        key: &str,
        content_type: &ContentType,
        content_disposition: &str,
        expires_in: u64,
        now: Timestamp,
    ) -> Result<String, StorageError> {
        let op = StorageOperation::PresignDownload;
        let config = presigning(op, now, expires_in)?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_type(content_type.as_str())
            .response_content_disposition(content_disposition)
            .presigned(config)
            .await
            .map_err(|e| StorageError::new(op, e))?;
        Ok(presigned.uri().to_owned())
    }

    /// HeadObject with checksum mode on; `None` when there is no such object.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StorageError> {
        let result = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Some(ObjectHead {
                stored_headers: stored_headers(&out),
                tag_count: out
                    .tag_count()
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                size: out
                    .content_length
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: out.content_type,
                // Multipart objects carry a composite checksum (`…-N`), which is not the
                // SHA-256 of the whole object.
                checksum_sha256: out.checksum_sha256.filter(|c| !c.contains('-')),
                etag: out.e_tag,
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(StorageError::new(StorageOperation::HeadObject, e)),
        }
    }

    /// The object's first `n` bytes (fewer when it is shorter); `None` when it is missing.
    pub async fn first_bytes(&self, key: &str, n: u64) -> Result<Option<Bytes>, StorageError> {
        let op = StorageOperation::ReadObject;
        let range = ByteRange::From {
            first: 0,
            last: Some(n.saturating_sub(1)),
        };
        let ObjectRead::Found(object) = self.open(key, Some(range)).await? else {
            return Ok(None);
        };
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| StorageError::other(op, e))?
            .to_bytes();
        // A store that ignores `Range` sends the whole object: keep only what was asked for.
        Ok(Some(bytes.slice(
            ..bytes.len().min(usize::try_from(n).unwrap_or(usize::MAX)),
        )))
    }

    /// The object's tags; none for a missing object.
    pub async fn tags(&self, key: &str) -> Result<Vec<(String, String)>, StorageError> {
        let result = self
            .client
            .get_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()),
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchKey") => {
                Ok(Vec::new())
            }
            Err(e) => Err(StorageError::new(StorageOperation::TagObject, e)),
        }
    }

    /// Adds [`PUBLIC_TAG`] to the object's tags (others, a malware scanner's say, are kept);
    /// a missing object is left alone, as there is then nothing to publish.
    pub async fn tag_public(&self, key: &str) -> Result<(), StorageError> {
        let mut tags = self.tags(key).await?;
        if tags.iter().any(|(k, _)| k == PUBLIC_TAG.0) {
            return Ok(());
        }
        tags.push((PUBLIC_TAG.0.to_owned(), PUBLIC_TAG.1.to_owned()));
        self.put_tags(key, tags).await
    }

    /// Removes [`PUBLIC_TAG`] (and only it), so a CDN no longer serves the object.
    pub async fn untag_public(&self, key: &str) -> Result<(), StorageError> {
        let tags = self.tags(key).await?;
        if !tags.iter().any(|(k, _)| k == PUBLIC_TAG.0) {
            return Ok(());
        }
        let others: Vec<_> = tags
            .into_iter()
            .filter(|(k, _)| k != PUBLIC_TAG.0)
            .collect();
        if !others.is_empty() {
            return self.put_tags(key, others).await;
        }
        let result = self
            .client
            .delete_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchKey") => Ok(()),
            Err(e) => Err(StorageError::new(StorageOperation::TagObject, e)),
        }
    }

    /// Replaces the object's tag set; a missing object is left alone.
    async fn put_tags(&self, key: &str, tags: Vec<(String, String)>) -> Result<(), StorageError> {
        let op = StorageOperation::TagObject;
        let tag_set = tags
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StorageError::other(op, e))?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(tag_set))
            .build()
            .map_err(|e| StorageError::other(op, e))?;
        let result = self
            .client
            .put_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .tagging(tagging)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchKey") => Ok(()),
            Err(e) => Err(StorageError::new(op, e)),
        }
    }

    /// Streams the object through SHA-256 without holding it in memory.
    pub async fn sha256(&self, key: &str) -> Result<Sha256Checksum, StorageError> {
        let op = StorageOperation::ReadObject;
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| StorageError::new(op, e))?;
        let mut body = out.body;
        let mut hasher = Sha256::new();
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| StorageError::other(op, e))?
        {
            hasher.update(&chunk);
        }
        Ok(Sha256Checksum::from_digest(&hasher.finalize()))
    }

    /// GetObject, optionally of one byte range, returned as soon as S3 has sent the headers:
    /// the body is still on the wire and is read only as the caller forwards it.
    pub async fn open(
        &self,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<ObjectRead, StorageError> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_range(range.map(|r| r.header_value()))
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Ok(ObjectRead::Missing);
            }
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("InvalidRange") => {
                return Ok(ObjectRead::RangeNotSatisfiable);
            }
            Err(e) => return Err(StorageError::new(StorageOperation::ReadObject, e)),
        };
        Ok(ObjectRead::Found(Box::new(ObjectBody {
            content_length: out.content_length.and_then(|n| u64::try_from(n).ok()),
            content_range: out.content_range,
            etag: out.e_tag,
            last_modified: out
                .last_modified
                .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::HttpDate).ok()),
            body: BoxBody::new(out.body.into_inner().map_err(BoxError::from)),
        })))
    }

    /// Deletes an object; deleting a missing object succeeds, so retries are safe.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| StorageError::new(StorageOperation::DeleteObject, e))?;
        Ok(())
    }
}

/// What [`ObjectStore::complete_multipart_upload`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Completed,
    /// S3 knows no such upload: completed before, or aborted.
    NoSuchUpload,
    /// S3 refused the parts as listed: one was uploaded again in between.
    PartsChanged,
}

/// One page of [`ObjectStore::list_parts`].
#[derive(Debug, Clone)]
pub struct PartsPage {
    pub parts: Vec<HeldPart>,
    /// The part number the next page starts after; `None` on the last page.
    pub next: Option<u32>,
}

/// The encryption every write asks for: SSE-S3, or SSE-KMS with the configured key.
fn sse_of(encryption: &Encryption) -> (ServerSideEncryption, Option<String>) {
    match encryption {
        Encryption::S3Managed => (ServerSideEncryption::Aes256, None),
        Encryption::Kms { key_id } => (ServerSideEncryption::AwsKms, key_id.clone()),
    }
}

fn presigning(
    op: StorageOperation,
    now: Timestamp,
    expires_in: u64,
) -> Result<PresigningConfig, StorageError> {
    PresigningConfig::builder()
        .start_time(now.into())
        .expires_in(Duration::from_secs(expires_in))
        .build()
        .map_err(|e| StorageError::other(op, e))
}

/// The headers a presigned request must be sent with (lowercase), with its exact length.
fn headers_to_send(presigned: &PresignedRequest, length: u64) -> BTreeMap<String, String> {
    let mut headers: BTreeMap<String, String> = presigned
        .headers()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    headers.insert("content-length".into(), length.to_string());
    headers
}

fn is_no_such_upload<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(
    e: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("NoSuchUpload")
}

/// What of `out` filegate never signs, by header name.
fn stored_headers(out: &HeadObjectOutput) -> Vec<String> {
    let representation = [
        ("cache-control", out.cache_control()),
        ("content-disposition", out.content_disposition()),
        ("content-encoding", out.content_encoding()),
        ("content-language", out.content_language()),
        ("expires", out.expires_string()),
        (
            "x-amz-website-redirect-location",
            out.website_redirect_location(),
        ),
    ];
    let mut names: Vec<String> = representation
        .into_iter()
        .filter(|(_, value)| value.is_some_and(|v| !v.is_empty()))
        .map(|(name, _)| name.to_owned())
        .collect();
    let mut metadata: Vec<String> = out
        .metadata()
        .into_iter()
        .flatten()
        .map(|(k, _)| format!("x-amz-meta-{}", k.to_ascii_lowercase()))
        .collect();
    metadata.sort();
    names.extend(metadata);
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    use filegate_domain::file::AllowedContentTypes;

    fn store(encryption: Encryption) -> ObjectStore {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::for_tests())
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .build();
        ObjectStore::new(Client::from_conf(config), "filegate-test", encryption)
    }

    fn signed_headers(url: &str) -> Vec<String> {
        let query = url.split_once('?').unwrap().1;
        let value = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("X-Amz-SignedHeaders="))
            .expect("SigV4 query parameters");
        percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .unwrap()
            .split(';')
            .map(str::to_owned)
            .collect()
    }

    #[tokio::test]
    async fn upload_signature_binds_type_length_encryption_and_checksum() {
        let ct = ContentType::parse("application/pdf", &AllowedContentTypes::any()).unwrap();
        let size = FileSize::parse("1228800", u64::MAX).unwrap();
        let sum = Sha256Checksum::parse("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=").unwrap();
        let now = Timestamp::now();
        let ticket = store(Encryption::S3Managed)
            .presign_upload("acme/file_x", &ct, size, Some(&sum), 300, now)
            .await
            .unwrap();
        let signed = signed_headers(&ticket.url);
        for h in [
            "content-length",
            "content-type",
            "host",
            "if-none-match",
            "x-amz-checksum-sha256",
            "x-amz-server-side-encryption",
        ] {
            assert!(signed.contains(&h.to_owned()), "{h} not signed: {signed:?}");
        }
        assert_eq!(ticket.headers["content-type"], "application/pdf");
        assert_eq!(ticket.headers["content-length"], "1228800");
        assert_eq!(ticket.headers["x-amz-server-side-encryption"], "AES256");
        assert_eq!(ticket.headers["if-none-match"], "*");
        assert_eq!(ticket.headers["x-amz-checksum-sha256"], sum.as_base64());
        assert!(
            !ticket.headers.contains_key("x-amz-tagging"),
            "uploads are untagged: a public file is tagged at finalize"
        );
        assert!(ticket.url.contains("X-Amz-Expires=300"), "{}", ticket.url);
        assert_eq!(ticket.expires_at, now.plus_seconds(300));
        // Every header the client is told to send is one the signature covers.
        for name in ticket.headers.keys() {
            assert!(signed.contains(name), "{name} is sent but not signed");
        }
    }

    #[tokio::test]
    async fn without_a_checksum_no_checksum_header_is_required() {
        let ct = ContentType::parse("image/png", &AllowedContentTypes::any()).unwrap();
        let size = FileSize::parse("10", u64::MAX).unwrap();
        let ticket = store(Encryption::Kms {
            key_id: Some("alias/files".into()),
        })
        .presign_upload("acme/file_x", &ct, size, None, 60, Timestamp::now())
        .await
        .unwrap();
        let signed = signed_headers(&ticket.url);
        assert!(
            !signed.iter().any(|h| h.starts_with("x-amz-checksum")),
            "{signed:?}"
        );
        assert!(
            !ticket
                .headers
                .keys()
                .any(|h| h.starts_with("x-amz-checksum"))
        );
        assert!(!ticket.headers.contains_key("x-amz-sdk-checksum-algorithm"));
        assert_eq!(ticket.headers["x-amz-server-side-encryption"], "aws:kms");
        assert_eq!(
            ticket.headers["x-amz-server-side-encryption-aws-kms-key-id"],
            "alias/files"
        );
        assert!(signed.contains(&"x-amz-server-side-encryption-aws-kms-key-id".to_owned()));
    }
}
