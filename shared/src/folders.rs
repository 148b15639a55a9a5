//! Folders: a tree per organisation that files and other folders live in. Names follow the
//! file-name rules; ids are `fldr_` + ULID. A folder can only be deleted while empty, and a
//! move can never make a folder its own ancestor.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::auth::{Actor, Caller};
use crate::error::ApiError;
use crate::files::FileName;
use crate::ids::{FolderId, OrgId};
use crate::listing::{Cursors, List, PageRequest};
use crate::service::FileService;
use crate::store::{CreateFolderError, DeleteFolderError, UpdateFolderError};
use crate::timestamp::Timestamp;

/// Deepest chain of ancestors a move checks (each is one item of the move's transaction).
pub const MAX_DEPTH: usize = 50;

/// A folder as stored. Its row also carries the `children` counter the store maintains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderRecord {
    pub id: FolderId,
    pub org: OrgId,
    pub name: FileName,
    pub parent: Option<FolderId>,
    pub created_by: Actor,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The folder object of the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Folder)]
pub struct FolderObject {
    #[schema(example = "fldr_01JD3Q5Z8K2M4N6P8R0T2V4X6Z")]
    pub id: String,
    /// Always `folder`.
    #[schema(example = "folder")]
    pub object: &'static str,
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
            object: "folder",
            name: f.name.as_str().to_owned(),
            parent: f.parent.map(|p| p.to_string()),
            created_by: f.created_by.id().to_owned(),
            created_at: f.created_at.to_string(),
            updated_at: f.updated_at.to_string(),
        }
    }
}

/// `POST /v1/folders`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFolderRequest {
    /// Same rules as file names.
    #[schema(example = "Contracts")]
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
    pub name: Option<String>,
    /// The new parent folder id, or null for the root; absent leaves it where it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
}

