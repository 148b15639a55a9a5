//! Declaring uploads on the wire: one file or a batch, the size as the client wrote it, and
//! the pending files with their upload tickets.

use std::fmt;

use filegate_domain::DomainError;
use filegate_domain::file::{ContentType, FileName, FileRecord, FileSize, Parent, Sha256Checksum};
use filegate_domain::folder::parse_folder_ref;
use filegate_domain::ids::FolderId;
use filegate_domain::upload::{
    FileDeclaration, MAX_BATCH, UploadPolicy, UploadTicket, public_visibility,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::file::FileObject;
use crate::json_shape::{objects, optional_object};

/// `POST /v1/files`: one file to upload.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFileRequest {
    /// 1–255 characters (NFC); no control characters, `/` or `\`; not `.` or `..`.
    #[schema(example = "Acme Co MSA.pdf", min_length = 1, max_length = 255)]
    pub name: String,
    /// `type/subtype`, optionally restricted by the deployment's allow-list.
    #[schema(example = "application/pdf", min_length = 3)]
    pub content_type: String,
    /// Exact size in bytes, as a string or an integer: 1 to the deployment's maximum.
    pub size_bytes: SizeInput,
    /// SHA-256 of the bytes, base64 (or hex). When given, S3 and finalize both verify it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_sha256: Option<String>,
    /// Folder id; absent or null is the root (in a batch, absent takes the batch's folder).
    #[serde(
        default,
        deserialize_with = "crate::json_shape::present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub folder: Option<Option<String>>,
    /// The entity in your own domain this file belongs to.
    #[serde(
        default,
        deserialize_with = "optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent: Option<Parent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// Upload in parts whatever the size (files above the deployment's threshold always are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart: Option<bool>,
}

/// `POST /v1/files/batch`: 1–10 files, all accepted or none. `folder` and `parent` apply to
/// every entry that does not set its own.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFilesRequest {
    #[serde(deserialize_with = "objects")]
    #[schema(min_items = 1, max_items = 10)]
    pub files: Vec<CreateFileRequest>,
    #[serde(default)]
    pub folder: Option<String>,
    #[serde(default, deserialize_with = "optional_object")]
    pub parent: Option<Parent>,
}

/// `size_bytes` as the client wrote it, a JSON string or number, kept as text until
/// [`FileSize::parse`] judges it, so that every bad value gets the same error code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SizeInput(String);

impl utoipa::PartialSchema for SizeInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[1-9][0-9]*$")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            )
            .description(Some("Size in bytes: a decimal string or an integer"))
            .examples([serde_json::json!("1228800"), serde_json::json!(1228800)])
            .into()
    }
}

impl ToSchema for SizeInput {}

