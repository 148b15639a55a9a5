//! The folder object and the requests on folders.

use filegate_domain::DomainError;
use filegate_domain::file::FileName;
use filegate_domain::folder::{FolderChange, FolderRecord, parse_folder_filter, parse_folder_ref};
use filegate_domain::ids::FolderId;
use filegate_domain::page::PageRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The folder object of the API.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = Folder)]
pub struct FolderObject {
    #[schema(example = "fldr_01JD3Q5Z8K2M4N6P8R0T2V4X6Z")]
    pub id: String,
    /// Always `folder`.
    #[schema(example = "folder")]
    pub object: String,
    #[schema(example = "Contracts")]
    pub name: String,
    /// The parent folder; null at the root.
    pub parent: Option<String>,
    /// The user or API key that created the folder.
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&FolderRecord> for FolderObject {
    fn from(f: &FolderRecord) -> Self {
        Self {
            id: f.id.to_string(),
            object: "folder".to_owned(),
            name: f.name.as_str().to_owned(),
            parent: f.parent.map(|p| p.to_string()),
            created_by: f.created_by.id().to_owned(),
            created_at: f.created_at.to_string(),
            updated_at: f.updated_at.to_string(),
        }
    }
}

/// `POST /v1/folders`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFolderRequest {
    /// Same rules as file names.
    #[schema(example = "Contracts", min_length = 1, max_length = 255)]
    pub name: String,
    /// Parent folder id; absent or null is the root.
    #[serde(default)]
    pub parent: Option<String>,
}

/// `POST /v1/folders/{id}`: rename and/or move.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFolderRequest {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// The new parent folder id, or null for the root; absent leaves it where it is.
    #[serde(default, deserialize_with = "crate::json_shape::present")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
}

/// `{"id","object":"folder","deleted":true}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletedFolder {
    pub id: String,
    /// Always `folder`.
    #[schema(example = "folder")]
    pub object: String,
    pub deleted: bool,
}

impl CreateFolderRequest {
    /// The name and parent asked for, checked (name first).
    pub fn parts(&self) -> Result<(FileName, Option<FolderId>), DomainError> {
        Ok((
            FileName::parse(&self.name)?,
            parse_folder_ref(self.parent.as_deref(), "parent")?,
        ))
    }
}

impl UpdateFolderRequest {
    /// The rename and/or move asked for, checked (name first, then parent).
    pub fn change(&self) -> Result<FolderChange, DomainError> {
        Ok(FolderChange {
            name: self.name.as_deref().map(FileName::parse).transpose()?,
            parent: self
                .parent
                .as_ref()
                .map(|p| parse_folder_ref(p.as_deref(), "parent"))
                .transpose()?,
        })
    }
}

impl DeletedFolder {
    pub fn new(id: &FolderId) -> Self {
        Self {
            id: id.to_string(),
            object: "folder".to_owned(),
            deleted: true,
        }
    }
}

/// The query of `GET /v1/folders`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFoldersQuery {
    /// A folder id, or `root`: its direct sub-folders. Absent: every folder of the organisation.
    pub parent: Option<String>,
    /// 1–100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page (with the same `parent`).
    pub cursor: Option<String>,
}

impl ListFoldersQuery {
    /// The parent filter (`root` or a folder id), checked.
    pub fn parent(&self) -> Result<Option<Option<FolderId>>, DomainError> {
        self.parent
            .as_deref()
            .map(|p| parse_folder_filter(p, "parent"))
            .transpose()
    }

    pub fn page(&self) -> Result<PageRequest, DomainError> {
        PageRequest::from_parts(self.limit.as_deref(), self.cursor.as_deref())
    }
}
