//! The table's layout: keys, indexes and how records become items.
//!
//! Every key starts with the organisation, so a lookup with another org's id finds nothing.
//!
//! | item        | pk                            | sk           |
//! |-------------|-------------------------------|--------------|
//! | file        | `ORG#<org>#FILE#<file id>`    | `FILE`       |
//! | audit event | `ORG#<org>#FILE#<file id>`    | `EVT#<evt id>` (kept after the file goes) |
//! | folder      | `ORG#<org>#FOLDER#<fldr id>`  | `FOLDER`     |
//! | folder member | `ORG#<org>#FOLDER#<fldr id>` | `MEMBER#<file or fldr id>` |
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
//! The sweeper's work list is the sparse `by_sweep` index (`sweep_pk` = `SWEEP#<shard>`, sort
//! key `sweep_at`, a time): pending rows and rows being deleted carry those attributes, and
//! lose them when they settle (see `sweep_rows`).
//!
//! What a folder holds (its sub-folders and its files past `pending`) is a member row per
//! child in the folder's partition (`ORG#<org>#FOLDER#<fldr id>`, `MEMBER#<child id>`),
//! written with the child: a folder is only deleted while it has none, so a file with bytes
//! never ends up in a deleted folder (see `folder_members`).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use filegate_domain::file::{FileStatus, Parent};
use filegate_domain::ids::{FileId, FolderId, OrgId};
use filegate_domain::timestamp::Timestamp;

/// One DynamoDB item.
pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) const FILE_SK: &str = "FILE";
pub(super) const FOLDER_SK: &str = "FOLDER";
pub(super) const EVENT_SK_PREFIX: &str = "EVT#";

pub(super) fn org_pk(org: &OrgId) -> String {
    format!("ORG#{org}")
}

pub(super) fn file_pk(org: &OrgId, id: &FileId) -> String {
    format!("ORG#{org}#FILE#{id}")
}

pub(super) fn folder_pk(org: &OrgId, id: &FolderId) -> String {
    format!("ORG#{org}#FOLDER#{id}")
}

/// The `by_folder` partition of a folder's children (`None`: the root).
pub(super) fn children_pk(org: &OrgId, folder: Option<&FolderId>) -> String {
    match folder {
        Some(id) => format!("ORG#{org}#FOLDER#{id}"),
        None => format!("ORG#{org}#FOLDER#root"),
    }
}

pub(super) fn status_pk(org: &OrgId, status: FileStatus) -> String {
    format!("ORG#{org}#STATUS#{status}")
}

pub(super) fn str_value(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn parent_pk(org: &OrgId, parent: &Parent) -> String {
    format!("ORG#{org}#PARENT#{}#{}", parent.kind, parent.id)
}

/// Partitions of the `by_sweep` index.
pub const SWEEP_SHARDS: u32 = 16;

pub(super) const SWEEP_PK: &str = "sweep_pk";
pub(super) const SWEEP_AT: &str = "sweep_at";

/// How long after a deadline (an upload URL's expiry, the start of a delete) the sweeper
/// looks: what is still in flight then (a PUT that started just in time, a delete between
/// its steps) has had time to finish.
pub(super) const SWEEP_MARGIN_SECS: u64 = 60;

/// The shard of a file: spread by the random part of its ULID.
pub(super) fn sweep_pk(id: &FileId) -> String {
    let spread = id.to_string().bytes().rev().take(4).fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    });
    shard_pk(spread % SWEEP_SHARDS)
}

pub(super) fn shard_pk(shard: u32) -> String {
    format!("SWEEP#{shard:02}")
}

/// The attributes that put a row on the work list, due at `due`.
pub(super) fn sweep_attributes(id: &FileId, due: Timestamp) -> [(String, AttributeValue); 2] {
    [
        (SWEEP_PK.to_owned(), str_value(sweep_pk(id))),
        // RFC 3339 with milliseconds, fixed width: ordered as the times are.
        (SWEEP_AT.to_owned(), str_value(due.to_string())),
    ]
}

/// Creates the table with the keys and indexes above (the local API and tests; in AWS the
/// SAM template creates it), and turns on TTL for abandoned pending rows.
pub(super) async fn create_table(
    client: &Client,
    table: &str,
) -> Result<(), aws_sdk_dynamodb::Error> {
    let string_key = |name: &str| {
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
        .attribute_definitions(string_key("pk"))
        .attribute_definitions(string_key("sk"))
        .attribute_definitions(string_key("id"));
    for (index, pk, sort) in INDEXES {
        if *sort != "id" {
            request = request.attribute_definitions(string_key(sort));
        }
        request = request
            .attribute_definitions(string_key(pk))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(*index)
                    .key_schema(key(pk, KeyType::Hash))
                    .key_schema(key(sort, KeyType::Range))
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

/// The global secondary indexes: name, partition key and sort key attributes.
pub const INDEXES: &[(&str, &str, &str)] = &[
    ("by_org", "org_pk", "id"),
    ("by_folder", "folder_pk", "id"),
    ("by_parent", "parent_pk", "id"),
    ("by_status", "status_pk", "id"),
    // Sparse: only rows the sweeper must look at, under the time it should.
    ("by_sweep", "sweep_pk", "sweep_at"),
];

/// The `ExclusiveStartKey` of an index Query that resumes after the row `pk`/`sk` with `id`:
/// the table's key and the index's key together.
pub(super) fn index_start(
    pk: String,
    sk: &str,
    index_attr: &str,
    index_pk: &str,
    id: String,
) -> Item {
    HashMap::from([
        ("pk".to_owned(), str_value(pk)),
        ("sk".to_owned(), str_value(sk)),
        (index_attr.to_owned(), str_value(index_pk)),
        ("id".to_owned(), str_value(id)),
    ])
}

/// Where a page ends: the `id` of an item or of a `LastEvaluatedKey` (audit events page on
/// their sort key, `EVT#<id>`).
pub(super) fn position_of(item: &Item) -> Option<String> {
    if let Some(AttributeValue::S(id)) = item.get("id") {
        return Some(id.clone());
    }
    match item.get("sk") {
        Some(AttributeValue::S(sk)) => sk.strip_prefix(EVENT_SK_PREFIX).map(str::to_owned),
        _ => None,
    }
}
