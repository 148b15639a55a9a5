//! The sweeper's work list. Rows that may need repair carry `sweep_pk` (one of
//! [`SWEEP_SHARDS`] partitions, so that no single index partition takes every upload's write)
//! and `sweep_at` (when to look): pending rows from the moment their upload URL expires, and
//! rows being deleted from shortly after the delete started. A row loses both when it
//! settles, so the sparse `by_sweep` index holds only work, and a sweep costs what there is to
//! repair, never what the table holds.

use std::collections::HashMap;

use filegate_domain::file::{FileRecord, FileStatus};
use filegate_domain::timestamp::Timestamp;

use super::file_rows::{ChangeStatusError, updated_row};
use super::schema::{
    FILE_SK, Item, SWEEP_AT, SWEEP_MARGIN_SECS, SWEEP_PK, file_pk, shard_pk, str_value,
};
use super::table::{MetadataStore, failed};
use crate::error::{StorageError, StorageOperation};

/// Where a sweep of one shard goes on.
#[derive(Debug, Clone)]
pub struct SweepCursor(Item);

/// Rows due, and where the shard goes on (`None`: nothing more is due).
#[derive(Debug)]
pub struct SweepPage {
    pub files: Vec<FileRecord>,
    pub next: Option<SweepCursor>,
}

impl MetadataStore {
    /// Up to `limit` rows of `shard` due at `now`, oldest due first. The index lags the table
    /// a little: read each row again before acting on it.
    pub async fn due_for_sweep(
        &self,
        shard: u32,
        now: Timestamp,
        after: Option<SweepCursor>,
        limit: i32,
    ) -> Result<SweepPage, StorageError> {
        let op = StorageOperation::ListFiles;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by_sweep")
            .key_condition_expression("#pk = :pk AND #at <= :now")
            .expression_attribute_names("#pk", SWEEP_PK)
            .expression_attribute_names("#at", SWEEP_AT)
            .expression_attribute_values(":pk", str_value(shard_pk(shard)))
            .expression_attribute_values(":now", str_value(now.to_string()))
            .set_exclusive_start_key(after.map(|c| c.0))
            .limit(limit)
            .send()
            .await
            .map_err(|e| StorageError::new(op, e))?;
        let files = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(failed(op)))
            .collect::<Result<_, _>>()?;
        Ok(SweepPage {
            files,
            next: out.last_evaluated_key.map(SweepCursor),
        })
    }

    /// Puts a pending row back on the work list at `due`, only while it is as read.
    pub async fn reschedule_sweep(
        &self,
        file: &FileRecord,
        due: Timestamp,
    ) -> Result<(), ChangeStatusError> {
        let op = StorageOperation::ChangeFileStatus;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", str_value(file_pk(&file.org, &file.id)))
            .key("sk", str_value(FILE_SK))
            .update_expression(format!("SET {SWEEP_AT} = :due"))
            .condition_expression(
                "#status = :pending AND updated_at = :read AND attribute_not_exists(deleting_at)",
            )
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(as_read(file, [(":due", due.to_string())])))
            .send()
            .await;
        updated_row(op, result).map(|_| ())
    }

    /// First step of removing an abandoned pending file: marks the row as being deleted (so
    /// no finalize can make it `uploaded` while its object goes) and as expired, only while it
    /// is as read. The rest is a delete's: the object, then [`MetadataStore::remove_file`].
    /// Should the sweeper die in between, the mark keeps the row on its work list.
    pub async fn mark_expiring(
        &self,
        file: &FileRecord,
        at: Timestamp,
    ) -> Result<FileRecord, ChangeStatusError> {
        let op = StorageOperation::DeleteFile;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", str_value(file_pk(&file.org, &file.id)))
            .key("sk", str_value(FILE_SK))
            .update_expression(format!(
                "SET deleting_at = :at, expired_at = :at, {SWEEP_AT} = :due"
            ))
            .condition_expression(
                "#status = :pending AND updated_at = :read AND attribute_not_exists(deleting_at)",
            )
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(as_read(
                file,
                [
                    (":at", at.to_string()),
                    (":due", at.plus_seconds(SWEEP_MARGIN_SECS).to_string()),
                ],
            )))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        serde_dynamo::from_item(updated_row(op, result)?)
            .map_err(|e| StorageError::other(op, e).into())
    }
}

/// The values of the "still pending, as read" condition, plus `extra`.
fn as_read<const N: usize>(file: &FileRecord, extra: [(&str, String); N]) -> Item {
    let mut values = HashMap::from([
        (
            ":pending".to_owned(),
            str_value(FileStatus::Pending.as_str()),
        ),
        (":read".to_owned(), str_value(file.updated_at.to_string())),
    ]);
    values.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), str_value(v))));
    values
}
