//! API keys: created with their secret shown once, revoked, and checked on every request that
//! sends one. Only the secret's SHA-256 is stored.

use filegate_domain::DomainError;
use filegate_domain::api_key::{ApiKeyRecord, SECRET_PREFIX, SecretHash, new_secret};
use filegate_domain::ids::ApiKeyId;
use filegate_domain::principal::{Actor, ActorKind, Caller, Scope, Scopes};
use filegate_domain::timestamp::Timestamp;
use filegate_store::MetadataStore;
use filegate_store::metadata::DeleteApiKeyError;

/// Creating, revoking and checking keys.
#[derive(Debug, Clone)]
pub struct ApiKeys {
    store: MetadataStore,
}

/// A key just created, with its secret: the only time the secret is known.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    pub key: ApiKeyRecord,
    pub secret: String,
}

impl ApiKeys {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }

    /// Creates a key in the caller's org with `scopes` (checked names, at least one).
    pub async fn create(
        &self,
        caller: &Caller,
        name: String,
        scopes: Vec<Scope>,
    ) -> Result<CreatedApiKey, DomainError> {
        let secret = new_secret()?;
        let key = ApiKeyRecord {
            id: ApiKeyId::new(),
            org: caller.org.clone(),
            name,
            scopes,
            secret_prefix: secret.chars().take(SECRET_PREFIX.len() + 4).collect(),
            secret_sha256: SecretHash::of(&secret),
            created_by: caller.actor.clone(),
            created_at: Timestamp::now(),
        };
        self.store.create_api_key(&key).await?;
        Ok(CreatedApiKey { key, secret })
    }

    /// Deletes the key: its secret stops authenticating with the next request.
    pub async fn revoke(&self, caller: &Caller, id: &ApiKeyId) -> Result<(), DomainError> {
        match self.store.delete_api_key(&caller.org, id).await {
            Ok(_) => Ok(()),
            Err(DeleteApiKeyError::NotFound) => Err(DomainError::not_found(
                "api_key_not_found",
                format!("no API key {id}"),
            )
            .with_param("id")),
            Err(DeleteApiKeyError::Storage(e)) => Err(e.into()),
        }
    }

    /// The caller an `X-API-Key` secret stands for: its org, with the key as actor.
    pub async fn authenticate(&self, secret: &str) -> Result<Caller, DomainError> {
        let invalid =
            || DomainError::unauthenticated("invalid_api_key", "the API key is not valid");
        // Cheap checks first: a value that cannot be a key costs no read.
        if !secret.starts_with(SECRET_PREFIX) || secret.len() > 128 {
            return Err(invalid());
        }
        let key = self
            .store
            .api_key_by_secret(&SecretHash::of(secret))
            .await?
            .ok_or_else(invalid)?;
        Ok(Caller {
            org: key.org,
            actor: Actor {
                kind: ActorKind::ApiKey,
                id: key.id.to_string(),
            },
            scopes: Scopes::from_list(&key.scopes),
        })
    }
}
