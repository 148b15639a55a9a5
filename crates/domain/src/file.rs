//! The file: its validated parts, its lifecycle and the stored record.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;

use crate::error::DomainError;
use crate::ids::{FileId, FolderId, OrgId};
use crate::principal::Actor;
use crate::timestamp::Timestamp;

/// A file's display name: 1–255 characters after NFC normalisation, no control characters, no
/// path separators, not `.` or `..`. It is metadata only: object keys never contain it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FileName(String);

impl FileName {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name: String = raw.nfc().collect();
        let param = |e: DomainError| e.with_param("name");
        if name.is_empty() || name.chars().all(char::is_whitespace) {
            return Err(param(DomainError::invalid(
                "name_empty",
                "name must contain at least one visible character",
            )));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(param(DomainError::invalid(
                "name_too_long",
                "name must be at most 255 characters",
            )));
        }
        if name.chars().any(is_forbidden_in_name) {
            return Err(param(DomainError::invalid(
                "name_invalid_character",
                "name must not contain control or format characters (bidirectional controls, \
                 zero-width characters, BOM), line separators, '/' or '\\'",
            )));
        }
        if name == "." || name == ".." {
            return Err(param(DomainError::invalid(
                "name_reserved",
                "name must not be '.' or '..'",
            )));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Control characters break headers and logs; format characters (bidi overrides and marks,
/// zero-width characters, the BOM, soft hyphens) are invisible, and let `gpj.exe` pass for
/// `exe.jpg` or two different names look the same; line and paragraph separators break lines
/// unseen; path separators would make names look like paths.
fn is_forbidden_in_name(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};
    c.is_control()
        || matches!(c, '/' | '\\')
        || matches!(
            c.general_category(),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// A media type `type/subtype` with optional parameters, lower-cased where case does not
/// matter. It is bound into the upload signature, so the client must send exactly this string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContentType(String);

impl ContentType {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str, allowed: &AllowedContentTypes) -> Result<Self, DomainError> {
        let invalid = || {
            DomainError::invalid(
                "invalid_content_type",
                "content_type must be a media type such as application/pdf",
            )
            .with_param("content_type")
        };
        if raw.len() > Self::MAX_LEN || !raw.is_ascii() {
            return Err(invalid());
        }
        let mime: mime::Mime = raw.trim().parse().map_err(|_| invalid())?;
        if mime.type_() == mime::STAR || mime.subtype() == mime::STAR {
            return Err(invalid());
        }
        let essence = mime.essence_str().to_ascii_lowercase();
        if !allowed.allows(&essence) {
            return Err(DomainError::unsupported_media_type(
                "unsupported_content_type",
                format!("content type {essence} is not accepted by this deployment"),
            )
            .with_param("content_type"));
        }
        let mut normalized = essence;
        for (name, value) in mime.params() {
            let value = value.as_str();
            normalized.push_str("; ");
            normalized.push_str(&name.as_str().to_ascii_lowercase());
            normalized.push('=');
            if !value.is_empty() && value.bytes().all(is_token_byte) {
                normalized.push_str(value);
            } else {
                normalized.push('"');
                normalized.push_str(&value.replace('\\', "\\\\").replace('"', "\\\""));
                normalized.push('"');
            }
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `type/subtype` without parameters.
    pub fn essence(&self) -> &str {
        self.0.split(';').next().unwrap_or_default()
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The deployment's content-type allow-list: exact types (`application/pdf`) and whole
/// families (`image/*`). Empty allows every type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedContentTypes(Vec<String>);

impl AllowedContentTypes {
    pub fn any() -> Self {
        Self(Vec::new())
    }

    /// Parses a comma-separated list; returns the first entry that is not a media type.
    pub fn parse_list(list: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let entry = entry.to_ascii_lowercase();
            let ok = match entry.split_once('/') {
                Some((t, s)) => !t.is_empty() && t != "*" && !s.is_empty() && !s.contains('/'),
                None => false,
            };
            if !ok {
                return Err(entry);
            }
            entries.push(entry);
        }
        Ok(Self(entries))
    }

    pub fn allows(&self, essence: &str) -> bool {
        self.0.is_empty()
            || self
                .0
                .iter()
                .any(|allowed| match allowed.strip_suffix("/*") {
                    Some(family) => essence.split_once('/').is_some_and(|(t, _)| t == family),
                    None => allowed == essence,
                })
    }
}

/// A size in bytes: requests may send it as a JSON string or integer; responses always send a
/// string so that JavaScript clients never lose precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FileSize(u64);

impl FileSize {
    /// S3's limit for one PUT, and so for one presigned upload.
    pub const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;
    /// S3's largest object, and so the largest multipart upload.
    pub const MAX_OBJECT: u64 = 5 * 1024 * 1024 * 1024 * 1024;

    /// `text`: the decimal digits the client sent, as a JSON string or integer.
    pub fn parse(text: &str, max: u64) -> Result<Self, DomainError> {
        let invalid = || {
            DomainError::invalid(
                "invalid_size",
                "size_bytes must be a positive whole number of bytes, as a string or an integer",
            )
            .with_param("size_bytes")
        };
        if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let bytes: u64 = text.parse().map_err(|_| invalid())?;
        if bytes == 0 {
            return Err(invalid());
        }
        if bytes > max {
            return Err(DomainError::too_large(
                "file_too_large",
                format!("size_bytes must be at most {max}"),
            )
            .with_param("size_bytes"));
        }
        Ok(Self(bytes))
    }

    pub fn bytes(self) -> u64 {
        self.0
    }
}

/// A SHA-256 digest of the whole object, kept in S3's form (standard base64 of 32 bytes).
/// Requests may send base64 or the 64-digit hex that `sha256sum` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sha256Checksum(String);

impl Sha256Checksum {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let digest = if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&raw[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .ok()
        } else {
            BASE64.decode(raw).ok()
        };
        match digest {
            Some(d) if d.len() == 32 => Ok(Self::from_digest(&d)),
            _ => Err(DomainError::invalid(
                "invalid_checksum",
                "checksum_sha256 must be a SHA-256 digest in base64 (44 characters) or hex (64)",
            )
            .with_param("checksum_sha256")),
        }
    }

    pub fn from_digest(digest: &[u8]) -> Self {
        Self(BASE64.encode(digest))
    }

    pub fn as_base64(&self) -> &str {
        &self.0
    }
}

/// The entity a file is attached to in the caller's own domain (`{"type":"knowledge","id":…}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Parent {
    /// 1–64 characters: letters, digits, `_`, `-`.
    #[serde(rename = "type")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "knowledge", pattern = "^[A-Za-z0-9_-]{1,64}$")
    )]
    pub kind: String,
    /// 1–128 characters: letters, digits, `_`, `-`, `.`, `:`.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "6501db8b", pattern = "^[A-Za-z0-9_.:-]{1,128}$")
    )]
    pub id: String,
}

