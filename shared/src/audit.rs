//! Audit events: who did what to which file, when, from where. Written in the same DynamoDB
//! transaction as the change they record, and kept after the file is deleted.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Actor;
use crate::error::ApiError;
use crate::ids::{EventId, FileId, OrgId};
use crate::listing::{Cursors, List, PageRequest};
use crate::service::{FileService, file_not_found};
use crate::timestamp::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

/// The audit event object of the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AuditEvent)]
pub struct AuditEventObject {
    #[schema(example = "evt_01JD3Q5Z8K2M4N6P8R0T2V4X6Z")]
    pub id: String,
    /// Always `audit_event`.
    #[schema(example = "audit_event")]
    pub object: &'static str,
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
            object: "audit_event",
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

impl FileService {
    /// A file's audit trail, oldest first, also after the file was deleted. Every file has
    /// at least its `file.created` event, so an empty first page means no such file here.
    pub async fn audit_trail(
        &self,
        cursors: &Cursors,
        org: &OrgId,
        id: &FileId,
        page: &PageRequest,
    ) -> Result<List<AuditEventObject>, ApiError> {
        let list = format!("audit?file={id}");
        let trail = cursors
            .page(
                org,
                &list,
                page,
                |after| async move {
                    Ok(self
                        .store()
                        .audit_events(org, id, after, page.limit)
                        .await?)
                },
                |record| AuditEventObject::from(&record),
            )
            .await?;
        if trail.data.is_empty() && page.cursor.is_none() {
            return Err(file_not_found(id));
        }
        Ok(trail)
    }
}
