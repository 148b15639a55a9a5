//! The API key object and the requests on keys.

use filegate_domain::DomainError;
use filegate_domain::api_key::{ApiKeyRecord, parse_name, parse_scopes};
use filegate_domain::ids::ApiKeyId;
use filegate_domain::principal::{Actor, Scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/api_keys`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// 1–100 characters, e.g. `billing-service`.
    #[schema(example = "billing-service", min_length = 1, max_length = 100)]
    pub name: String,
    /// One or more of `files:read`, `files:write`, `admin`.
    #[schema(value_type = Vec<Scope>, example = json!(["files:read", "files:write"]), min_items = 1)]
    pub scopes: Vec<String>,
}

/// The API key object.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = ApiKey)]
pub struct ApiKeyObject {
    #[schema(example = "key_01JD3Q5Z8K2M4N6P8R0T2V4X6Z")]
    pub id: String,
    /// Always `api_key`.
    #[schema(example = "api_key")]
    pub object: String,
    pub name: String,
    #[schema(example = json!(["files:read"]))]
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
            object: "api_key".to_owned(),
            name: k.name.clone(),
            scopes: k.scopes.clone(),
            secret_prefix: k.secret_prefix.clone(),
            created_by: k.created_by.clone(),
            created_at: k.created_at.to_string(),
        }
    }
}

/// A new key with its secret: the only response that ever contains it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewApiKey {
    #[serde(flatten)]
    pub key: ApiKeyObject,
    /// Send as `X-API-Key`. Shown once: store it now.
    #[schema(example = "fgk_3q2a…")]
    pub secret: String,
}

/// `{"id","object":"api_key","deleted":true}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletedApiKey {
    pub id: String,
    /// Always `api_key`.
    #[schema(example = "api_key")]
    pub object: String,
    pub deleted: bool,
}

impl CreateApiKeyRequest {
    /// The name and scopes asked for, checked (name first).
    pub fn parts(&self) -> Result<(String, Vec<Scope>), DomainError> {
        Ok((parse_name(&self.name)?, parse_scopes(&self.scopes)?))
    }
}

impl NewApiKey {
    pub fn new(key: &ApiKeyRecord, secret: String) -> Self {
        Self {
            key: key.into(),
            secret,
        }
    }
}

impl DeletedApiKey {
    pub fn new(id: &ApiKeyId) -> Self {
        Self {
            id: id.to_string(),
            object: "api_key".to_owned(),
            deleted: true,
        }
    }
}
