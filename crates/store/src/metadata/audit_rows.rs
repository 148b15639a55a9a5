//! Audit rows: who did what to which file, written in the same transaction as the change
//! they record (or on their own, for actions that change nothing else), and kept after the
//! file is deleted.

use std::collections::HashMap;

use filegate_domain::audit::AuditEvent;
use filegate_domain::ids::{EventId, FileId, OrgId};
use filegate_domain::page::Page;

use super::schema::Item;
use super::schema::{EVENT_SK_PREFIX, file_pk, str_value};
use super::table::{IndexQuery, MetadataStore};
use crate::error::{StorageError, StorageOperation};

impl MetadataStore {
    /// Writes one audit event on its own, for actions that change nothing else (a download
    /// URL handed out).
    pub async fn record_event(&self, event: &AuditEvent) -> Result<(), StorageError> {
        let op = StorageOperation::RecordEvent;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(
                event_item(event).map_err(|e| StorageError::other(op, e))?,
            ))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| StorageError::new(op, e))?;
        Ok(())
    }

    /// A page of a file's audit events, oldest first. They are kept after the file is
    /// deleted, so this works for deleted files too.
    pub async fn audit_events(
        &self,
        org: &OrgId,
        file: &FileId,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Page<AuditEvent>, StorageError> {
        let pk = file_pk(org, file);
        let query = IndexQuery {
            index: None,
            key_condition: "pk = :pk AND begins_with(sk, :evt)",
            filter: None,
            names: HashMap::new(),
            values: HashMap::from([
                (":pk".to_owned(), str_value(pk.clone())),
                (":evt".to_owned(), str_value(EVENT_SK_PREFIX)),
            ]),
            forward: true,
        };
        let start = after.map(|id| {
            HashMap::from([
                ("pk".to_owned(), str_value(pk.clone())),
                ("sk".to_owned(), str_value(format!("{EVENT_SK_PREFIX}{id}"))),
            ])
        });
        self.page(StorageOperation::ListAuditEvents, query, start, limit)
            .await
    }
}

pub(super) fn event_item(event: &AuditEvent) -> Result<Item, serde_dynamo::Error> {
    let mut item: Item = serde_dynamo::to_item(event)?;
    item.insert("pk".into(), str_value(file_pk(&event.org, &event.file)));
    item.insert(
        "sk".into(),
        str_value(format!("{EVENT_SK_PREFIX}{}", event.id)),
    );
    Ok(item)
}
