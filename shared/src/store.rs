//! File metadata in one DynamoDB table.
//!
//! Every key starts with the organisation, so a lookup with another org's id finds nothing.
//!
//! | item        | pk                            | sk           |
//! |-------------|-------------------------------|--------------|
//! | file        | `ORG#<org>#FILE#<file id>`    | `FILE`       |
//! | audit event | `ORG#<org>#FILE#<file id>`    | `EVT#<evt id>` (kept after the file goes) |
//! | folder      | `ORG#<org>#FOLDER#<fldr id>`  | `FOLDER`     |
//!
//! Lists are Queries on global secondary indexes whose sort key is the file id (a ULID, so
//! newest first is a descending Query): `by_org` (`org_pk` = `ORG#<org>`), `by_folder`
//! (`folder_pk` = `ORG#<org>#FOLDER#<id|root>`), `by_parent` (`parent_pk` =
//! `ORG#<org>#PARENT#<type>#<id>`, only on files with a parent) and `by_status` (`status_pk` =
//! `ORG#<org>#STATUS#<status>`). Pending rows carry `expires_at`, the table's TTL attribute.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem, Update,
};

use crate::audit::AuditEvent;
use crate::aws::{StorageError, StorageOperation};
use crate::files::{FileRecord, FileStatus};
use crate::ids::{FileId, FolderId, OrgId};
use crate::timestamp::Timestamp;

type Item = HashMap<String, AttributeValue>;

const FILE_SK: &str = "FILE";
const FOLDER_SK: &str = "FOLDER";
const EVENT_SK_PREFIX: &str = "EVT#";
/// How long an abandoned `pending` row lives after its upload URL expires.
const PENDING_ROW_GRACE_SECS: u64 = 7 * 24 * 3600;

fn file_pk(org: &OrgId, id: &FileId) -> String {
    format!("ORG#{org}#FILE#{id}")
}

fn folder_pk(org: &OrgId, id: &FolderId) -> String {
    format!("ORG#{org}#FOLDER#{id}")
}

