//! Folder rows; what they hold is in `folder_members`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem, Update};

use filegate_domain::file::FileName;
use filegate_domain::folder::FolderRecord;
use filegate_domain::ids::{FolderId, OrgId};
use filegate_domain::page::Page;
use filegate_domain::timestamp::Timestamp;

use super::folder_members::{DELETING, Settled, delete_mark};
use super::schema::Item;
use super::schema::{FOLDER_SK, children_pk, folder_pk, index_start, org_pk, str_value};
use super::table::{Cancelled, IndexQuery, MetadataStore, cancellation, failed};
use crate::error::{StorageError, StorageOperation};

/// Why a folder was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateFolderError {
    #[error("parent folder {0} does not exist")]
    ParentNotFound(FolderId),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Why a rename or move was not made: something it relied on changed (re-read and decide
/// again).
#[derive(Debug, thiserror::Error)]
pub enum UpdateFolderError {
    #[error("the folder or its new ancestors changed concurrently")]
    Conflict,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Why a folder was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteFolderError {
    /// It holds files or folders, or it is already gone.
    #[error("the folder is not empty or no longer exists")]
    NotEmptyOrGone,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl MetadataStore {
    pub async fn get_folder(
        &self,
        org: &OrgId,
        id: &FolderId,
    ) -> Result<Option<FolderRecord>, StorageError> {
        self.read(StorageOperation::GetFolder, folder_pk(org, id), FOLDER_SK)
            .await
    }

    /// Writes a new folder into its parent, which must exist.
    pub async fn create_folder(&self, folder: &FolderRecord) -> Result<(), CreateFolderError> {
        let op = StorageOperation::CreateFolder;
        let org = &folder.org;
        let child = folder.id.to_string();
        if let Some(parent) = &folder.parent
            && !self.folder_exists(op, org, parent).await?
        {
            return Err(CreateFolderError::ParentNotFound(*parent));
        }
        let mut writes = vec![
            self.put_new(folder_item(folder).map_err(failed(op))?)
                .map_err(failed(op))?,
        ];
        if let Some(parent) = &folder.parent {
            writes.push(self.join_folder(org, parent, &child).map_err(failed(op))?);
        }
        match self.transact(writes).await {
            Ok(()) => {}
            Err(e) => {
                return Err(match cancellation(&e) {
                    Some(Cancelled::Contention) => StorageError::new(op, *e).retryable().into(),
                    _ => StorageError::new(op, *e).into(),
                });
            }
        }
        let Some(parent) = &folder.parent else {
            return Ok(());
        };
        if self.settle_in_folder(op, org, parent).await? == Settled::InFolder {
            return Ok(());
        }
        // The parent was deleted as the folder was made: the new, empty folder goes too.
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("pk", str_value(folder_pk(org, &folder.id)))
            .key("sk", str_value(FOLDER_SK))
            .build()
            .map_err(failed(op))?;
        let writes = vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.leave_folder(org, parent, &child).map_err(failed(op))?,
        ];
        self.transact(writes)
            .await
            .map_err(|e| StorageError::new(op, *e))?;
        Err(CreateFolderError::ParentNotFound(*parent))
    }

    /// A page of folders, newest first: the sub-folders of `parent` (`Some(None)`: the root),
    /// or all of the org's.
    pub async fn list_folders(
        &self,
        org: &OrgId,
        parent: Option<Option<FolderId>>,
        after: Option<FolderId>,
        limit: usize,
    ) -> Result<Page<FolderRecord>, StorageError> {
        let (index, pk_attr, pk) = match &parent {
            Some(parent) => ("by_folder", "folder_pk", children_pk(org, parent.as_ref())),
            None => ("by_org", "org_pk", org_pk(org)),
        };
        let query = IndexQuery {
            index: Some(index),
            key_condition: "#pk = :pk AND begins_with(id, :prefix)",
            filter: None,
            names: HashMap::from([("#pk".to_owned(), pk_attr.to_owned())]),
            values: HashMap::from([
                (":pk".to_owned(), str_value(pk.clone())),
                (":prefix".to_owned(), str_value(FolderId::PREFIX)),
            ]),
            forward: false,
        };
        let start = after
            .map(|id| index_start(folder_pk(org, &id), FOLDER_SK, pk_attr, &pk, id.to_string()));
        self.page(StorageOperation::ListFolders, query, start, limit)
            .await
    }

    /// Whether anything (a file in any status, or a folder) lists `folder` as its folder. Read
    /// from an index, so a child written a moment ago may not show yet; member rows are what
    /// make deletes safe, this catches pending files, which have none.
    pub async fn has_listed_children(
        &self,
        org: &OrgId,
        folder: &FolderId,
    ) -> Result<bool, StorageError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by_folder")
            .key_condition_expression("folder_pk = :pk")
            .expression_attribute_values(":pk", str_value(children_pk(org, Some(folder))))
            .limit(1)
            .send()
            .await
            .map_err(|e| StorageError::new(StorageOperation::DeleteFolder, e))?;
        Ok(out.count > 0)
    }

    /// Renames and/or moves a folder. A move also moves its count from the old parent to the
    /// new one, and only succeeds while the folder and every folder in `new_ancestors` (the
    /// new parent first, up to the root) still have the parents they were read with: so two
    /// racing moves can never close a cycle between them.
    pub async fn update_folder(
        &self,
        folder: &FolderRecord,
        name: Option<&FileName>,
        new_parent: Option<Option<FolderId>>,
        new_ancestors: &[FolderRecord],
        at: Timestamp,
    ) -> Result<FolderRecord, UpdateFolderError> {
        let op = StorageOperation::UpdateFolder;
        let org = &folder.org;
        let mut set = vec!["updated_at = :at"];
        let mut values: Item = HashMap::from([
            (":at".to_owned(), str_value(at.to_string())),
            (
                ":parent_pk".to_owned(),
                str_value(children_pk(org, folder.parent.as_ref())),
            ),
        ]);
        let mut names = HashMap::new();
        if let Some(name) = name {
            set.push("#name = :name");
            names.insert("#name".to_owned(), "name".to_owned());
            values.insert(":name".to_owned(), str_value(name.as_str()));
        }
        // The new ancestors must still have the parents they were read with; the folder
        // leaves its old parent and joins the new one.
        let mut writes = Vec::new();
        let child = folder.id.to_string();
        let mut joined = None;
        if let Some(target) = new_parent {
            set.push("parent = :parent, folder_pk = :new_parent_pk");
            values.insert(
                ":parent".to_owned(),
                target.map_or(AttributeValue::Null(true), |p| str_value(p.to_string())),
            );
            values.insert(
                ":new_parent_pk".to_owned(),
                str_value(children_pk(org, target.as_ref())),
            );
            for ancestor in new_ancestors {
                writes.push(self.parent_unchanged(org, ancestor).map_err(failed(op))?);
            }
            if target != folder.parent {
                if let Some(target) = target {
                    writes.push(self.join_folder(org, &target, &child).map_err(failed(op))?);
                    joined = Some(target);
                }
                if let Some(old) = folder.parent {
                    writes.push(self.leave_folder(org, &old, &child).map_err(failed(op))?);
                }
            }
        }
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", str_value(folder_pk(org, &folder.id)))
            .key("sk", str_value(FOLDER_SK))
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression("attribute_exists(pk) AND folder_pk = :parent_pk")
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(failed(op))?;
        writes.insert(0, TransactWriteItem::builder().update(update).build());
        match self.transact(writes).await {
            Ok(()) => {
                if let Some(target) = joined
                    && self.settle_in_folder(op, org, &target).await? == Settled::FolderGone
                {
                    self.leave_deleted_parent(folder, &target).await?;
                    return Err(UpdateFolderError::Conflict);
                }
                let mut updated = folder.clone();
                if let Some(name) = name {
                    updated.name = name.clone();
                }
                if let Some(parent) = new_parent {
                    updated.parent = parent;
                }
                updated.updated_at = at;
                Ok(updated)
            }
            Err(e) => match cancellation(&e) {
                Some(Cancelled::Condition(_)) => Err(UpdateFolderError::Conflict),
                Some(Cancelled::Contention) => Err(StorageError::new(op, *e).retryable().into()),
                None => Err(StorageError::new(op, *e).into()),
            },
        }
    }

    /// A transaction item that holds only while `ancestor` still has the parent it was read
    /// with.
    fn parent_unchanged(
        &self,
        org: &OrgId,
        ancestor: &FolderRecord,
    ) -> Result<TransactWriteItem, aws_sdk_dynamodb::error::BuildError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .key("pk", str_value(folder_pk(org, &ancestor.id)))
            .key("sk", str_value(FOLDER_SK))
            .condition_expression("attribute_exists(pk) AND folder_pk = :parent_pk")
            .expression_attribute_values(
                ":parent_pk",
                str_value(children_pk(org, ancestor.parent.as_ref())),
            )
            .build()?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Moves `folder`, which has just joined `gone`, to the root: `gone` was deleted before
    /// the folder's member row landed in it.
    async fn leave_deleted_parent(
        &self,
        folder: &FolderRecord,
        gone: &FolderId,
    ) -> Result<(), StorageError> {
        let op = StorageOperation::UpdateFolder;
        let org = &folder.org;
        let writes = self
            .leave_for_root(
                (folder_pk(org, &folder.id), FOLDER_SK),
                "parent",
                org,
                gone,
                &folder.id.to_string(),
            )
            .map_err(failed(op))?;
        match self.transact(writes).await {
            // Moved on meanwhile (by another move): its member row went with that move.
            Err(e) if matches!(cancellation(&e), Some(Cancelled::Condition(0))) => Ok(()),
            other => other.map_err(|e| StorageError::new(op, *e)),
        }
    }

    /// Deletes a folder that holds nothing: marks it, checks that nothing is in it, and
    /// deletes it only while the mark is still there (a child that joined meanwhile removes
    /// the mark: see `folder_members`).
    pub async fn delete_folder(&self, folder: &FolderRecord) -> Result<(), DeleteFolderError> {
        let op = StorageOperation::DeleteFolder;
        let (org, id) = (&folder.org, &folder.id);
        let mark = delete_mark();
        let marked = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", str_value(folder_pk(org, id)))
            .key("sk", str_value(FOLDER_SK))
            .update_expression("SET #d = :mark")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#d", DELETING)
            .expression_attribute_values(":mark", mark.clone())
            .send()
            .await;
        match marked {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                return Err(DeleteFolderError::NotEmptyOrGone);
            }
            Err(e) => return Err(StorageError::new(op, e).into()),
        }
        if self.has_members(org, id).await? {
            // A child that joined may have removed the mark already; a stale mark is harmless
            // (the next joiner or delete replaces it).
            let _ = self.clear_delete_mark(org, id, mark).await;
            return Err(DeleteFolderError::NotEmptyOrGone);
        }
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("pk", str_value(folder_pk(org, id)))
            .key("sk", str_value(FOLDER_SK))
            .condition_expression("#d = :mark")
            .expression_attribute_names("#d", DELETING)
            .expression_attribute_values(":mark", mark)
            .build()
            .map_err(failed(op))?;
        let mut writes = vec![TransactWriteItem::builder().delete(delete).build()];
        if let Some(parent) = &folder.parent {
            writes.push(
                self.leave_folder(org, parent, &id.to_string())
                    .map_err(failed(op))?,
            );
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) => match cancellation(&e) {
                // A child joined after the check, and removed the mark.
                Some(Cancelled::Condition(0)) => Err(DeleteFolderError::NotEmptyOrGone),
                Some(Cancelled::Contention) => Err(StorageError::new(op, *e).retryable().into()),
                _ => Err(StorageError::new(op, *e).into()),
            },
        }
    }
}

fn folder_item(folder: &FolderRecord) -> Result<Item, serde_dynamo::Error> {
    let mut item: Item = serde_dynamo::to_item(folder)?;
    let org = &folder.org;
    item.insert("pk".into(), str_value(folder_pk(org, &folder.id)));
    item.insert("sk".into(), str_value(FOLDER_SK));
    item.insert("org_pk".into(), str_value(org_pk(org)));
    item.insert(
        "folder_pk".into(),
        str_value(children_pk(org, folder.parent.as_ref())),
    );
    Ok(item)
}