impl Parent {
    pub fn parse(kind: &str, id: &str) -> Result<Self, DomainError> {
        let ok = |s: &str, max: usize, extra: &[u8]| {
            !s.is_empty()
                && s.len() <= max
                && s.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || extra.contains(&b)
                })
        };
        if !ok(kind, 64, b"") {
            return Err(DomainError::invalid(
                "invalid_parent",
                "parent.type must be 1-64 letters, digits, '_' or '-'",
            )
            .with_param("parent.type"));
        }
        if !ok(id, 128, b".:") {
            return Err(DomainError::invalid(
                "invalid_parent",
                "parent.id must be 1-128 letters, digits, '_', '-', '.' or ':'",
            )
            .with_param("parent.id"));
        }
        Ok(Self {
            kind: kind.to_owned(),
            id: id.to_owned(),
        })
    }
}

/// Where a file is in its lifecycle. `pending` → `uploaded` → `processing` → `ready`;
/// `failed` from `pending` or `processing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    Pending,
    Uploaded,
    Processing,
    Ready,
    Failed,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Uploaded => "uploaded",
            Self::Processing => "processing",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    /// Whether the bytes have been verified and may be handed out.
    pub fn is_downloadable(self) -> bool {
        matches!(self, Self::Uploaded | Self::Processing | Self::Ready)
    }

    /// The transitions of API.md: `uploaded→processing`, `uploaded→ready`,
    /// `processing→ready`, `processing→failed`, `pending→failed`. (`pending→uploaded` is
    /// finalize's alone: only it has checked the bytes.)
    pub fn can_become(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Uploaded, Self::Processing)
                | (Self::Uploaded, Self::Ready)
                | (Self::Processing, Self::Ready)
                | (Self::Processing, Self::Failed)
                | (Self::Pending, Self::Failed)
        )
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Uploaded,
            Self::Processing,
            Self::Ready,
            Self::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

impl fmt::Display for FileStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the server keeps with a pending file's row about its multipart upload. The upload id
/// never leaves the server: clients name parts only by number, through filegate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartUpload {
    pub upload_id: String,
    pub part_size: u64,
    pub part_count: u32,
    /// Whether the upload was created with SHA-256 part checksums, as it is for a file
    /// declared with its `checksum_sha256`: S3 then wants every part's SHA-256 (and checks it),
    /// while an upload created without takes none.
    #[serde(default)]
    pub part_checksums: bool,
    /// When the sweeper aborts the upload and removes the file if it is still pending.
    pub expires_at: Timestamp,
}

