//! API keys: long random secrets an organisation's servers send as `X-API-Key`. The secret is
//! shown once, when the key is created; only its SHA-256 is stored (a fast hash is right for
//! 256 random bits, which no dictionary can guess).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::{Actor, ActorKind, Caller, Scope, Scopes};
use crate::aws::{StorageError, StorageOperation};
use crate::error::ApiError;
use crate::ids::{ApiKeyId, OrgId};
use crate::listing::{Cursors, List, PageRequest};
use crate::store::{DeleteApiKeyError, MetadataStore};
use crate::timestamp::Timestamp;

/// What every secret starts with, so that leaked keys are easy to find in code and logs.
pub const SECRET_PREFIX: &str = "fgk_";
const NAME_MAX_CHARS: usize = 100;

/// The hex SHA-256 of a secret: the only form in which a secret is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretHash(String);

impl SecretHash {
    pub fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

/// A key as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub org: OrgId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The first characters of the secret, to tell keys apart in a list.
    pub secret_prefix: String,
    pub secret_sha256: SecretHash,
    pub created_by: Actor,
    pub created_at: Timestamp,
}

/// `POST /v1/api_keys`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// 1–100 characters, e.g. `billing-service`.
    #[schema(example = "billing-service")]
    pub name: String,
    /// One or more of `files:read`, `files:write`, `admin`.
    #[schema(example = json!(["files:read", "files:write"]))]
    pub scopes: Vec<String>,
}

/// The API key object.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ApiKey)]
pub struct ApiKeyObject {
    #[schema(example = "key_01JD3Q5Z8K2M4N6P8R0T2V4X6Z")]
    pub id: String,
    /// Always `api_key`.
    #[schema(example = "api_key")]
    pub object: &'static str,
    pub name: String,
    #[schema(value_type = Vec<String>, example = json!(["files:read"]))]
    pub scopes: Vec<Scope>,
    /// The start of the secret, e.g. `fgk_Xy3a`.
    pub secret_prefix: String,
    pub created_by: Actor,
    pub created_at: String,
}

impl From<&ApiKeyRecord> for ApiKeyObject {
    fn from(k: &ApiKeyRecord) -> Self {
        Self {
            id: k.id.to_string(),
            object: "api_key",
            name: k.name.clone(),
            scopes: k.scopes.clone(),
            secret_prefix: k.secret_prefix.clone(),
            created_by: k.created_by.clone(),
            created_at: k.created_at.to_string(),
        }
    }
}

/// A new key with its secret: the only response that ever contains it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewApiKey {
    #[serde(flatten)]
    pub key: ApiKeyObject,
    /// Send as `X-API-Key`. Shown once: store it now.
    #[schema(example = "fgk_3q2a…")]
    pub secret: String,
}

/// `{"id","object":"api_key","deleted":true}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeletedApiKey {
    pub id: String,
    /// Always `api_key`.
    #[schema(example = "api_key")]
    pub object: &'static str,
    pub deleted: bool,
}

/// Creating, listing, revoking and checking keys.
#[derive(Debug, Clone)]
pub struct ApiKeys {
    store: MetadataStore,
}

impl ApiKeys {
    pub fn new(store: MetadataStore) -> Self {
        Self { store }
    }

    /// Creates a key in the caller's org with the requested scopes.
    pub async fn create(
        &self,
        caller: &Caller,
        request: &CreateApiKeyRequest,
    ) -> Result<NewApiKey, ApiError> {
        let name = parse_name(&request.name)?;
        let scopes = parse_scopes(&request.scopes)?;
        let secret = new_secret()?;
        let record = ApiKeyRecord {
            id: ApiKeyId::new(),
            org: caller.org.clone(),
            name,
            scopes,
            secret_prefix: secret.chars().take(SECRET_PREFIX.len() + 4).collect(),
            secret_sha256: SecretHash::of(&secret),
            created_by: caller.actor.clone(),
            created_at: Timestamp::now(),
        };
        self.store.create_api_key(&record).await?;
        Ok(NewApiKey {
            key: (&record).into(),
            secret,
        })
    }

    pub async fn list(
        &self,
        cursors: &Cursors,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<List<ApiKeyObject>, ApiError> {
        cursors
            .page(
                org,
                "api_keys",
                page,
                |after| async move { Ok(self.store.list_api_keys(org, after, page.limit).await?) },
                |record| ApiKeyObject::from(&record),
            )
            .await
    }

    /// Deletes the key: its secret stops authenticating with the next request.
    pub async fn revoke(&self, org: &OrgId, id: &ApiKeyId) -> Result<DeletedApiKey, ApiError> {
        match self.store.delete_api_key(org, id).await {
            Ok(_) => Ok(DeletedApiKey {
                id: id.to_string(),
                object: "api_key",
                deleted: true,
            }),
            Err(DeleteApiKeyError::NotFound) => Err(ApiError::not_found(
                "api_key_not_found",
                format!("no API key {id}"),
            )
            .with_param("id")),
            Err(DeleteApiKeyError::Storage(e)) => Err(e.into()),
        }
    }

    /// The caller an `X-API-Key` secret stands for: its org, with the key as actor.
    pub async fn authenticate(&self, secret: &str) -> Result<Caller, ApiError> {
        let invalid = || ApiError::unauthenticated("invalid_api_key", "the API key is not valid");
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

fn parse_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    let err = |code, message| ApiError::invalid(code, message).with_param("name");
    if name.is_empty() {
        return Err(err("name_empty", "name must not be empty"));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(err("name_too_long", "name must be at most 100 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(err(
            "name_invalid_character",
            "name must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

fn parse_scopes(raw: &[String]) -> Result<Vec<Scope>, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::invalid(
            "invalid_scope",
            "scopes must name at least one of files:read, files:write, admin",
        )
        .with_param("scopes"));
    }
    let mut scopes = Vec::new();
    for (i, word) in raw.iter().enumerate() {
        let scope = Scope::parse(word).ok_or_else(|| {
            ApiError::invalid(
                "invalid_scope",
                format!("{word:?} is not one of files:read, files:write, admin"),
            )
            .with_param(format!("scopes[{i}]"))
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// `fgk_` and 256 random bits from the operating system, URL-safe base64.
fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        ApiError::internal(&StorageError::other(
            StorageOperation::CreateApiKey,
            e.to_string(),
        ))
    })?;
    Ok(format!("{SECRET_PREFIX}{}", BASE64URL.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_stored_only_as_a_hash() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("fgk_") && a.len() == 4 + 43, "{a}");
        let hash = SecretHash::of(&a);
        assert_eq!(hash.as_hex().len(), 64);
        assert!(!hash.as_hex().contains(&a[4..]));
        assert_eq!(hash, SecretHash::of(&a));
    }

    #[test]
    fn scopes_are_known_words_named_by_index() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_scopes(&words(&["files:read", "files:read", "admin"])).unwrap(),
            vec![Scope::FilesRead, Scope::Admin]
        );
        let e = parse_scopes(&words(&["files:read", "root"])).unwrap_err();
        assert_eq!((e.code(), e.param()), ("invalid_scope", Some("scopes[1]")));
        let e = parse_scopes(&[]).unwrap_err();
        assert_eq!((e.code(), e.param()), ("invalid_scope", Some("scopes")));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  ci  ").unwrap(), "ci");
        assert_eq!(parse_name(" ").unwrap_err().code(), "name_empty");
        assert_eq!(
            parse_name(&"x".repeat(101)).unwrap_err().code(),
            "name_too_long"
        );
        assert_eq!(
            parse_name("a\nb").unwrap_err().code(),
            "name_invalid_character"
        );
    }
}
