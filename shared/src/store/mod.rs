//! Everything filegate keeps in one DynamoDB table.
//!
//! Every key starts with the organisation, so a lookup with another org's id finds nothing.
//!
//! | item        | pk                            | sk           |
//! |-------------|-------------------------------|--------------|
//! | file        | `ORG#<org>#FILE#<file id>`    | `FILE`       |
//! | audit event | `ORG#<org>#FILE#<file id>`    | `EVT#<evt id>` (kept after the file goes) |
//! | folder      | `ORG#<org>#FOLDER#<fldr id>`  | `FOLDER`     |
//! | API key     | `ORG#<org>#KEY#<key id>`      | `KEY`        |
//! | key lookup  | `APIKEY#<sha-256 of secret>`  | `APIKEY`     |
//!
//! Lists are Queries on global secondary indexes whose sort key is the item's id (a ULID, so
//! newest first is a descending Query): `by_org` (`org_pk` = `ORG#<org>`: files, folders and
//! API keys, told apart by id prefix), `by_folder` (`folder_pk` = `ORG#<org>#FOLDER#<id|root>`:
//! the files and sub-folders of a folder), `by_parent` (`parent_pk` =
//! `ORG#<org>#PARENT#<type>#<id>`, only on files with a parent) and `by_status` (`status_pk` =
//! `ORG#<org>#STATUS#<status>`). Pending rows carry `expires_at`, the table's TTL attribute.
//!
//! Folder rows keep a `children` counter of their sub-folders and of their files past
//! `pending`, changed in the same transaction as the child: a folder can only be deleted at
//! zero, so a file with bytes never ends up in a deleted folder.

mod api_keys;
mod files;
mod folders;

pub use api_keys::DeleteApiKeyError;
pub use files::{
    ChangeStatusError, CreateFilesError, FileChange, FileFilter, StatusChange, UpdateFileError,
};
pub use folders::{CreateFolderError, DeleteFolderError, UpdateFolderError};

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem, Update,
};
use aws_smithy_runtime_api::client::result::SdkError;
use serde::de::DeserializeOwned;

use crate::aws::{StorageError, StorageOperation};
use crate::files::FileStatus;
use crate::ids::{FileId, FolderId, OrgId};

type Item = HashMap<String, AttributeValue>;
type TransactError = SdkError<TransactWriteItemsError, aws_smithy_runtime_api::http::Response>;

const FILE_SK: &str = "FILE";
const FOLDER_SK: &str = "FOLDER";
const EVENT_SK_PREFIX: &str = "EVT#";

fn org_pk(org: &OrgId) -> String {
    format!("ORG#{org}")
}

fn file_pk(org: &OrgId, id: &FileId) -> String {
    format!("ORG#{org}#FILE#{id}")
}

fn folder_pk(org: &OrgId, id: &FolderId) -> String {
    format!("ORG#{org}#FOLDER#{id}")
}

/// The `by_folder` partition of a folder's children (`None`: the root).
fn children_pk(org: &OrgId, folder: Option<&FolderId>) -> String {
    match folder {
        Some(id) => format!("ORG#{org}#FOLDER#{id}"),
        None => format!("ORG#{org}#FOLDER#root"),
    }
}