/// Everything filegate knows about one file, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: FileId,
    pub org: OrgId,
    pub name: FileName,
    pub content_type: ContentType,
    pub size_bytes: FileSize,
    pub checksum_sha256: Option<Sha256Checksum>,
    pub status: FileStatus,
    pub folder: Option<FolderId>,
    pub parent: Option<Parent>,
    pub public: bool,
    pub error_message: Option<String>,
    pub uploaded_by: Actor,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub uploaded_at: Option<Timestamp>,
    /// Why finalize refused the upload, when it did: every later finalize answers the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_mismatch: Option<UploadMismatch>,
    /// Set when a delete has started: the row is then invisible to every read but the delete
    /// that finishes it (see `filegate-core`'s deletion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting_at: Option<Timestamp>,
    /// Set (with `deleting_at`) when the sweeper removes an abandoned pending file: the
    /// removal is then recorded as `file.expired`, not `file.deleted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<Timestamp>,
    /// The S3 multipart upload of a file declared as multipart; kept after finalize, so that a
    /// delete can still abort what a crash may have left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart: Option<MultipartUpload>,
}

impl FileRecord {
    /// The S3 key of the file's bytes: `<org>/<file id>`, never the user's name.
    pub fn object_key(&self) -> String {
        object_key(&self.org, &self.id)
    }

    /// When a file still `pending` counts as abandoned: its multipart upload's expiry, or
    /// `pending_expiry_secs` after it was declared.
    pub fn abandoned_at(&self, pending_expiry_secs: u64) -> Timestamp {
        self.multipart.as_ref().map_or_else(
            || self.created_at.plus_seconds(pending_expiry_secs),
            |upload| upload.expires_at,
        )
    }
}

/// The one place that says how object keys are made; [`parse_object_key`] reads them back.
pub fn object_key(org: &OrgId, id: &FileId) -> String {
    format!("{org}/{id}")
}

/// Reads `<org>/<file id>` back; anything else is not one of our objects.
pub fn parse_object_key(key: &str) -> Option<(OrgId, FileId)> {
    let (org, id) = key.split_once('/')?;
    Some((OrgId::parse(org)?, FileId::parse(id).ok()?))
}

/// What about an uploaded object did not match its declaration (`details.reason` of
/// `409 upload_mismatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadMismatch {
    Size,
    /// The object's `Content-Type` is not the declared one.
    ContentType,
    Checksum,
    /// S3 stored a header or metadata filegate did not sign (`Content-Encoding`,
    /// `Cache-Control`, `x-amz-meta-*`, tags…).
    UnsignedHeader,
    /// The first bytes are another type than the declared one, or lack its signature.
    DetectedType,
}

impl UploadMismatch {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Size => "size",
            Self::ContentType => "content_type",
            Self::Checksum => "checksum",
            Self::UnsignedHeader => "unsigned_header",
            Self::DetectedType => "detected_type",
        }
    }

    /// `409 upload_mismatch` with `details.reason`: the one answer for such a file, on the
    /// finalize that found it and on every one after.
    pub fn error(self, message: impl Into<std::borrow::Cow<'static, str>>) -> DomainError {
        DomainError::conflict("upload_mismatch", message).with_detail("reason", self.as_str())
    }
}

/// The 404 of a file that is missing, another organisation's, or being deleted.
pub fn file_not_found(id: &FileId) -> DomainError {
    DomainError::not_found("file_not_found", format!("no file {id}")).with_param("id")
}

/// Which files to list: the filters of `GET /v1/files`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFilter {
    /// `Some(None)`: files at the root.
    pub folder: Option<Option<FolderId>>,
    pub parent: Option<Parent>,
    pub status: Option<FileStatus>,
}

