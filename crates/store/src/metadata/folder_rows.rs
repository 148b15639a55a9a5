//! Folder rows and their `children` counters.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem, Update};

use filegate_domain::file::FileName;
use filegate_domain::folder::FolderRecord;
use filegate_domain::ids::{FolderId, OrgId};
use filegate_domain::page::Page;
use filegate_domain::timestamp::Timestamp;

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

    /// Writes a new folder and counts it in its parent, which must exist.
    pub async fn create_folder(&self, folder: &FolderRecord) -> Result<(), CreateFolderError> {
        let op = StorageOperation::CreateFolder;
        let mut writes = vec![
            self.put_new(folder_item(folder).map_err(failed(op))?)
                .map_err(failed(op))?,
        ];
        if let Some(parent) = &folder.parent {
            writes.push(
                self.adjust_children(&folder.org, parent, 1)
                    .map_err(failed(op))?,
            );
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) => match (cancellation(&e), folder.parent) {
                (Some(Cancelled::Condition(1)), Some(parent)) => {
                    Err(CreateFolderError::ParentNotFound(parent))
                }
                (Some(Cancelled::Contention), _) => {
                    Err(StorageError::new(op, *e).retryable().into())
                }
                _ => Err(StorageError::new(op, *e).into()),
            },
        }
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
    /// from an index, so a child written a moment ago may not show yet; the `children`
    /// counter is what makes deletes safe, this catches pending files, which it does not count.
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
        // Every other folder the move touches: its counter change and, for the new
        // ancestors, the parent it must still have.
        let mut touched: Vec<(FolderId, i64, Option<String>)> = Vec::new();
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
                touched.push((
                    ancestor.id,
                    0,
                    Some(children_pk(org, ancestor.parent.as_ref())),
                ));
            }
            if let Some(target) = target {
                add_counter_change(&mut touched, target, 1);
            }
            if let Some(old) = folder.parent {
                add_counter_change(&mut touched, old, -1);
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
        let mut writes = vec![TransactWriteItem::builder().update(update).build()];
        for (id, delta, parent_pk) in &touched {
            writes.push(
                self.touch_folder(org, id, *delta, parent_pk.as_deref())
                    .map_err(failed(op))?,
            );
        }
        match self.transact(writes).await {
            Ok(()) => {
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

    /// One transaction item for a folder a move touches: a counter change and/or a check
    /// that its parent is still `parent_pk`.
    fn touch_folder(
        &self,
        org: &OrgId,
        id: &FolderId,
        delta: i64,
        parent_pk: Option<&str>,
    ) -> Result<TransactWriteItem, aws_sdk_dynamodb::error::BuildError> {
        let mut condition = "attribute_exists(pk)".to_owned();
        let mut values: Item = HashMap::new();
        if let Some(parent_pk) = parent_pk {
            condition.push_str(" AND folder_pk = :parent_pk");
            values.insert(":parent_pk".to_owned(), str_value(parent_pk));
        }
        if delta == 0 {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .key("pk", str_value(folder_pk(org, id)))
                .key("sk", str_value(FOLDER_SK))
                .condition_expression(condition)
                .set_expression_attribute_values((!values.is_empty()).then_some(values))
                .build()?;
            return Ok(TransactWriteItem::builder().condition_check(check).build());
        }
        values.insert(":delta".to_owned(), AttributeValue::N(delta.to_string()));
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", str_value(folder_pk(org, id)))
            .key("sk", str_value(FOLDER_SK))
            .update_expression("ADD children :delta")
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Deletes a folder whose `children` is zero, and gives back its place in its parent.
    pub async fn delete_folder(&self, folder: &FolderRecord) -> Result<(), DeleteFolderError> {
        let op = StorageOperation::DeleteFolder;
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("pk", str_value(folder_pk(&folder.org, &folder.id)))
            .key("sk", str_value(FOLDER_SK))
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(children) OR children = :zero)",
            )
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .build()
            .map_err(failed(op))?;
        let mut writes = vec![TransactWriteItem::builder().delete(delete).build()];
        if let Some(parent) = &folder.parent {
            writes.push(
                self.adjust_children(&folder.org, parent, -1)
                    .map_err(failed(op))?,
            );
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) => match cancellation(&e) {
                Some(Cancelled::Condition(0)) => Err(DeleteFolderError::NotEmptyOrGone),
                Some(Cancelled::Contention) => Err(StorageError::new(op, *e).retryable().into()),
                _ => Err(StorageError::new(op, *e).into()),
            },
        }
    }
}

/// Adds `delta` to the counter change of `id` in `touched`, adding it if absent: one folder
/// may be both an ancestor to check and a parent to count, and a transaction may touch each
/// item once.
fn add_counter_change(
    touched: &mut Vec<(FolderId, i64, Option<String>)>,
    id: FolderId,
    delta: i64,
) {
    match touched.iter_mut().find(|(f, _, _)| *f == id) {
        Some(entry) => entry.1 += delta,
        None => touched.push((id, delta, None)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_touched_twice_in_a_move_becomes_one_item() {
        let (a, b, c) = (FolderId::new(), FolderId::new(), FolderId::new());
        // Moving from `b` into `a`, whose ancestors are `a`, `b`, `c`.
        let mut touched = vec![
            (a, 0, Some("pa".to_owned())),
            (b, 0, Some("pb".to_owned())),
            (c, 0, Some("root".to_owned())),
        ];
        add_counter_change(&mut touched, a, 1);
        add_counter_change(&mut touched, b, -1);
        assert_eq!(
            touched,
            vec![
                (a, 1, Some("pa".to_owned())),
                (b, -1, Some("pb".to_owned())),
                (c, 0, Some("root".to_owned())),
            ]
        );
        let d = FolderId::new();
        add_counter_change(&mut touched, d, -1);
        assert_eq!(touched.len(), 4);
    }
}