fn status_pk(org: &OrgId, status: FileStatus) -> String {
    format!("ORG#{org}#STATUS#{status}")
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// One page of a list, and where the next one starts (an item id), if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A Query that pages by id: the key condition (and an optional filter) of one partition.
struct IndexQuery {
    index: Option<&'static str>,
    key_condition: &'static str,
    filter: Option<String>,
    names: HashMap<String, String>,
    values: Item,
    /// `false`: newest first.
    forward: bool,
}

impl IndexQuery {
    /// Base-table Queries (a file's audit trail) read consistently; indexes cannot.
    fn consistent(&self) -> bool {
        self.index.is_none()
    }
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

    /// Reads up to `limit` items of `query` after `start`. Filtered queries may need several
    /// round trips to fill a page; after [`MAX_ROUNDS`] the page is returned short, with a
    /// position to go on from, rather than reading a large partition in one request.
    async fn page<T: DeserializeOwned>(
        &self,
        op: StorageOperation,
        query: IndexQuery,
        start: Option<Item>,
        limit: usize,
    ) -> Result<Page<T>, StorageError> {
        const MAX_ROUNDS: usize = 8;
        const FILTERED_READ_AHEAD: usize = 100;
        let mut items: Vec<Item> = Vec::with_capacity(limit + 1);
        let mut start = start;
        let mut exhausted = false;
        for _ in 0..MAX_ROUNDS {
            // One more than asked for tells whether there is a next page. A filter drops
            // items after `Limit` counts them, so filtered queries read ahead: a page holds
            // only what was asked for and the next one starts after its last item anyway.
            let want = limit + 1 - items.len();
            let want = if query.filter.is_some() {
                want.max(FILTERED_READ_AHEAD)
            } else {
                want
            };
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(query.index.map(str::to_owned))
                .key_condition_expression(query.key_condition)
                .set_filter_expression(query.filter.clone())
                .set_expression_attribute_names(
                    (!query.names.is_empty()).then(|| query.names.clone()),
                )
                .set_expression_attribute_values(Some(query.values.clone()))
                .scan_index_forward(query.forward)
                .consistent_read(query.consistent())
                .set_exclusive_start_key(start.take())
                .limit(i32::try_from(want).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|e| StorageError::new(op, e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if items.len() <= limit => start = Some(key),
                Some(key) => {
                    start = Some(key);
                    break;
                }
                None => {
                    exhausted = true;
                    break;
                }
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().and_then(position_of)
        } else if exhausted {
            None
        } else {
            start.as_ref().and_then(position_of)
        };
        let items = items
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(|e| StorageError::other(op, e)))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }

    /// A strongly consistent read of one item.
    async fn read<T: DeserializeOwned>(
        &self,
        op: StorageOperation,
        pk: String,
        sk: &str,
    ) -> Result<Option<T>, StorageError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StorageError::new(op, e))?;
        out.item
            .map(|item| serde_dynamo::from_item(item).map_err(failed(op)))
            .transpose()
    }

    /// Runs a transaction. Contention (another transaction on the same rows, throttling) is
    /// retried here with jittered backoff, as nothing was written; what is still contended
    /// after that comes back as [`Cancelled::Contention`] for the caller to report as
    /// retryable. A failed condition is returned at once: it is an answer, not an accident.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), Box<TransactError>> {
        const ATTEMPTS: u32 = 4;
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(idempotency_token())
                .send()
                .await
                .map(|_| ())
                .map_err(Box::new);
            attempt += 1;
            match result {
                Err(e) if attempt < ATTEMPTS && cancellation(&e) == Some(Cancelled::Contention) => {
                    // 10-20 ms, then 20-40, 40-80: up to about 140 ms in all.
                    let base = 10u64 << (attempt - 1);
                    let jitter = u64::from(getrandom::u32().unwrap_or(0)) % base;
                    tokio::time::sleep(std::time::Duration::from_millis(base + jitter)).await;
                }
                other => return other,
            }
        }
    }

    fn put_new(&self, item: Item) -> Result<TransactWriteItem, BuildError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Adds `delta` to a folder's `children`, only while the folder exists (an `ADD` on a
    /// missing row would create it).
    fn adjust_children(
        &self,
        org: &OrgId,
        folder: &FolderId,
        delta: i64,
    ) -> Result<TransactWriteItem, BuildError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(folder_pk(org, folder)))
            .key("sk", s(FOLDER_SK))
            .update_expression("ADD children :delta")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":delta", AttributeValue::N(delta.to_string()))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
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

/// The `ExclusiveStartKey` of an index Query that resumes after the row `pk`/`sk` with `id`:
/// the table's key and the index's key together.
fn index_start(pk: String, sk: &str, index_attr: &str, index_pk: &str, id: String) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(pk)),
        ("sk".to_owned(), s(sk)),
        (index_attr.to_owned(), s(index_pk)),
        ("id".to_owned(), s(id)),
    ])
}

/// Where a page ends: the `id` of an item or of a `LastEvaluatedKey` (audit events page on
/// their sort key, `EVT#<id>`).
fn position_of(item: &Item) -> Option<String> {
    if let Some(AttributeValue::S(id)) = item.get("id") {
        return Some(id.clone());
    }
    match item.get("sk") {
        Some(AttributeValue::S(sk)) => sk.strip_prefix(EVENT_SK_PREFIX).map(str::to_owned),
        _ => None,
    }
}

/// Turns a failure to build a request or convert an item into a [`StorageError`].
fn failed<E>(op: StorageOperation) -> impl FnOnce(E) -> StorageError
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    move |e| StorageError::other(op, e)
}

/// Why DynamoDB cancelled a transaction, when it was not a plain failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cancelled {
    /// The condition of the transaction item at this index failed.
    Condition(usize),
    /// Another transaction touched the same items at the same time, or DynamoDB throttled
    /// one of them: nothing was written, and a retry may succeed.
    Contention,
}

fn cancellation(err: &TransactError) -> Option<Cancelled> {
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
                .any(|r| {
                    matches!(
                        r.code(),
                        Some(
                            "TransactionConflict"
                                | "ThrottlingError"
                                | "ProvisionedThroughputExceeded"
                                | "RequestLimitExceeded"
                        )
                    )
                })
                .then_some(Cancelled::Contention)
        }
        TransactWriteItemsError::TransactionInProgressException(_) => Some(Cancelled::Contention),
        _ => None,
    }
}

/// Makes the SDK's own retries of one transaction idempotent: a retry after a lost response
/// is recognised by DynamoDB instead of failing on the rows the first attempt wrote.
fn idempotency_token() -> String {
    crate::ids::next_ulid().to_string()
}