fn status_pk(org: &OrgId, status: FileStatus) -> String {
    format!("ORG#{org}#STATUS#{status}")
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// Why a new file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CreateFilesError {
    #[error("folder {0} does not exist")]
    FolderNotFound(FolderId),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Why a status change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeStatusError {
    /// The file is no longer in the status the change starts from (or is gone).
    #[error("the file's status changed concurrently")]
    Conflict,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A move from one status to another, with what changes alongside it.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub from: FileStatus,
    pub to: FileStatus,
    pub at: Timestamp,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MetadataStore {
    client: Client,
    table: String,
}

impl MetadataStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Reads a file; `None` when it does not exist in this org.
    pub async fn get_file(
        &self,
        org: &OrgId,
        id: &FileId,
    ) -> Result<Option<FileRecord>, StorageError> {
        let op = StorageOperation::GetFile;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(file_pk(org, id)))
            .key("sk", s(FILE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StorageError::new(op, e))?;
        out.item
            .map(|item| serde_dynamo::from_item(item).map_err(|e| StorageError::other(op, e)))
            .transpose()
    }

    /// Writes new `pending` files and their audit events, all or nothing. Each folder a file
    /// goes into must exist in the same transaction, so a file never lands in a folder that
    /// was deleted a moment before.
    pub async fn create_files(
        &self,
        files: &[FileRecord],
        events: &[AuditEvent],
        upload_expires_at: Timestamp,
    ) -> Result<(), CreateFilesError> {
        let op = StorageOperation::CreateFiles;
        let expires_at = upload_expires_at.plus_seconds(PENDING_ROW_GRACE_SECS);
        let mut writes = Vec::with_capacity(files.len() * 2 + 1);
        let mut folders: Vec<(OrgId, FolderId)> = Vec::new();
        for file in files {
            if let Some(folder) = file.folder
                && !folders.iter().any(|(o, f)| *o == file.org && *f == folder)
            {
                folders.push((file.org.clone(), folder));
            }
        }
        // Folder checks first, so a cancellation reason's index maps back to a folder.
        for (org, folder) in &folders {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .key("pk", s(folder_pk(org, folder)))
                .key("sk", s(FOLDER_SK))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(|e| StorageError::other(op, e))?;
            writes.push(TransactWriteItem::builder().condition_check(check).build());
        }
        for file in files {
            let mut item = file_item(file).map_err(|e| StorageError::other(op, e))?;
            item.insert(
                "expires_at".into(),
                AttributeValue::N(expires_at.unix_seconds().to_string()),
            );
            writes.push(self.put_new(item).map_err(|e| StorageError::other(op, e))?);
        }
        for event in events {
            let item = event_item(event).map_err(|e| StorageError::other(op, e))?;
            writes.push(self.put_new(item).map_err(|e| StorageError::other(op, e))?);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .client_request_token(idempotency_token())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match cancellation(&e) {
                Some(Cancelled::Condition(i)) if i < folders.len() => {
                    Err(CreateFilesError::FolderNotFound(folders[i].1))
                }
                // A concurrent write to the same folder row: worth a retry by the client.
                Some(Cancelled::Conflict) => Err(StorageError::new(op, e).retryable().into()),
                _ => Err(StorageError::new(op, e).into()),
            },
        }
    }

    /// Moves a file from `change.from` to `change.to` and writes `event`, in one transaction
    /// that only succeeds while the file is still in `change.from`: of any number of racing
    /// callers exactly one makes the change, and only that one writes an audit row.
    pub async fn change_status(
        &self,
        file: &FileRecord,
        change: &StatusChange,
        event: &AuditEvent,
    ) -> Result<FileRecord, ChangeStatusError> {
        let op = StorageOperation::ChangeFileStatus;
        let mut set = vec![
            "#status = :to",
            "updated_at = :at",
            "status_pk = :status_pk",
        ];
        let mut values: Item = HashMap::from([
            (":from".to_owned(), s(change.from.as_str())),
            (":to".to_owned(), s(change.to.as_str())),
            (":at".to_owned(), s(change.at.to_string())),
            (":status_pk".to_owned(), s(status_pk(&file.org, change.to))),
        ]);
        if change.to == FileStatus::Uploaded {
            set.push("uploaded_at = :at");
        }
        if let Some(message) = &change.error_message {
            set.push("error_message = :error_message");
            values.insert(":error_message".to_owned(), s(message.clone()));
        }
        // Only pending rows expire; anything past pending is kept.
        let expression = format!("SET {} REMOVE expires_at", set.join(", "));
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(file_pk(&file.org, &file.id)))
            .key("sk", s(FILE_SK))
            .update_expression(expression)
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StorageError::other(op, e))?;
        let audit = self
            .put_new(event_item(event).map_err(|e| StorageError::other(op, e))?)
            .map_err(|e| StorageError::other(op, e))?;
        match self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(audit)
            .client_request_token(idempotency_token())
            .send()
            .await
        {
            Ok(_) => {
                let mut updated = file.clone();
                updated.status = change.to;
                updated.updated_at = change.at;
                if change.to == FileStatus::Uploaded {
                    updated.uploaded_at = Some(change.at);
                }
                if change.error_message.is_some() {
                    updated.error_message.clone_from(&change.error_message);
                }
                Ok(updated)
            }
            Err(e) => match cancellation(&e) {
                // Lost the race: the status moved on, or DynamoDB saw a concurrent
                // transaction on the row. The caller re-reads and decides again.
                Some(Cancelled::Condition(0) | Cancelled::Conflict) => {
                    Err(ChangeStatusError::Conflict)
                }
                _ => Err(StorageError::new(op, e).into()),
            },
        }
    }

    /// The audit events of a file, oldest first (first page of up to 100).
    pub async fn audit_events(
        &self,
        org: &OrgId,
        file: &FileId,
    ) -> Result<Vec<AuditEvent>, StorageError> {
        let op = StorageOperation::ListAuditEvents;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :evt)")
            .expression_attribute_values(":pk", s(file_pk(org, file)))
            .expression_attribute_values(":evt", s(EVENT_SK_PREFIX))
            .scan_index_forward(true)
            .limit(100)
            .send()
            .await
            .map_err(|e| StorageError::new(op, e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(|e| StorageError::other(op, e)))
            .collect()
    }

    fn put_new(
        &self,
        item: Item,
    ) -> Result<TransactWriteItem, aws_sdk_dynamodb::error::BuildError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Creates the table with the keys and indexes above (the local API and tests; in AWS the
    /// SAM template creates it), and turns on TTL for abandoned pending rows.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), aws_sdk_dynamodb::Error> {
        let string_attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("name and type are set")
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("name and type are set")
        };
        let mut request = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .attribute_definitions(string_attr("pk"))
            .attribute_definitions(string_attr("sk"))
            .attribute_definitions(string_attr("id"));
        for (index, pk) in INDEXES {
            request = request
                .attribute_definitions(string_attr(pk))
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(*index)
                        .key_schema(key(pk, KeyType::Hash))
                        .key_schema(key("id", KeyType::Range))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .expect("name, keys and projection are set"),
                );
        }
        request.send().await?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("expires_at")
                    .enabled(true)
                    .build()
                    .expect("name and flag are set"),
            )
            .send()
            .await?;
        Ok(())
    }
}

