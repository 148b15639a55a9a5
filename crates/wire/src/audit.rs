//! The audit event object.

use filegate_domain::audit::{AuditAction, AuditEvent};
use filegate_domain::principal::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The audit event object of the API.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = AuditEvent)]
pub struct AuditEventObject {
    #[schema(example = "evt_01JD3Q5Z8K2M4N6P8R0T2V4X6Z")]
    pub id: String,
    /// Always `audit_event`.
    #[schema(example = "audit_event")]
    pub object: String,
    /// The file's id.
    pub file: String,
    pub action: AuditAction,
    pub actor: Actor,
    pub at: String,
    /// The request that made the change (`x-request-id`).
    pub request_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// What changed, by action: e.g. `from`/`to` for renames, moves and status changes.
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl From<&AuditEvent> for AuditEventObject {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id.to_string(),
            object: "audit_event".to_owned(),
            file: e.file.to_string(),
            action: e.action,
            actor: e.actor.clone(),
            at: e.at.to_string(),
            request_id: e.request_id.clone(),
            ip: e.ip.clone(),
            user_agent: e.user_agent.clone(),
            details: e.details.clone(),
        }
    }
}