/// A rename and/or move of a file. `folder: Some(None)` is a move to the root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileChange {
    pub name: Option<FileName>,
    pub folder: Option<Option<FolderId>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::error::ErrorKind;

    fn code<T: fmt::Debug>(r: Result<T, DomainError>) -> (&'static str, Option<String>) {
        let e = r.unwrap_err();
        (e.code(), e.param().map(str::to_owned))
    }

    #[test]
    fn names_are_nfc_normalised_and_counted_in_characters() {
        let decomposed = "re\u{301}sume\u{301}.pdf";
        assert_eq!(FileName::parse(decomposed).unwrap().as_str(), "résumé.pdf");
        assert!(
            FileName::parse(&"é".repeat(255)).is_ok(),
            "255 two-byte chars fit"
        );
        assert_eq!(
            code(FileName::parse(&"a".repeat(256))),
            ("name_too_long", Some("name".into()))
        );
    }

    #[test]
    fn names_refuse_what_the_contract_forbids() {
        for (raw, want) in [
            ("", "name_empty"),
            ("   ", "name_empty"),
            ("a/b", "name_invalid_character"),
            ("a\\b", "name_invalid_character"),
            ("a\tb", "name_invalid_character"),
            ("a\u{0}b", "name_invalid_character"),
            ("a\u{7f}b", "name_invalid_character"),
            ("evil\u{202E}fdp.exe", "name_invalid_character"),
            ("\u{200B}", "name_invalid_character"),
            ("a\u{061C}.pdf", "name_invalid_character"),
            ("\u{FEFF}a.pdf", "name_invalid_character"),
            ("a\u{00AD}b", "name_invalid_character"),
            ("a\u{2028}b", "name_invalid_character"),
            (".", "name_reserved"),
            ("..", "name_reserved"),
        ] {
            assert_eq!(code(FileName::parse(raw)).0, want, "{raw:?}");
        }
        assert!(FileName::parse("...").is_ok());
        assert!(FileName::parse("a\"b.pdf").is_ok());
    }

    #[test]
    fn content_types_are_parsed_normalised_and_allow_listed() {
        let any = AllowedContentTypes::any();
        assert_eq!(
            ContentType::parse("Application/PDF", &any)
                .unwrap()
                .as_str(),
            "application/pdf"
        );
        let t = ContentType::parse("text/plain; Charset=utf-8", &any).unwrap();
        assert_eq!(t.as_str(), "text/plain; charset=utf-8");
        assert_eq!(t.essence(), "text/plain");
        for bad in [
            "pdf",
            "",
            "*/*",
            "text/*",
            "a/b/c",
            "text/plain\r\nx: y",
            "tèxt/plain",
        ] {
            assert_eq!(
                code(ContentType::parse(bad, &any)),
                ("invalid_content_type", Some("content_type".into())),
                "{bad:?}"
            );
        }
        let allowed = AllowedContentTypes::parse_list("application/pdf, image/*").unwrap();
        assert!(ContentType::parse("image/png", &allowed).is_ok());
        assert!(ContentType::parse("application/pdf", &allowed).is_ok());
        let e = ContentType::parse("text/html", &allowed).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedMediaType);
        assert_eq!(e.code(), "unsupported_content_type");
        assert!(AllowedContentTypes::parse_list("pdf").is_err());
        assert!(AllowedContentTypes::parse_list("*/*").is_err());
    }

    #[test]
    fn sizes_accept_strings_and_integers_within_the_limit() {
        let max = 1000;
        let size = |s: &str| FileSize::parse(s, max);
        assert_eq!(size("1").unwrap().bytes(), 1);
        assert_eq!(size("1000").unwrap().bytes(), 1000);
        assert_eq!(
            code(size("1001")),
            ("file_too_large", Some("size_bytes".into()))
        );
        assert_eq!(
            size("99999999999999999999999").unwrap_err().code(),
            "invalid_size"
        );
        for bad in ["0", "-1", "1.5", "", " 1", "+1", "1e3", "0x10"] {
            assert_eq!(code(size(bad)).0, "invalid_size", "{bad:?}");
        }
    }

    #[test]
    fn checksums_accept_base64_and_hex_and_store_base64() {
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let b64 = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";
        assert_eq!(Sha256Checksum::parse(hex).unwrap().as_base64(), b64);
        assert_eq!(Sha256Checksum::parse(b64).unwrap().as_base64(), b64);
        for bad in [
            "",
            "abc",
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0",
            &hex[..62],
        ] {
            assert_eq!(
                code(Sha256Checksum::parse(bad)).0,
                "invalid_checksum",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parents_refuse_key_separators() {
        assert!(Parent::parse("knowledge", "6501db8bb89d5189b64acf79").is_ok());
        assert_eq!(
            code(Parent::parse("a#b", "x")),
            ("invalid_parent", Some("parent.type".into()))
        );
        assert_eq!(
            code(Parent::parse("org", "")),
            ("invalid_parent", Some("parent.id".into()))
        );
    }

    #[test]
    fn only_the_documented_transitions_are_allowed() {
        use FileStatus::*;
        let all = [Pending, Uploaded, Processing, Ready, Failed];
        let allowed: Vec<_> = all
            .iter()
            .flat_map(|&from| all.iter().map(move |&to| (from, to)))
            .filter(|(from, to)| from.can_become(*to))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Pending, Failed),
                (Uploaded, Processing),
                (Uploaded, Ready),
                (Processing, Ready),
                (Processing, Failed),
            ]
        );
        assert_eq!(FileStatus::parse("ready"), Some(Ready));
        assert_eq!(FileStatus::parse("READY"), None);
    }

    #[test]
    fn object_keys_round_trip_and_reject_foreign_keys() {
        let org = OrgId::parse("acme").unwrap();
        let id = FileId::new();
        let key = object_key(&org, &id);
        assert_eq!(parse_object_key(&key), Some((org, id)));
        for foreign in [
            "acme",
            "acme/",
            "acme/report.pdf",
            "acme/x/file_01",
            "/file_x",
        ] {
            assert_eq!(parse_object_key(foreign), None, "{foreign:?}");
        }
    }
}