/// `{"id","object":"folder","deleted":true}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeletedFolder {
    pub id: String,
    /// Always `folder`.
    #[schema(example = "folder")]
    pub object: &'static str,
    pub deleted: bool,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`, via `default`).
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A folder id from a request field; `None` for null.
pub fn parse_folder_ref(raw: Option<&str>, param: &str) -> Result<Option<FolderId>, ApiError> {
    raw.map(|f| FolderId::parse(f).map_err(|e| e.with_param(param)))
        .transpose()
}

/// A folder filter from a query: a folder id, or `root`.
pub fn parse_folder_filter(raw: &str, param: &str) -> Result<Option<FolderId>, ApiError> {
    if raw == "root" {
        Ok(None)
    } else {
        FolderId::parse(raw).map(Some).map_err(|_| {
            ApiError::invalid(
                "invalid_id",
                format!("{param} must be a folder id (fldr_…) or root"),
            )
            .with_param(param)
        })
    }
}

pub fn folder_not_found(id: &FolderId, param: &str) -> ApiError {
    ApiError::not_found("folder_not_found", format!("no folder {id}")).with_param(param)
}

impl FileService {
    pub async fn create_folder(
        &self,
        caller: &Caller,
        request: &CreateFolderRequest,
    ) -> Result<FolderRecord, ApiError> {
        let name = FileName::parse(&request.name)?;
        let parent = parse_folder_ref(request.parent.as_deref(), "parent")?;
        let now = Timestamp::now();
        let folder = FolderRecord {
            id: FolderId::new(),
            org: caller.org.clone(),
            name,
            parent,
            created_by: caller.actor.clone(),
            created_at: now,
            updated_at: now,
        };
        match self.store().create_folder(&folder).await {
            Ok(()) => Ok(folder),
            Err(CreateFolderError::ParentNotFound(parent)) => {
                Err(folder_not_found(&parent, "parent"))
            }
            Err(CreateFolderError::Storage(e)) => Err(e.into()),
        }
    }

    /// The folder, or 404 (another organisation's folder is not found either).
    pub async fn get_folder(&self, org: &OrgId, id: &FolderId) -> Result<FolderRecord, ApiError> {
        self.store()
            .get_folder(org, id)
            .await?
            .ok_or_else(|| folder_not_found(id, "id"))
    }

    /// Folders newest first: the sub-folders of `parent` (`Some(None)`: the root), or all.
    pub async fn list_folders(
        &self,
        cursors: &Cursors,
        org: &OrgId,
        parent: Option<Option<FolderId>>,
        page: &PageRequest,
    ) -> Result<List<FolderObject>, ApiError> {
        if let Some(Some(parent)) = &parent {
            self.store()
                .get_folder(org, parent)
                .await?
                .ok_or_else(|| folder_not_found(parent, "parent"))?;
        }
        let list = match &parent {
            None => "folders".to_owned(),
            Some(None) => "folders?parent=root".to_owned(),
            Some(Some(id)) => format!("folders?parent={id}"),
        };
        cursors
            .page(
                org,
                &list,
                page,
                |after| async move {
                    Ok(self
                        .store()
                        .list_folders(org, parent, after, page.limit)
                        .await?)
                },
                |record| FolderObject::from(&record),
            )
            .await
    }

    /// Renames and/or moves a folder. Moving into itself or its own subtree is
    /// `409 folder_cycle`.
    pub async fn update_folder(
        &self,
        org: &OrgId,
        id: &FolderId,
        request: &UpdateFolderRequest,
    ) -> Result<FolderRecord, ApiError> {
        let name = request.name.as_deref().map(FileName::parse).transpose()?;
        let target = request
            .parent
            .as_ref()
            .map(|p| parse_folder_ref(p.as_deref(), "parent"))
            .transpose()?;
        // A lost race re-reads the folder and its new ancestors and checks again.
        for _ in 0..3 {
            let folder = self.get_folder(org, id).await?;
            let name = name.clone().filter(|n| *n != folder.name);
            let target = target.filter(|t| *t != folder.parent);
            if name.is_none() && target.is_none() {
                return Ok(folder);
            }
            let ancestors = match target {
                Some(Some(parent)) => self.ancestors(org, &folder.id, parent).await?,
                _ => Vec::new(),
            };
            match self
                .store()
                .update_folder(&folder, name.as_ref(), target, &ancestors, Timestamp::now())
                .await
            {
                Ok(updated) => return Ok(updated),
                Err(UpdateFolderError::Conflict) => continue,
                Err(UpdateFolderError::Storage(e)) => return Err(e.into()),
            }
        }
        Err(ApiError::conflict(
            "concurrent_update",
            "the folder or its new parent kept changing; retry",
        ))
    }

    /// `start` and its ancestors up to the root, read consistently; `409 folder_cycle` when
    /// `moving` is among them, as the move would then make a loop.
    async fn ancestors(
        &self,
        org: &OrgId,
        moving: &FolderId,
        start: FolderId,
    ) -> Result<Vec<FolderRecord>, ApiError> {
        let mut chain: Vec<FolderRecord> = Vec::new();
        let mut next = Some(start);
        while let Some(id) = next {
            if id == *moving {
                return Err(ApiError::conflict(
                    "folder_cycle",
                    "a folder cannot be moved into itself or one of its sub-folders",
                )
                .with_param("parent"));
            }
            if chain.len() == MAX_DEPTH {
                return Err(ApiError::conflict(
                    "folder_too_deep",
                    format!("folders can be moved at most {MAX_DEPTH} levels deep"),
                )
                .with_param("parent"));
            }
            let folder = self
                .store()
                .get_folder(org, &id)
                .await?
                .ok_or_else(|| folder_not_found(&id, "parent"))?;
            next = folder.parent;
            chain.push(folder);
        }
        Ok(chain)
    }

    /// Deletes an empty folder; `409 folder_not_empty` while it holds files or folders.
    pub async fn delete_folder(
        &self,
        org: &OrgId,
        id: &FolderId,
    ) -> Result<DeletedFolder, ApiError> {
        let not_empty = || {
            ApiError::conflict(
                "folder_not_empty",
                "the folder still holds files or folders; move or delete them first",
            )
        };
        let folder = self.get_folder(org, id).await?;
        // Pending files do not count in the folder's counter; refuse while any is listed.
        if self.store().has_listed_children(org, id).await? {
            return Err(not_empty());
        }
        match self.store().delete_folder(&folder).await {
            Ok(()) => Ok(DeletedFolder {
                id: id.to_string(),
                object: "folder",
                deleted: true,
            }),
            Err(DeleteFolderError::NotEmptyOrGone) => {
                // Deleted by someone else meanwhile is a 404; otherwise it is not empty.
                self.get_folder(org, id).await?;
                Err(not_empty())
            }
            Err(DeleteFolderError::Storage(e)) => Err(e.into()),
        }
    }
}
