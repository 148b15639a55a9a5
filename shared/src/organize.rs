//! Finding and arranging files: the filtered list, rename and move.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::audit::{AuditAction, AuditEvent, RequestOrigin};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::files::{FileName, FileObject, FileRecord, FileStatus, Parent};
use crate::folders::{folder_not_found, parse_folder_filter, parse_folder_ref, present};
use crate::ids::{FileId, OrgId};
use crate::listing::{Cursors, List, PageRequest};
use crate::service::FileService;
use crate::store::{FileChange, FileFilter, UpdateFileError};
use crate::timestamp::Timestamp;

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
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFileRequest {
    /// The new name (file-name rules).
    #[serde(default)]
    pub name: Option<String>,
    /// The folder to move to, or null for the root; absent leaves the file where it is.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub folder: Option<Option<String>>,
}

impl ListFilesQuery {
    /// The filter, checked; the list's identity for cursors comes with it.
    pub fn filter(&self) -> Result<FileFilter, ApiError> {
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
                return Err(ApiError::invalid(
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
                    ApiError::invalid(
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

    pub fn page(&self) -> Result<PageRequest, ApiError> {
        PageRequest::from_parts(self.limit.as_deref(), self.cursor.as_deref())
    }
}

/// What a cursor of a filtered list is bound to: the same filters, in one spelling.
fn list_identity(filter: &FileFilter) -> String {
    let folder = match &filter.folder {
        None => String::new(),
        Some(None) => "root".to_owned(),
        Some(Some(id)) => id.to_string(),
    };
    let parent = filter
        .parent
        .as_ref()
        .map(|p| format!("{}/{}", p.kind, p.id))
        .unwrap_or_default();
    let status = filter.status.map(FileStatus::as_str).unwrap_or_default();
    format!("files?folder={folder}&parent={parent}&status={status}")
}

impl FileService {
    /// Files newest first, filtered; a folder filter names a folder of the caller's org.
    pub async fn list_files(
        &self,
        cursors: &Cursors,
        org: &OrgId,
        filter: &FileFilter,
        page: &PageRequest,
    ) -> Result<List<FileObject>, ApiError> {
        if let Some(Some(folder)) = &filter.folder {
            self.store()
                .get_folder(org, folder)
                .await?
                .ok_or_else(|| folder_not_found(folder, "folder"))?;
        }
        cursors
            .page(
                org,
                &list_identity(filter),
                page,
                |after: Option<FileId>| async move {
                    Ok(self
                        .store()
                        .list_files(org, filter, after, page.limit)
                        .await?)
                },
                |record| FileObject::from(&record),
            )
            .await
    }

    /// Renames and/or moves a file (`folder: null` moves it to the root); writes
    /// `file.renamed` and/or `file.moved`. Changing nothing returns the file as it is.
    pub async fn update_file(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
        request: &UpdateFileRequest,
    ) -> Result<FileRecord, ApiError> {
        let name = request.name.as_deref().map(FileName::parse).transpose()?;
        let folder = request
            .folder
            .as_ref()
            .map(|f| parse_folder_ref(f.as_deref(), "folder"))
            .transpose()?;
        for _ in 0..3 {
            let file = self.get(&caller.org, id).await?;
            let change = FileChange {
                name: name.clone().filter(|n| *n != file.name),
                folder: folder.filter(|f| *f != file.folder),
            };
            if change.name.is_none() && change.folder.is_none() {
                return Ok(file);
            }
            let now = Timestamp::now();
            let event =
                |action| AuditEvent::new(&caller.org, file.id, action, &caller.actor, origin, now);
            let mut events = Vec::new();
            if let Some(name) = &change.name {
                events.push(
                    event(AuditAction::FileRenamed)
                        .with_detail("from", file.name.as_str())
                        .with_detail("to", name.as_str()),
                );
            }
            if let Some(folder) = &change.folder {
                let id_or_null = |f: Option<crate::ids::FolderId>| {
                    f.map_or(serde_json::Value::Null, |f| f.to_string().into())
                };
                events.push(
                    event(AuditAction::FileMoved)
                        .with_detail("from", id_or_null(file.folder))
                        .with_detail("to", id_or_null(*folder)),
                );
            }
            match self.store().update_file(&file, &change, now, &events).await {
                Ok(updated) => return Ok(updated),
                Err(UpdateFileError::FolderNotFound(folder)) => {
                    return Err(folder_not_found(&folder, "folder"));
                }
                Err(UpdateFileError::Conflict) => continue,
                Err(UpdateFileError::Storage(e)) => return Err(e.into()),
            }
        }
        Err(ApiError::conflict(
            "concurrent_update",
            "the file kept changing; read it and retry",
        ))
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

    #[test]
    fn each_filter_combination_is_its_own_list() {
        let a = list_identity(&query("folder=root").filter().unwrap());
        let b = list_identity(&query("folder=root&status=ready").filter().unwrap());
        let c = list_identity(&query("").filter().unwrap());
        assert!(a != b && b != c && a != c);
    }
}