/// The global secondary indexes: name and partition key attribute (sort key is always `id`).
pub const INDEXES: &[(&str, &str)] = &[
    ("by_org", "org_pk"),
    ("by_folder", "folder_pk"),
    ("by_parent", "parent_pk"),
    ("by_status", "status_pk"),
];

fn file_item(file: &FileRecord) -> Result<Item, serde_dynamo::Error> {
    let mut item: Item = serde_dynamo::to_item(file)?;
    let org = &file.org;
    item.insert("pk".into(), s(file_pk(org, &file.id)));
    item.insert("sk".into(), s(FILE_SK));
    item.insert("org_pk".into(), s(format!("ORG#{org}")));
    let folder = file
        .folder
        .map_or_else(|| "root".to_owned(), |f| f.to_string());
    item.insert("folder_pk".into(), s(format!("ORG#{org}#FOLDER#{folder}")));
    if let Some(parent) = &file.parent {
        item.insert(
            "parent_pk".into(),
            s(format!("ORG#{org}#PARENT#{}#{}", parent.kind, parent.id)),
        );
    }
    item.insert("status_pk".into(), s(status_pk(org, file.status)));
    Ok(item)
}

fn event_item(event: &AuditEvent) -> Result<Item, serde_dynamo::Error> {
    let mut item: Item = serde_dynamo::to_item(event)?;
    item.insert("pk".into(), s(file_pk(&event.org, &event.file)));
    item.insert("sk".into(), s(format!("{EVENT_SK_PREFIX}{}", event.id)));
    Ok(item)
}

/// Why DynamoDB cancelled a transaction, when it was not a plain failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cancelled {
    /// The condition of the transaction item at this index failed.
    Condition(usize),
    /// Another transaction touched the same items at the same time.
    Conflict,
}

fn cancellation<R>(
    err: &aws_smithy_runtime_api::client::result::SdkError<TransactWriteItemsError, R>,
) -> Option<Cancelled> {
    match err.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => {
            let reasons = cancelled.cancellation_reasons();
            if let Some(i) = reasons
                .iter()
                .position(|r| r.code() == Some("ConditionalCheckFailed"))
            {
                return Some(Cancelled::Condition(i));
            }
            reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"))
                .then_some(Cancelled::Conflict)
        }
        TransactWriteItemsError::TransactionInProgressException(_) => Some(Cancelled::Conflict),
        _ => None,
    }
}

/// Makes the SDK's own retries of one transaction idempotent: a retry after a lost response
/// is recognised by DynamoDB instead of failing on the rows the first attempt wrote.
fn idempotency_token() -> String {
    crate::ids::next_ulid().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Actor;
    use crate::files::{AllowedContentTypes, ContentType, FileName, FileSize, Parent, SizeInput};

    fn record() -> FileRecord {
        let now = Timestamp::now();
        FileRecord {
            id: FileId::new(),
            org: OrgId::parse("acme").unwrap(),
            name: FileName::parse("résumé.pdf").unwrap(),
            content_type: ContentType::parse("application/pdf", &AllowedContentTypes::any())
                .unwrap(),
            size_bytes: FileSize::parse(&SizeInput::new("5368709120"), u64::MAX).unwrap(),
            checksum_sha256: None,
            status: FileStatus::Pending,
            folder: Some(FolderId::new()),
            parent: Some(Parent::parse("knowledge", "k1").unwrap()),
            public: false,
            error_message: None,
            uploaded_by: Actor::system("test"),
            created_at: now,
            updated_at: now,
            uploaded_at: None,
        }
    }

    #[test]
    fn file_items_round_trip_and_carry_org_scoped_keys() {
        let file = record();
        let item = file_item(&file).unwrap();
        let key = |k: &str| item[k].as_s().unwrap().clone();
        assert_eq!(key("pk"), format!("ORG#acme#FILE#{}", file.id));
        assert_eq!(key("org_pk"), "ORG#acme");
        assert_eq!(
            key("folder_pk"),
            format!("ORG#acme#FOLDER#{}", file.folder.unwrap())
        );
        assert_eq!(key("parent_pk"), "ORG#acme#PARENT#knowledge#k1");
        assert_eq!(key("status_pk"), "ORG#acme#STATUS#pending");
        assert_eq!(
            key("id"),
            file.id.to_string(),
            "the index sort key is the id"
        );
        let back: FileRecord = serde_dynamo::from_item(item).unwrap();
        assert_eq!(back, file);
    }

    #[test]
    fn files_without_parent_stay_out_of_the_parent_index() {
        let mut file = record();
        file.parent = None;
        file.folder = None;
        let item = file_item(&file).unwrap();
        assert!(
            !item.contains_key("parent_pk"),
            "a NULL index key would be rejected"
        );
        assert_eq!(item["folder_pk"].as_s().unwrap(), "ORG#acme#FOLDER#root");
    }
}
