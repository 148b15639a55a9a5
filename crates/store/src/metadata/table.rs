//! [`MetadataStore`] and what every row operation shares: paged Queries, consistent reads,
//! transactions (retried on contention) and the reasons DynamoDB cancelled one.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_smithy_runtime_api::client::result::SdkError;
use filegate_domain::page::Page;
use serde::de::DeserializeOwned;

use super::schema::{self, Item, position_of, str_value};
use crate::error::{StorageError, StorageOperation};

pub(super) type TransactError =
    SdkError<TransactWriteItemsError, aws_smithy_runtime_api::http::Response>;

/// A Query that pages by id: the key condition (and an optional filter) of one partition.
pub(super) struct IndexQuery {
    pub(super) index: Option<&'static str>,
    pub(super) key_condition: &'static str,
    pub(super) filter: Option<String>,
    pub(super) names: HashMap<String, String>,
    pub(super) values: Item,
    /// `false`: newest first.
    pub(super) forward: bool,
}

impl IndexQuery {
    /// Base-table Queries (a file's audit trail) read consistently; indexes cannot.
    fn consistent(&self) -> bool {
        self.index.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct MetadataStore {
    pub(super) client: Client,
    pub(super) table: String,
}

impl MetadataStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Creates the table with its keys and indexes (the local API and tests; in AWS the SAM
    /// template creates it), and turns on TTL for abandoned pending rows.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), aws_sdk_dynamodb::Error> {
        schema::create_table(client, table).await
    }

    /// Reads up to `limit` items of `query` after `start`. Filtered queries may need several
    /// round trips to fill a page; after [`MAX_ROUNDS`] the page is returned short, with a
    /// position to go on from, rather than reading a large partition in one request.
    pub(super) async fn page<T: DeserializeOwned>(
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
    pub(super) async fn read<T: DeserializeOwned>(
        &self,
        op: StorageOperation,
        pk: String,
        sk: &str,
    ) -> Result<Option<T>, StorageError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", str_value(pk))
            .key("sk", str_value(sk))
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
    /// retryable. A failed condition is returned at once: it is an answer, not an accident,
    /// unless the transaction itself is what made it fail (see [`WRITE_TOKEN`]).
    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), Box<TransactError>> {
        const ATTEMPTS: u32 = 4;
        let mut attempt = 0;
        // Attempts DynamoDB answered "in progress": they may have applied since.
        let mut maybe_applied: Vec<(String, Item)> = Vec::new();
        loop {
            // A new token per attempt here: each is a new decision to write. The SDK's own
            // retries of one attempt resend its token.
            let token = idempotency_token();
            let (items, witness) = self.stamped(items.clone(), &token);
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .client_request_token(&token)
                .send()
                .await
                .map(|_| ())
                .map_err(Box::new);
            attempt += 1;
            match result {
                Err(e) if attempt < ATTEMPTS && cancellation(&e) == Some(Cancelled::Contention) => {
                    if still_in_progress(&e) {
                        maybe_applied.push((token, witness));
                    }
                    // 10-20 ms, then 20-40, 40-80: up to about 140 ms in all.
                    let base = 10u64 << (attempt - 1);
                    let jitter = u64::from(getrandom::u32().unwrap_or(0)) % base;
                    tokio::time::sleep(std::time::Duration::from_millis(base + jitter)).await;
                }
                Err(e) if matches!(cancellation(&e), Some(Cancelled::Condition(_))) => {
                    maybe_applied.push((token, witness));
                    for (token, witness) in maybe_applied {
                        if self.landed(witness, &token).await {
                            tracing::info!(
                                token,
                                "a retried transaction found its own earlier attempt applied"
                            );
                            return Ok(());
                        }
                    }
                    return Err(e);
                }
                other => return other,
            }
        }
    }

    /// Stamps every row the transaction puts or updates with [`WRITE_TOKEN`]; returns the
    /// transaction and the key of a row that will carry the token if it applies (a receipt
    /// row when it only deletes and checks).
    fn stamped(
        &self,
        mut items: Vec<TransactWriteItem>,
        token: &str,
    ) -> (Vec<TransactWriteItem>, Item) {
        let mut witness: Option<Item> = None;
        for entry in &mut items {
            if let Some(put) = entry.put.as_mut() {
                put.item.insert(WRITE_TOKEN.to_owned(), str_value(token));
                if witness.is_none() {
                    witness = Some(key_of(&put.item));
                }
            } else if let Some(update) = entry.update.as_mut() {
                update.update_expression = with_token_set(&update.update_expression);
                update
                    .expression_attribute_values
                    .get_or_insert_with(HashMap::new)
                    .insert(WRITE_TOKEN_VALUE.to_owned(), str_value(token));
                witness.get_or_insert_with(|| update.key.clone());
            }
        }
        let witness = witness.unwrap_or_else(|| {
            let receipt = receipt_item(token);
            let key = key_of(&receipt);
            if let Ok(put) = Put::builder()
                .table_name(&self.table)
                .set_item(Some(receipt))
                .build()
            {
                items.push(TransactWriteItem::builder().put(put).build());
            }
            key
        });
        (items, witness)
    }

    /// Whether the row `witness` carries `token`: the transaction that wrote it applied.
    /// A row that cannot be read says nothing either way.
    async fn landed(&self, witness: Item, token: &str) -> bool {
        let read = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(witness))
            .consistent_read(true)
            .projection_expression("#t")
            .expression_attribute_names("#t", WRITE_TOKEN)
            .send()
            .await;
        matches!(
            read.ok().and_then(|out| out.item).and_then(|mut item| item.remove(WRITE_TOKEN)),
            Some(AttributeValue::S(t)) if t == token
        )
    }

