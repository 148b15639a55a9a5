//! The file object and the requests that read, arrange and change files.

use filegate_domain::DomainError;
use filegate_domain::file::{FileChange, FileFilter, FileName, FileRecord, FileStatus, Parent};
use filegate_domain::folder::{parse_folder_filter, parse_folder_ref};
use filegate_domain::ids::FileId;
use filegate_domain::page::PageRequest;
use filegate_domain::status_change::StatusRequest;
use serde::{Deserialize, Serialize};

use crate::json_shape::present;
use utoipa::{IntoParams, ToSchema};

/// The file object of the API (see API.md).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = File)]
pub struct FileObject {
    #[schema(example = "file_01JD3Q5Z8K2M4N6P8R0T2V4X6Z")]
    pub id: String,
    /// Always `file`.
    #[schema(example = "file")]
    pub object: String,
    pub name: String,
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// Decimal string.
    #[schema(example = "1228800")]
    pub size_bytes: String,
    /// Base64 SHA-256 of the whole object, when declared.
    pub checksum_sha256: Option<String>,
    pub status: FileStatus,
    pub folder: Option<String>,
    pub parent: Option<Parent>,
    pub public: bool,
    pub error_message: Option<String>,
    /// The user or API key that created the file.
    pub uploaded_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub uploaded_at: Option<String>,
}

impl From<&FileRecord> for FileObject {
    fn from(r: &FileRecord) -> Self {
        Self {
            id: r.id.to_string(),
            object: "file".to_owned(),
            name: r.name.as_str().to_owned(),
            content_type: r.content_type.as_str().to_owned(),
            size_bytes: r.size_bytes.bytes().to_string(),
            checksum_sha256: r.checksum_sha256.as_ref().map(|c| c.as_base64().to_owned()),
            status: r.status,
            folder: r.folder.map(|f| f.to_string()),
            parent: r.parent.clone(),
            public: r.public,
            error_message: r.error_message.clone(),
            uploaded_by: r.uploaded_by.id().to_owned(),
            created_at: r.created_at.to_string(),
            updated_at: r.updated_at.to_string(),
            uploaded_at: r.uploaded_at.map(|t| t.to_string()),
        }
    }
}

/// The query of `GET /v1/files`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFilesQuery {
    /// A folder id, or `root` for files outside any folder.
    pub folder: Option<String>,
    /// With `parent_id`: files attached to that entity.
    pub parent_type: Option<String>,
    pub parent_id: Option<String>,
    /// `pending`, `uploaded`, `processing`, `ready` or `failed`.
    pub status: Option<String>,
    /// 1–100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page (with the same filters).
    pub cursor: Option<String>,
}

/// `POST`/`PATCH /v1/files/{id}`: rename and/or move.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFileRequest {
    /// The new name (file-name rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// The folder to move to, or null for the root; absent leaves the file where it is.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub folder: Option<Option<String>>,
}

impl UpdateFileRequest {
    /// The rename and/or move asked for, checked (name first, then folder).
    pub fn change(&self) -> Result<FileChange, DomainError> {
        Ok(FileChange {
            name: self.name.as_deref().map(FileName::parse).transpose()?,
            folder: self
                .folder
                .as_ref()
                .map(|f| parse_folder_ref(f.as_deref(), "folder"))
                .transpose()?,
        })
    }
}

impl ListFilesQuery {
    /// The filter, checked.
    pub fn filter(&self) -> Result<FileFilter, DomainError> {
        let folder = self
            .folder
            .as_deref()
            .map(|f| parse_folder_filter(f, "folder"))
            .transpose()?;
        let parent = match (self.parent_type.as_deref(), self.parent_id.as_deref()) {
            (None, None) => None,
            (Some(kind), Some(id)) => Some(Parent::parse(kind, id).map_err(|e| {
                let param = if e.param() == Some("parent.type") {
                    "parent_type"
                } else {
                    "parent_id"
                };
                e.with_param(param)
            })?),
            (Some(_), None) | (None, Some(_)) => {
                let missing = if self.parent_type.is_none() {
                    "parent_type"
                } else {
                    "parent_id"
                };
                return Err(DomainError::invalid(
                    "incomplete_parent_filter",
                    "parent_type and parent_id filter together; send both",
                )
                .with_param(missing));
            }
        };
        let status = self
            .status
            .as_deref()
            .map(|s| {
                FileStatus::parse(s).ok_or_else(|| {
                    DomainError::invalid(
                        "invalid_status",
                        "status must be one of pending, uploaded, processing, ready, failed",
                    )
                    .with_param("status")
                })
            })
            .transpose()?;
        Ok(FileFilter {
            folder,
            parent,
            status,
        })
    }

    pub fn page(&self) -> Result<PageRequest, DomainError> {
        PageRequest::from_parts(self.limit.as_deref(), self.cursor.as_deref())
    }
}

/// `POST /v1/files/{id}/status`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeStatusRequest {
    /// `processing`, `ready` or `failed`.
    #[schema(example = "ready", pattern = "^(processing|ready|failed)$")]
    pub status: String,
    /// Why the file failed: required with `failed`, refused otherwise. At most 1000
    /// characters.
    #[serde(default)]
    pub error_message: Option<String>,
}

/// `{"id","object":"file","deleted":true}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletedFile {
    pub id: String,
    /// Always `file`.
    #[schema(example = "file")]
    pub object: String,
    pub deleted: bool,
}

impl ChangeStatusRequest {
    pub fn request(&self) -> Result<StatusRequest, DomainError> {
        StatusRequest::parse(&self.status, self.error_message.as_deref())
    }
}

impl DeletedFile {
    pub fn new(id: &FileId) -> Self {
        Self {
            id: id.to_string(),
            object: "file".to_owned(),
            deleted: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &str) -> ListFilesQuery {
        serde_urlencoded::from_str(pairs).unwrap()
    }

    #[test]
    fn filters_parse_and_name_their_parameter() {
        let f = query("folder=root&status=ready").filter().unwrap();
        assert_eq!(f.folder, Some(None));
        assert_eq!(f.status, Some(FileStatus::Ready));
        let f = query("parent_type=knowledge&parent_id=k1")
            .filter()
            .unwrap();
        assert_eq!(f.parent, Some(Parent::parse("knowledge", "k1").unwrap()));
        for (q, code, param) in [
            (
                "parent_type=knowledge",
                "incomplete_parent_filter",
                "parent_id",
            ),
            ("parent_id=k1", "incomplete_parent_filter", "parent_type"),
            (
                "parent_type=a%23b&parent_id=k",
                "invalid_parent",
                "parent_type",
            ),
            ("parent_type=a&parent_id=", "invalid_parent", "parent_id"),
            ("folder=docs", "invalid_id", "folder"),
            ("status=done", "invalid_status", "status"),
        ] {
            let e = query(q).filter().unwrap_err();
            assert_eq!((e.code(), e.param()), (code, Some(param)), "{q}");
        }
    }
}
