//! Folders: create, read, rename and move (never into their own subtree), delete while empty.

use filegate_domain::DomainError;
use filegate_domain::file::FileName;
use filegate_domain::folder::{FolderChange, FolderRecord, MAX_DEPTH, folder_not_found};
use filegate_domain::ids::{FolderId, OrgId};
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;
use filegate_store::metadata::{CreateFolderError, DeleteFolderError, UpdateFolderError};

use crate::file_service::FileService;
use crate::retry::{Attempt, retry_on_conflict};

impl FileService {
    pub async fn create_folder(
        &self,
        caller: &Caller,
        name: FileName,
        parent: Option<FolderId>,
    ) -> Result<FolderRecord, DomainError> {
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
    pub async fn get_folder(
        &self,
        caller: &Caller,
        id: &FolderId,
    ) -> Result<FolderRecord, DomainError> {
        self.store()
            .get_folder(&caller.org, id)
            .await?
            .ok_or_else(|| folder_not_found(id, "id"))
    }

    /// Renames and/or moves a folder. Moving into itself or its own subtree is
    /// `409 folder_cycle`.
    pub async fn update_folder(
        &self,
        caller: &Caller,
        id: &FolderId,
        requested: &FolderChange,
    ) -> Result<FolderRecord, DomainError> {
        // A lost race re-reads the folder and its new ancestors and checks again.
        retry_on_conflict(
            "the folder or its new parent kept changing; retry",
            move || async move {
                let folder = self.get_folder(caller, id).await?;
                let name = requested.name.clone().filter(|n| *n != folder.name);
                let target = requested.parent.filter(|t| *t != folder.parent);
                if name.is_none() && target.is_none() {
                    return Ok(Attempt::Done(folder));
                }
                let ancestors = match target {
                    Some(Some(parent)) => self.ancestors(&caller.org, &folder.id, parent).await?,
                    _ => Vec::new(),
                };
                match self
                    .store()
                    .update_folder(&folder, name.as_ref(), target, &ancestors, Timestamp::now())
                    .await
                {
                    Ok(updated) => Ok(Attempt::Done(updated)),
                    Err(UpdateFolderError::Conflict) => Ok(Attempt::Changed),
                    Err(UpdateFolderError::Storage(e)) => Err(e.into()),
                }
            },
        )
        .await
    }

    /// `start` and its ancestors up to the root, read consistently; `409 folder_cycle` when
    /// `moving` is among them, as the move would then make a loop.
    async fn ancestors(
        &self,
        org: &OrgId,
        moving: &FolderId,
        start: FolderId,
    ) -> Result<Vec<FolderRecord>, DomainError> {
        let mut chain: Vec<FolderRecord> = Vec::new();
        let mut next = Some(start);
        while let Some(id) = next {
            if id == *moving {
                return Err(DomainError::conflict(
                    "folder_cycle",
                    "a folder cannot be moved into itself or one of its sub-folders",
                )
                .with_param("parent"));
            }
            if chain.len() == MAX_DEPTH {
                return Err(DomainError::conflict(
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
    pub async fn delete_folder(&self, caller: &Caller, id: &FolderId) -> Result<(), DomainError> {
        let not_empty = || {
            DomainError::conflict(
                "folder_not_empty",
                "the folder still holds files or folders; move or delete them first",
            )
        };
        let folder = self.get_folder(caller, id).await?;
        // Pending files hold no member row in the folder; refuse while any is listed. (This
        // also covers children from before member rows, long since in the index.)
        if self.store().has_listed_children(&caller.org, id).await? {
            return Err(not_empty());
        }
        match self.store().delete_folder(&folder).await {
            Ok(()) => Ok(()),
            Err(DeleteFolderError::NotEmptyOrGone) => {
                // Deleted by someone else meanwhile is a 404; otherwise it is not empty.
                self.get_folder(caller, id).await?;
                Err(not_empty())
            }
            Err(DeleteFolderError::Storage(e)) => Err(e.into()),
        }
    }
}
