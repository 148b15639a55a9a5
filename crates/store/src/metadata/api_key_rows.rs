//! API keys: one row per key for listing, and one lookup row keyed by the secret's hash for
//! authentication. Neither holds the secret.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};

use filegate_domain::api_key::{ApiKeyRecord, SecretHash};
use filegate_domain::ids::{ApiKeyId, OrgId};
use filegate_domain::page::Page;

use super::schema::Item;
use super::schema::{index_start, org_pk, str_value};
use super::table::{Cancelled, IndexQuery, MetadataStore, cancellation, failed};
use crate::error::{StorageError, StorageOperation};

const KEY_SK: &str = "KEY";
const LOOKUP_SK: &str = "APIKEY";

fn key_pk(org: &OrgId, id: &ApiKeyId) -> String {
    format!("ORG#{org}#KEY#{id}")
}

fn lookup_pk(hash: &SecretHash) -> String {
    format!("APIKEY#{}", hash.as_hex())
}

/// Why a key was not revoked.
#[derive(Debug, thiserror::Error)]
pub enum DeleteApiKeyError {
    #[error("no such API key")]
    NotFound,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl MetadataStore {
    /// Writes the key's row and its lookup row together.
    pub async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<(), StorageError> {
        let op = StorageOperation::CreateApiKey;
        let mut row: Item = serde_dynamo::to_item(key).map_err(failed(op))?;
        let mut lookup = row.clone();
        row.insert("pk".into(), str_value(key_pk(&key.org, &key.id)));
        row.insert("sk".into(), str_value(KEY_SK));
        row.insert("org_pk".into(), str_value(org_pk(&key.org)));
        lookup.insert("pk".into(), str_value(lookup_pk(&key.secret_sha256)));
        lookup.insert("sk".into(), str_value(LOOKUP_SK));
        let writes = vec![
            self.put_new(row).map_err(failed(op))?,
            self.put_new(lookup).map_err(failed(op))?,
        ];
        self.transact(writes)
            .await
            .map_err(|e| StorageError::new(op, *e))
    }

    /// The live key whose secret hashes to `hash`. A strongly consistent read, so a revoked
    /// key stops working at once.
    pub async fn api_key_by_secret(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<ApiKeyRecord>, StorageError> {
        self.read(StorageOperation::ReadApiKey, lookup_pk(hash), LOOKUP_SK)
            .await
    }

    /// A page of the org's keys, newest first.
    pub async fn list_api_keys(
        &self,
        org: &OrgId,
        after: Option<ApiKeyId>,
        limit: usize,
    ) -> Result<Page<ApiKeyRecord>, StorageError> {
        let pk = org_pk(org);
        let query = IndexQuery {
            index: Some("by_org"),
            key_condition: "org_pk = :pk AND begins_with(id, :prefix)",
            filter: None,
            names: HashMap::new(),
            values: HashMap::from([
                (":pk".to_owned(), str_value(pk.clone())),
                (":prefix".to_owned(), str_value(ApiKeyId::PREFIX)),
            ]),
            forward: false,
        };
        let start =
            after.map(|id| index_start(key_pk(org, &id), KEY_SK, "org_pk", &pk, id.to_string()));
        self.page(StorageOperation::ListApiKeys, query, start, limit)
            .await
    }

    /// Deletes the key's row and its lookup row: from then on the secret authenticates nothing.
    pub async fn delete_api_key(
        &self,
        org: &OrgId,
        id: &ApiKeyId,
    ) -> Result<ApiKeyRecord, DeleteApiKeyError> {
        let op = StorageOperation::DeleteApiKey;
        let Some(key) = self
            .read::<ApiKeyRecord>(op, key_pk(org, id), KEY_SK)
            .await?
        else {
            return Err(DeleteApiKeyError::NotFound);
        };
        let delete = |pk: String, sk: &str| {
            Delete::builder()
                .table_name(&self.table)
                .key("pk", str_value(pk))
                .key("sk", str_value(sk))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map(|d| TransactWriteItem::builder().delete(d).build())
        };
        let writes = vec![
            delete(key_pk(org, id), KEY_SK).map_err(failed(op))?,
            delete(lookup_pk(&key.secret_sha256), LOOKUP_SK).map_err(failed(op))?,
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(key),
            Err(e) => match cancellation(&e) {
                // Revoked concurrently: it is gone either way.
                Some(Cancelled::Condition(_)) => Err(DeleteApiKeyError::NotFound),
                Some(Cancelled::Contention) => Err(StorageError::new(op, *e).retryable().into()),
                None => Err(StorageError::new(op, *e).into()),
            },
        }
    }
}