    pub(super) fn put_new(&self, item: Item) -> Result<TransactWriteItem, BuildError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

/// Turns a failure to build a request or convert an item into a [`StorageError`].
pub(super) fn failed<E>(op: StorageOperation) -> impl FnOnce(E) -> StorageError
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    move |e| StorageError::other(op, e)
}

/// Why DynamoDB cancelled a transaction, when it was not a plain failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cancelled {
    /// The condition of the transaction item at this index failed.
    Condition(usize),
    /// Another transaction touched the same items at the same time, or DynamoDB throttled
    /// one of them: nothing was written, and a retry may succeed.
    Contention,
}

pub(super) fn cancellation(err: &TransactError) -> Option<Cancelled> {
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

/// DynamoDB was still applying a transaction with this attempt's token when the SDK gave up
/// on it: it may yet have applied.
fn still_in_progress(err: &TransactError) -> bool {
    matches!(
        err.as_service_error(),
        Some(TransactWriteItemsError::TransactionInProgressException(_))
    )
}

/// Makes the SDK's own retries of one transaction idempotent: a retry after a lost response
/// is recognised by DynamoDB instead of failing on the rows the first attempt wrote.
fn idempotency_token() -> String {
    filegate_domain::ids::next_ulid().to_string()
}

/// The attribute every row a transaction puts or updates carries: the transaction's token.
/// DynamoDB recognises a resent token for ten minutes only, and emulators may not at all;
/// a retry whose condition failed because its own earlier attempt applied (a lost response,
/// then the SDK's retry) finds its token on the row and is the success it was, not an error
/// about a row it wrote itself.
pub(super) const WRITE_TOKEN: &str = "write_token";
const WRITE_TOKEN_VALUE: &str = ":filegate_write_token";

/// How long a receipt row (of a transaction that only deletes) is kept.
const RECEIPT_TTL_SECS: u64 = 24 * 3600;

/// The row a transaction that writes no other row leaves to be recognised by.
fn receipt_item(token: &str) -> Item {
    let expires = filegate_domain::timestamp::Timestamp::now().plus_seconds(RECEIPT_TTL_SECS);
    HashMap::from([
        ("pk".to_owned(), str_value(format!("RECEIPT#{token}"))),
        ("sk".to_owned(), str_value("receipt")),
        (WRITE_TOKEN.to_owned(), str_value(token)),
        (
            "expires_at".to_owned(),
            AttributeValue::N(expires.unix_seconds().to_string()),
        ),
    ])
}

fn key_of(item: &Item) -> Item {
    ["pk", "sk"]
        .into_iter()
        .filter_map(|k| Some((k.to_owned(), item.get(k)?.clone())))
        .collect()
}

/// `expression` with `write_token = :filegate_write_token` in its SET clause (added when it
/// has none). filegate's update expressions start with their clause keyword.
fn with_token_set(expression: &str) -> String {
    let set = format!("{WRITE_TOKEN} = {WRITE_TOKEN_VALUE}");
    if let Some(rest) = expression.strip_prefix("SET ") {
        format!("SET {set}, {rest}")
    } else if let Some((before, after)) = expression.split_once(" SET ") {
        format!("{before} SET {set}, {after}")
    } else {
        format!("{expression} SET {set}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_token_joins_the_set_clause_or_makes_one() {
        assert_eq!(
            with_token_set("SET a = :a, b = :b"),
            "SET write_token = :filegate_write_token, a = :a, b = :b"
        );
        assert_eq!(
            with_token_set("ADD children :delta"),
            "ADD children :delta SET write_token = :filegate_write_token"
        );
        assert_eq!(
            with_token_set("ADD n :d SET a = :a REMOVE c"),
            "ADD n :d SET write_token = :filegate_write_token, a = :a REMOVE c"
        );
    }
}
