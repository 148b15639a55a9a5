//! Arranging files: rename and move, with their audit events.

use filegate_domain::DomainError;
use filegate_domain::audit::{AuditAction, AuditEvent, RequestOrigin};
use filegate_domain::file::{FileChange, FileRecord};
use filegate_domain::folder::folder_not_found;
use filegate_domain::ids::{FileId, FolderId};
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;
use filegate_store::metadata::UpdateFileError;

use crate::file_service::FileService;
use crate::retry::{Attempt, retry_on_conflict};

impl FileService {
    /// Renames and/or moves a file (`folder: null` moves it to the root); writes
    /// `file.renamed` and/or `file.moved`. Changing nothing returns the file as it is.
    pub async fn update_file(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
        requested: &FileChange,
    ) -> Result<FileRecord, DomainError> {
        retry_on_conflict(
            "the file kept changing; read it and retry",
            move || async move {
                let file = self.get(caller, id).await?;
                let change = FileChange {
                    name: requested.name.clone().filter(|n| *n != file.name),
                    folder: requested.folder.filter(|f| *f != file.folder),
                };
                if change.name.is_none() && change.folder.is_none() {
                    return Ok(Attempt::Done(file));
                }
                let now = Timestamp::now();
                let event = |action| {
                    AuditEvent::new(&caller.org, file.id, action, &caller.actor, origin, now)
                };
                let mut events = Vec::new();
                if let Some(name) = &change.name {
                    events.push(
                        event(AuditAction::FileRenamed)
                            .with_detail("from", file.name.as_str())
                            .with_detail("to", name.as_str()),
                    );
                }
                if let Some(folder) = &change.folder {
                    let id_or_null = |f: Option<FolderId>| {
                        f.map_or(serde_json::Value::Null, |f| f.to_string().into())
                    };
                    events.push(
                        event(AuditAction::FileMoved)
                            .with_detail("from", id_or_null(file.folder))
                            .with_detail("to", id_or_null(*folder)),
                    );
                }
                match self.store().update_file(&file, &change, now, &events).await {
                    Ok(updated) => Ok(Attempt::Done(updated)),
                    Err(UpdateFileError::FolderNotFound(folder)) => {
                        Err(folder_not_found(&folder, "folder"))
                    }
                    Err(UpdateFileError::Conflict) => Ok(Attempt::Changed),
                    Err(UpdateFileError::Storage(e)) => Err(e.into()),
                }
            },
        )
        .await
    }
}
