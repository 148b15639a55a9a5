//! Declaring uploads: what a declaration holds once checked, the deployment's upload policy,
//! and the presigned PUT a client sends its bytes with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::download::is_inline_safe;
use crate::error::DomainError;
use crate::file::{AllowedContentTypes, ContentType, FileName, FileSize, Parent, Sha256Checksum};
use crate::ids::FolderId;
use crate::multipart::MultipartTicket;
use crate::timestamp::Timestamp;

/// Most files one batch may declare.
pub const MAX_BATCH: usize = 10;

/// The component name finalize records when S3 events drive it.
pub const EVENT_FINALIZER: &str = "s3-event-finalizer";

/// The component name the sweeper records.
pub const SWEEPER: &str = "sweeper";

/// What this deployment accepts for upload.
#[derive(Debug, Clone)]
pub struct UploadPolicy {
    pub max_upload_bytes: u64,
    pub allowed_content_types: AllowedContentTypes,
    /// Lifetime of presigned upload URLs.
    pub url_expiry_secs: u64,
    /// How long after it was declared a file that is still `pending` is abandoned: the
    /// sweeper then deletes its bytes and its row.
    pub pending_expiry_secs: u64,
    /// Files larger than this get a multipart upload instead of one PUT.
    pub multipart_threshold: u64,
    /// How long a multipart upload may take from its declaration to its finalize.
    pub multipart_expiry_secs: u64,
    /// The largest object a finalize inside a request reads to check its SHA-256; larger
    /// (multipart) objects are checked by the finalize of their S3 event.
    pub finalize_hash_max_bytes: u64,
}

/// The largest file whose whole SHA-256 filegate verifies. Beyond one PUT's 5 GiB only a
/// read of the whole object can check it (S3 keeps a multipart object's SHA-256 only as a
/// digest of its parts' digests), and the S3-event finalizer that does it has 15 minutes:
/// 64 GiB needs a steady 80 MB/s.
pub const MAX_CHECKSUMMED_BYTES: u64 = 64 * 1024 * 1024 * 1024;

impl UploadPolicy {
    /// Refuses a whole-file checksum that finalize could not verify in time.
    pub fn check_checksum(
        size: FileSize,
        checksum: Option<&Sha256Checksum>,
    ) -> Result<(), DomainError> {
        if checksum.is_some() && size.bytes() > MAX_CHECKSUMMED_BYTES {
            return Err(DomainError::invalid(
                "checksum_not_verifiable",
                format!(
                    "a whole-file checksum_sha256 can be verified for files up to {MAX_CHECKSUMMED_BYTES} bytes; declare larger files without it"
                ),
            )
            .with_param("checksum_sha256"));
        }
        Ok(())
    }

    /// Whether `declaration` gets a multipart upload: above the threshold (and always above
    /// the largest single PUT), or when the client asked for one.
    pub fn uses_multipart(&self, declaration: &FileDeclaration) -> bool {
        let size = declaration.size.bytes();
        declaration.multipart || size > self.multipart_threshold || size > FileSize::MAX_SINGLE_PUT
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
    /// The client asked for a multipart upload whatever the size (`"multipart": true`).
    pub multipart: bool,
}

/// Whether a file may be `public`: only an [inline-safe](is_inline_safe) type, as a public
/// file is served straight from the CDN's origin with its own type, where HTML or SVG would
/// run as that origin's script.
pub fn public_visibility(requested: bool, content_type: &ContentType) -> Result<bool, DomainError> {
    if requested && !is_inline_safe(content_type.essence()) {
        return Err(DomainError::invalid(
            "public_not_allowed",
            format!(
                "{} files cannot be public: only raster images, PDF, plain text, CSV, audio and video can",
                content_type.essence()
            ),
        )
        .with_param("public"));
    }
    Ok(requested)
}

/// How to send the bytes: one presigned PUT, or a multipart upload whose parts are signed on
/// request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum UploadTicket {
    Put(PutTicket),
    Multipart(MultipartTicket),
}

/// A presigned PUT and the exact headers it was signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PutTicket {
    /// Always `PUT`.
    #[cfg_attr(feature = "openapi", schema(schema_with = put_method))]
    pub method: String,
    pub url: String,
    /// Send exactly these headers; each is part of the signature.
    #[cfg_attr(feature = "openapi", schema(example = json!({"content-type": "application/pdf", "content-length": "1228800", "x-amz-server-side-encryption": "AES256"})))]
    pub headers: BTreeMap<String, String>,
    /// Seconds the URL stays valid.
    pub expires_in: u64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub expires_at: Timestamp,
}

#[cfg(feature = "openapi")]
fn put_method() -> utoipa::openapi::Object {
    crate::multipart::method_schema("PUT")
}
