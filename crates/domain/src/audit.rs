//! Audit events: who did what to which file, when, from where. Written in the same DynamoDB
//! transaction as the change they record, and kept after the file is deleted.

use serde::{Deserialize, Serialize};

use crate::ids::{EventId, FileId, OrgId};
use crate::principal::Actor;
use crate::timestamp::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AuditAction {
    #[serde(rename = "file.created")]
    FileCreated,
    #[serde(rename = "file.uploaded")]
    FileUploaded,
    #[serde(rename = "file.failed")]
    FileFailed,
    #[serde(rename = "file.download_url_issued")]
    FileDownloadUrlIssued,
    #[serde(rename = "file.content_streamed")]
    FileContentStreamed,
    #[serde(rename = "file.renamed")]
    FileRenamed,
    #[serde(rename = "file.moved")]
    FileMoved,
    #[serde(rename = "file.status_changed")]
    FileStatusChanged,
    #[serde(rename = "file.deleted")]
    FileDeleted,
    /// A pending file abandoned past its expiry, removed by the sweeper.
    #[serde(rename = "file.expired")]
    FileExpired,
}

/// Where a request came from, for the audit trail. `system` work has a request id only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOrigin {
    pub request_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One audit row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: EventId,
    pub org: OrgId,
    pub file: FileId,
    pub action: AuditAction,
    pub actor: Actor,
    pub at: Timestamp,
    pub request_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl AuditEvent {
    pub fn new(
        org: &OrgId,
        file: FileId,
        action: AuditAction,
        actor: &Actor,
        origin: &RequestOrigin,
        at: Timestamp,
    ) -> Self {
        Self {
            id: EventId::new(),
            org: org.clone(),
            file,
            action,
            actor: actor.clone(),
            at,
            request_id: origin.request_id.clone(),
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
            details: serde_json::Map::new(),
        }
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}