impl SizeInput {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text as sent; [`FileSize::parse`] judges it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for SizeInput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SizeInput;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size in bytes, as a string or an integer")
            }
            fn visit_u64<E>(self, v: u64) -> Result<SizeInput, E> {
                Ok(SizeInput(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<SizeInput, E> {
                Ok(SizeInput(v.to_string()))
            }
            // A JSON number with a fraction or exponent (`1e3`, `1.0`) is not a size, even
            // when its value is whole: kept in a spelling that is never all digits.
            fn visit_f64<E>(self, v: f64) -> Result<SizeInput, E> {
                Ok(SizeInput(format!("{v:?}")))
            }
            fn visit_str<E>(self, v: &str) -> Result<SizeInput, E> {
                Ok(SizeInput(v.to_owned()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A file with the instructions to upload its bytes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileUpload {
    #[serde(flatten)]
    pub file: FileObject,
    pub upload: UploadTicket,
}

/// The batch response: a list of files with their uploads, in request order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileUploadList {
    /// Always `list`.
    #[schema(example = "list")]
    pub object: String,
    pub data: Vec<FileUpload>,
    /// Always false: every file of the batch is here.
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

impl FileUploadList {
    pub fn new(data: Vec<FileUpload>) -> Self {
        Self {
            object: "list".to_owned(),
            data,
            has_more: false,
            next_cursor: None,
        }
    }
}

impl FileUpload {
    pub fn new((file, upload): (FileRecord, UploadTicket)) -> Self {
        Self {
            file: (&file).into(),
            upload,
        }
    }
}

impl CreateFileRequest {
    /// Checks one request against the policy; errors name the field (`name`, `parent.id`).
    pub fn declaration(&self, policy: &UploadPolicy) -> Result<FileDeclaration, DomainError> {
        let req = self;
        let name = FileName::parse(&req.name)?;
        let content_type = ContentType::parse(&req.content_type, &policy.allowed_content_types)?;
        let size = FileSize::parse(req.size_bytes.as_str(), policy.max_upload_bytes)?;
        let checksum = req
            .checksum_sha256
            .as_deref()
            .map(Sha256Checksum::parse)
            .transpose()?;
        UploadPolicy::check_checksum(size, checksum.as_ref())?;
        Ok(FileDeclaration {
            name,
            public: public_visibility(req.public.unwrap_or(false), &content_type)?,
            content_type,
            size,
            checksum,
            folder: parse_folder(req.folder.as_ref().and_then(Option::as_deref))?,
            parent: req
                .parent
                .as_ref()
                .map(|p| Parent::parse(&p.kind, &p.id))
                .transpose()?,
            multipart: req.multipart.unwrap_or(false),
        })
    }
}

impl CreateFilesRequest {
    /// Checks a batch; the first bad entry rejects it with `param` like `files[3].name`.
    pub fn declarations(&self, policy: &UploadPolicy) -> Result<Vec<FileDeclaration>, DomainError> {
        let req = self;
        if req.files.is_empty() || req.files.len() > MAX_BATCH {
            return Err(DomainError::invalid(
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
                let mut declaration = entry
                    .declaration(policy)
                    .map_err(|e| e.within(&format!("files[{i}]")))?;
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

fn parse_folder(raw: Option<&str>) -> Result<Option<FolderId>, DomainError> {
    parse_folder_ref(raw, "folder")
}

#[cfg(test)]
mod tests {
    use super::*;
    use filegate_domain::file::AllowedContentTypes;

    fn policy() -> UploadPolicy {
        UploadPolicy {
            max_upload_bytes: 1000,
            allowed_content_types: AllowedContentTypes::parse_list("application/pdf,image/*")
                .unwrap(),
            url_expiry_secs: 300,
            pending_expiry_secs: 86400,
            multipart_threshold: 500,
            multipart_expiry_secs: 86400,
            finalize_hash_max_bytes: 1000,
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
        let d = req.declarations(&policy()).unwrap();
        assert_eq!(d[0].folder, Some(shared));
        assert_eq!(d[0].parent.as_ref().unwrap().kind, "knowledge");
        assert_eq!(d[1].folder, Some(own));
        assert_eq!(d[1].parent.as_ref().unwrap().kind, "agent");
    }

    #[test]
    fn batch_errors_name_the_entry_and_field() {
        let mut files: Vec<_> = (0..5).map(|i| entry(&format!("{i}.pdf"))).collect();
        files[3]["name"] = "a/b".into();
        let e = batch(serde_json::json!({ "files": files }))
            .declarations(&policy())
            .unwrap_err();
        assert_eq!(
            (e.code(), e.param()),
            ("name_invalid_character", Some("files[3].name"))
        );

        files[3] = entry("ok.pdf");
        files[1]["size_bytes"] = "1001".into();
        let e = batch(serde_json::json!({ "files": files }))
            .declarations(&policy())
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
            let e = batch(serde_json::json!({ "files": files }))
                .declarations(&policy())
                .unwrap_err();
            assert_eq!(
                (e.code(), e.param()),
                ("invalid_batch_size", Some("files")),
                "{n}"
            );
        }
        let files: Vec<_> = (0..10).map(|i| entry(&format!("{i}.pdf"))).collect();
        assert_eq!(
            batch(serde_json::json!({ "files": files }))
                .declarations(&policy())
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
        let err = req.declaration(&policy()).unwrap_err();
        assert_eq!((err.code(), err.param()), ("invalid_id", Some("folder")));
    }

    #[test]
    fn sizes_are_read_as_strings_or_integers() {
        let max = 1000;
        let parsed: SizeInput = serde_json::from_str("1228800").unwrap();
        assert_eq!(parsed, SizeInput::new("1228800"));
        let parsed: SizeInput = serde_json::from_str("-5").unwrap();
        assert_eq!(
            FileSize::parse(parsed.as_str(), max).unwrap_err().code(),
            "invalid_size"
        );
        assert!(serde_json::from_str::<SizeInput>("true").is_err());
        assert!(serde_json::from_str::<SizeInput>("null").is_err());
    }
}
