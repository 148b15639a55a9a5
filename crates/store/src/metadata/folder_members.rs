//! What a folder holds, without a counter every upload into it would contend for.
//!
//! A child (a file past `pending`, or a sub-folder) is in folder `F` through a member row of
//! its own in `F`'s partition, written and removed in the same transaction as the child's
//! own row. No transaction of a child touches `F`'s row: in DynamoDB, transactions on one
//! item at the same time cancel each other (`TransactionConflict`), so a counter on the
//! folder row made 500 uploads at once into one folder fail most of their writes.
//!
//! Deleting a folder and joining it then agree without a shared item, each writing first
//! and reading after (all strongly consistent):
//! - the delete marks the folder (`deleting` = a token of its own), reads its members (and
//!   the listed children, for files still pending and children from before member rows),
//!   and deletes the folder only while its mark is still there;
//! - a joiner writes its member row, then reads the folder: a mark there is removed (the
//!   folder is not empty: the delete it belonged to then fails its condition); a folder
//!   already gone means the delete read before the member landed, and the joiner leaves it
//!   ([`MetadataStore::settle_in_folder`] says which).

use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata as _};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use aws_smithy_runtime_api::client::result::SdkError;
use filegate_domain::ids::{FolderId, OrgId};
use std::collections::HashMap;

use super::schema::{FOLDER_SK, children_pk, folder_pk, str_value};
use super::table::MetadataStore;
use crate::error::{StorageError, StorageOperation};

/// The attribute a folder delete marks the folder with while it checks that it is empty.
pub(super) const DELETING: &str = "deleting";

const MEMBER_SK_PREFIX: &str = "MEMBER#";

/// Where a child that just joined a folder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Settled {
    /// The folder is there, and cannot be deleted while the child's member row is.
    InFolder,
    /// The folder was deleted before the child's member row landed: the child must leave.
    FolderGone,
}

impl MetadataStore {
    /// The transaction item that makes `child` count in `folder`.
    pub(super) fn join_folder(
        &self,
        org: &OrgId,
        folder: &FolderId,
        child: &str,
    ) -> Result<TransactWriteItem, BuildError> {
        let item = HashMap::from([
            ("pk".to_owned(), str_value(folder_pk(org, folder))),
            (
                "sk".to_owned(),
                str_value(format!("{MEMBER_SK_PREFIX}{child}")),
            ),
        ]);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The transaction item that stops `child` counting in `folder`.
    pub(super) fn leave_folder(
        &self,
        org: &OrgId,
        folder: &FolderId,
        child: &str,
    ) -> Result<TransactWriteItem, BuildError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("pk", str_value(folder_pk(org, folder)))
            .key("sk", str_value(format!("{MEMBER_SK_PREFIX}{child}")))
            .build()?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// The transaction items that move a child (row `pk`, `sk`; `attr` names its folder)
    /// that has just joined `gone` to the root, as `gone` was deleted before its member row
    /// landed: only while it is still in `gone`, so that item's condition fails if it moved on.
    pub(super) fn leave_for_root(
        &self,
        (pk, sk): (String, &str),
        attr: &str,
        org: &OrgId,
        gone: &FolderId,
        child: &str,
    ) -> Result<Vec<TransactWriteItem>, BuildError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", str_value(pk))
            .key("sk", str_value(sk))
            .update_expression("SET #f = :null, folder_pk = :root")
            .condition_expression("folder_pk = :gone")
            .expression_attribute_names("#f", attr)
            .expression_attribute_values(":null", AttributeValue::Null(true))
            .expression_attribute_values(":root", str_value(children_pk(org, None)))
            .expression_attribute_values(":gone", str_value(children_pk(org, Some(gone))))
            .build()?;
        Ok(vec![
            TransactWriteItem::builder().update(update).build(),
            self.leave_folder(org, gone, child)?,
        ])
    }

    /// Whether `folder` exists (a consistent read; a folder being deleted still does).
    pub(super) async fn folder_exists(
        &self,
        op: StorageOperation,
        org: &OrgId,
        folder: &FolderId,
    ) -> Result<bool, StorageError> {
        Ok(self.delete_mark_of(op, org, folder).await?.is_some())
    }

    /// `None` when `folder` is gone; else the mark of a delete under way, if any.
    async fn delete_mark_of(
        &self,
        op: StorageOperation,
        org: &OrgId,
        folder: &FolderId,
    ) -> Result<Option<Option<AttributeValue>>, StorageError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", str_value(folder_pk(org, folder)))
            .key("sk", str_value(FOLDER_SK))
            .consistent_read(true)
            .projection_expression("pk, #d")
            .expression_attribute_names("#d", DELETING)
            .send()
            .await
            .map_err(|e| StorageError::new(op, e))?;
        Ok(out.item.map(|mut item| item.remove(DELETING)))
    }

    /// Removes the delete mark `mark` from `folder`, if it is still that one.
    pub(super) async fn clear_delete_mark(
        &self,
        org: &OrgId,
        folder: &FolderId,
        mark: AttributeValue,
    ) -> Result<(), SdkError<UpdateItemError, aws_smithy_runtime_api::http::Response>> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", str_value(folder_pk(org, folder)))
            .key("sk", str_value(FOLDER_SK))
            .update_expression("REMOVE #d")
            .condition_expression("#d = :mark")
            .expression_attribute_names("#d", DELETING)
            .expression_attribute_values(":mark", mark)
            .send()
            .await
            .map(|_| ())
    }

    /// After a child's member row in `folder` has landed: clears a delete's mark, or reports
    /// that the folder is gone.
    pub(super) async fn settle_in_folder(
        &self,
        op: StorageOperation,
        org: &OrgId,
        folder: &FolderId,
    ) -> Result<Settled, StorageError> {
        // Each round either settles or saw a new delete's mark come and go.
        for _ in 0..4 {
            let Some(mark) = self.delete_mark_of(op, org, folder).await? else {
                return Ok(Settled::FolderGone);
            };
            let Some(mark) = mark else {
                return Ok(Settled::InFolder);
            };
            match self.clear_delete_mark(org, folder, mark).await {
                Ok(()) => return Ok(Settled::InFolder),
                // A new mark, or none: read again.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
                // The delete's own transaction holds the row: it ends in a moment.
                Err(e) if e.code() == Some("TransactionConflictException") => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => return Err(StorageError::new(op, e)),
            }
        }
        Err(StorageError::other(op, "the folder's delete mark kept changing").retryable())
    }

    /// Whether any member row is in `folder` (a consistent read of one item at most).
    pub(super) async fn has_members(
        &self,
        org: &OrgId,
        folder: &FolderId,
    ) -> Result<bool, StorageError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :member)")
            .expression_attribute_values(":pk", str_value(folder_pk(org, folder)))
            .expression_attribute_values(":member", str_value(MEMBER_SK_PREFIX))
            .consistent_read(true)
            .limit(1)
            .send()
            .await
            .map_err(|e| StorageError::new(StorageOperation::DeleteFolder, e))?;
        Ok(out.count > 0)
    }
}

/// A folder delete's mark: a fresh token per attempt.
pub(super) fn delete_mark() -> AttributeValue {
    str_value(filegate_domain::ids::next_ulid().to_string())
}
