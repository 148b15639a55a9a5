//! File rows and their audit events.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use aws_smithy_runtime_api::client::result::SdkError;

use filegate_domain::audit::{AuditAction, AuditEvent};
use filegate_domain::file::{FileChange, FileFilter, FileRecord, FileStatus, UploadMismatch};
use filegate_domain::ids::{FileId, FolderId, OrgId};
use filegate_domain::page::Page;
use filegate_domain::timestamp::Timestamp;

use super::audit_rows::event_item;
use super::folder_members::Settled;
use super::schema::Item;
use super::schema::{
    FILE_SK, SWEEP_AT, SWEEP_MARGIN_SECS, SWEEP_PK, children_pk, file_pk, index_start, org_pk,
    parent_pk, status_pk, str_value, sweep_attributes, sweep_pk,
};
use super::table::{Cancelled, IndexQuery, MetadataStore, cancellation, failed};
use crate::error::{StorageError, StorageOperation};

/// How long an abandoned `pending` row lives after its upload URL expires.
const PENDING_ROW_GRACE_SECS: u64 = 7 * 24 * 3600;

/// Why new files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CreateFilesError {
    #[error("folder {0} does not exist")]
    FolderNotFound(FolderId),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Why a status change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeStatusError {
    /// The file is no longer in the status the change starts from, is being deleted, or is
    /// gone.
    #[error("the file changed concurrently")]
    Conflict,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Why a rename or move was not made.
#[derive(Debug, thiserror::Error)]
pub enum UpdateFileError {
    /// The file changed (status, folder, delete) since it was read.
    #[error("the file changed concurrently")]
    Conflict,
    #[error("folder {0} does not exist")]
    FolderNotFound(FolderId),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a conditional `UpdateItem` left: the row as updated (with `ReturnValues` set), or
/// `Conflict` when its condition failed.
pub(super) fn updated_row(
    op: StorageOperation,
    result: Result<
        UpdateItemOutput,
        SdkError<UpdateItemError, aws_smithy_runtime_api::http::Response>,
    >,
) -> Result<Item, ChangeStatusError> {
    match result {
        Ok(out) => Ok(out.attributes.unwrap_or_default()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Err(ChangeStatusError::Conflict)
        }
        Err(e) => Err(StorageError::new(op, e).into()),
    }
}

/// A move from one status to another, with what changes alongside it.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub from: FileStatus,
    pub to: FileStatus,
    pub at: Timestamp,
    pub error_message: Option<String>,
    /// Set when finalize fails the file: why its upload did not match.
    pub mismatch: Option<UploadMismatch>,
}

/// Whether a file counts towards its folder's `children`: from the moment it leaves
/// `pending`. Pending rows may vanish through TTL, which could not update a counter.
fn counts_in_folder(status: FileStatus) -> bool {
    status != FileStatus::Pending
}

impl MetadataStore {
    /// Reads a file, including one whose delete has started; `None` when it does not exist in
    /// this org.
    pub async fn get_file(
        &self,
        org: &OrgId,
        id: &FileId,
    ) -> Result<Option<FileRecord>, StorageError> {
        self.read(StorageOperation::GetFile, file_pk(org, id), FILE_SK)
            .await
    }

    /// Writes new `pending` files and their audit events, all or nothing, once each folder a
    /// file goes into has been read to exist. (A pending file does not hold its folder: if
    /// the folder is deleted before the upload finishes, the file lands at the root.)
    /// `upload_expires_at` is when the PUT URLs expire; multipart rows go by their upload's.
    pub async fn create_files(
        &self,
        files: &[FileRecord],
        events: &[AuditEvent],
        upload_expires_at: Timestamp,
    ) -> Result<(), CreateFilesError> {
        let op = StorageOperation::CreateFiles;
        let mut writes = Vec::with_capacity(files.len() * 2 + 1);
        let mut folders: Vec<(OrgId, FolderId)> = Vec::new();
        for file in files {
            if let Some(folder) = file.folder
                && !folders.iter().any(|(o, f)| *o == file.org && *f == folder)
            {
                folders.push((file.org.clone(), folder));
            }
        }
        for (org, folder) in &folders {
            if !self.folder_exists(op, org, folder).await? {
                return Err(CreateFilesError::FolderNotFound(*folder));
            }
        }
        for file in files {
            let mut item = file_item(file).map_err(failed(op))?;
            // A multipart upload has its own, longer expiry; until then only its finalize
            // (by HTTP, or by the S3 event of its completion) moves it on.
            let upload_ends = file
                .multipart
                .as_ref()
                .map_or(upload_expires_at, |m| m.expires_at);
            let expires_at = upload_ends.plus_seconds(PENDING_ROW_GRACE_SECS);
            item.insert(
                "expires_at".into(),
                AttributeValue::N(expires_at.unix_seconds().to_string()),
            );
            // Once its URL has expired, the sweeper looks for bytes whose S3 event was lost.
            item.extend(sweep_attributes(
                &file.id,
                upload_ends.plus_seconds(SWEEP_MARGIN_SECS),
            ));
            writes.push(self.put_new(item).map_err(failed(op))?);
        }
        for event in events {
            writes.push(
                self.put_new(event_item(event).map_err(failed(op))?)
                    .map_err(failed(op))?,
            );
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) => match cancellation(&e) {
                Some(Cancelled::Contention) => Err(StorageError::new(op, *e).retryable().into()),
                _ => Err(StorageError::new(op, *e).into()),
            },
        }
    }

    /// Moves a file from `change.from` to `change.to` and writes `event`, in one transaction
    /// that only succeeds while the file is still in `change.from` and not being deleted: of
    /// any number of racing callers exactly one makes the change, and only that one writes an
    /// audit row.
    ///
    /// A file leaving `pending` starts to count in its folder. If that folder was deleted
    /// while the file was pending (or is deleted as it joins), the file lands at the root
    /// instead (recorded in the audit event), rather than in a folder that no longer exists.
    pub async fn change_status(
        &self,
        file: &FileRecord,
        change: &StatusChange,
        event: &AuditEvent,
    ) -> Result<FileRecord, ChangeStatusError> {
        let op = StorageOperation::ChangeFileStatus;
        let mut file = file.clone();
        let mut event = event.clone();
        let joins_folder = !counts_in_folder(change.from) && counts_in_folder(change.to);
        // The folder the file was read in: the change only applies while it is still there,
        // so the count goes to the folder the file is actually in.
        let read_in = children_pk(&file.org, file.folder.as_ref());
        let mut to_root = false;
        if joins_folder
            && let Some(folder) = file.folder
            && !self.folder_exists(op, &file.org, &folder).await?
        {
            event = event.with_detail("folder_deleted", folder.to_string());
            file.folder = None;
            to_root = true;
        }
        let attempt = self
            .try_change_status(&file, change, &event, &read_in, joins_folder, to_root)
            .await;
        match attempt {
            Ok(()) => {}
            Err(TryChange::Conflict) => return Err(ChangeStatusError::Conflict),
            Err(TryChange::Contended(e)) => {
                return Err(StorageError::new(op, *e).retryable().into());
            }
            Err(TryChange::Failed(e)) => return Err(StorageError::new(op, *e).into()),
            Err(TryChange::Build(e)) => return Err(StorageError::other(op, e).into()),
        }
        if joins_folder
            && let Some(folder) = file.folder
            && self.settle_in_folder(op, &file.org, &folder).await? == Settled::FolderGone
        {
            let event = event.with_detail("folder_deleted", folder.to_string());
            self.leave_deleted_folder(&file, &folder, &[event]).await?;
            file.folder = None;
        }
        file.status = change.to;
        file.updated_at = change.at;
        if change.to == FileStatus::Uploaded {
            file.uploaded_at = Some(change.at);
        }
        if change.error_message.is_some() {
            file.error_message.clone_from(&change.error_message);
        }
        if change.mismatch.is_some() {
            file.upload_mismatch = change.mismatch;
        }
        Ok(file)
    }

    async fn try_change_status(
        &self,
        file: &FileRecord,
        change: &StatusChange,
        event: &AuditEvent,
        read_in: &str,
        joins_folder: bool,
        to_root: bool,
    ) -> Result<(), TryChange> {
        let mut set = vec![
            "#status = :to",
            "updated_at = :at",
            "status_pk = :status_pk",
        ];
        let mut values: Item = HashMap::from([
            (":from".to_owned(), str_value(change.from.as_str())),
            (":to".to_owned(), str_value(change.to.as_str())),
            (":at".to_owned(), str_value(change.at.to_string())),
            (
                ":status_pk".to_owned(),
                str_value(status_pk(&file.org, change.to)),
            ),
            (":read_in".to_owned(), str_value(read_in)),
        ]);
        if change.to == FileStatus::Uploaded {
            set.push("uploaded_at = :at");
        }
        if let Some(message) = &change.error_message {
            set.push("error_message = :error_message");
            values.insert(":error_message".to_owned(), str_value(message.clone()));
        }
        if let Some(mismatch) = change.mismatch {
            set.push("upload_mismatch = :upload_mismatch");
            values.insert(":upload_mismatch".to_owned(), str_value(mismatch.as_str()));
        }
        if to_root {
            set.push("folder = :null, folder_pk = :root");
            values.insert(":null".to_owned(), AttributeValue::Null(true));
            values.insert(":root".to_owned(), str_value(children_pk(&file.org, None)));
        }
        // Only pending rows expire or wait for the sweeper; anything past pending is kept.
        let expression = format!(
            "SET {} REMOVE expires_at, {SWEEP_PK}, {SWEEP_AT}",
            set.join(", ")
        );
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", str_value(file_pk(&file.org, &file.id)))
            .key("sk", str_value(FILE_SK))
            .update_expression(expression)
            .condition_expression(
                "#status = :from AND folder_pk = :read_in AND attribute_not_exists(deleting_at)",
            )
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(TryChange::Build)?;
        let mut writes = vec![
            TransactWriteItem::builder().update(update).build(),
            self.put_new(event_item(event).map_err(|e| TryChange::Build(build_error(e)))?)
                .map_err(TryChange::Build)?,
        ];
        if let Some(folder) = file.folder.filter(|_| joins_folder) {
            writes.push(
                self.join_folder(&file.org, &folder, &file.id.to_string())
                    .map_err(TryChange::Build)?,
            );
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) => match cancellation(&e) {
                // Lost the race: the status moved on, or DynamoDB saw a concurrent
                // transaction on the row. The caller re-reads and decides again.
                Some(Cancelled::Condition(0)) => Err(TryChange::Conflict),
                Some(Cancelled::Contention) => Err(TryChange::Contended(e)),
                _ => Err(TryChange::Failed(e)),
            },
        }
    }

    /// Renames and/or moves a file and writes `events`, only while the file is still as read
    /// (same status and folder, not being deleted). A file past `pending` leaves its old
    /// folder and joins the new one; the target folder must exist either way.
    pub async fn update_file(
        &self,
        file: &FileRecord,
        change: &FileChange,
        at: Timestamp,
        events: &[AuditEvent],
    ) -> Result<FileRecord, UpdateFileError> {
        let op = StorageOperation::UpdateFile;
        let org = &file.org;
        let mut set = vec!["updated_at = :at"];
        let mut values: Item = HashMap::from([
            (":at".to_owned(), str_value(at.to_string())),
            (":status".to_owned(), str_value(file.status.as_str())),
            (
                ":folder_pk".to_owned(),
                str_value(children_pk(org, file.folder.as_ref())),
            ),
        ]);
        if let Some(name) = &change.name {
            set.push("#name = :name");
            values.insert(":name".to_owned(), str_value(name.as_str()));
        }
        let mut writes = Vec::new();
        let child = file.id.to_string();
        let counted = counts_in_folder(file.status);
        // The folder a counted file joins, to settle in once the move has applied.
        let mut joined = None;
        if let Some(target) = &change.folder {
            set.push("folder = :folder, folder_pk = :new_folder_pk");
            values.insert(
                ":folder".to_owned(),
                target.map_or(AttributeValue::Null(true), |f| str_value(f.to_string())),
            );
            values.insert(
                ":new_folder_pk".to_owned(),
                str_value(children_pk(org, target.as_ref())),
            );
            if let Some(folder) = target
                && !self.folder_exists(op, org, folder).await?
            {
                return Err(UpdateFileError::FolderNotFound(*folder));
            }
            if counted && *target != file.folder {
                if let Some(folder) = target {
                    writes.push(self.join_folder(org, folder, &child).map_err(failed(op))?);
                    joined = Some(*folder);
                }
                if let Some(old) = &file.folder {
                    writes.push(self.leave_folder(org, old, &child).map_err(failed(op))?);
                }
            }
        }
        let mut names = HashMap::from([("#status".to_owned(), "status".to_owned())]);
        if change.name.is_some() {
            names.insert("#name".to_owned(), "name".to_owned());
        }
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", str_value(file_pk(org, &file.id)))
            .key("sk", str_value(FILE_SK))
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression(
                "attribute_exists(pk) AND #status = :status AND folder_pk = :folder_pk \
                 AND attribute_not_exists(deleting_at)",
            )
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(failed(op))?;
        writes.insert(0, TransactWriteItem::builder().update(update).build());
        for event in events {
            writes.push(
                self.put_new(event_item(event).map_err(failed(op))?)
                    .map_err(failed(op))?,
            );
        }
        match self.transact(writes).await {
            Ok(()) => {
                let mut updated = file.clone();
                if let Some(name) = &change.name {
                    updated.name = name.clone();
                }
                if let Some(folder) = change.folder {
                    updated.folder = folder;
                }
                updated.updated_at = at;
                if let Some(folder) = joined
                    && self.settle_in_folder(op, org, &folder).await? == Settled::FolderGone
                {
                    let events: Vec<AuditEvent> = events
                        .iter()
                        .map(|e| match e.action {
                            AuditAction::FileMoved => {
                                e.clone().with_detail("folder_deleted", folder.to_string())
                            }
                            _ => e.clone(),
                        })
                        .collect();
                    self.leave_deleted_folder(&updated, &folder, &events)
                        .await?;
                    return Err(UpdateFileError::FolderNotFound(folder));
                }
                Ok(updated)
            }
            Err(e) => match cancellation(&e) {
                Some(Cancelled::Condition(_)) => Err(UpdateFileError::Conflict),
                Some(Cancelled::Contention) => Err(StorageError::new(op, *e).retryable().into()),
                None => Err(StorageError::new(op, *e).into()),
            },
        }
    }

    /// First step of a delete: marks the row, which from then on is invisible to reads and
    /// frozen (no status change, rename or move passes its condition), and returns it as
    /// frozen. Marking an already marked row succeeds, so a retried delete goes on where the
    /// first one stopped. `Conflict` when the row is gone.
    pub async fn mark_deleting(
        &self,
        org: &OrgId,
        id: &FileId,
        at: Timestamp,
    ) -> Result<FileRecord, ChangeStatusError> {
        let op = StorageOperation::DeleteFile;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", str_value(file_pk(org, id)))
            .key("sk", str_value(FILE_SK))
            // The sweeper finishes the delete if this one dies before it does.
            .update_expression(format!(
                "SET deleting_at = if_not_exists(deleting_at, :at), {SWEEP_PK} = :sweep_pk, {SWEEP_AT} = :sweep_at"
            ))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", str_value(at.to_string()))
            .expression_attribute_values(":sweep_pk", str_value(sweep_pk(id)))
            .expression_attribute_values(
                ":sweep_at",
                str_value(at.plus_seconds(SWEEP_MARGIN_SECS).to_string()),
            )
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        serde_dynamo::from_item(updated_row(op, result)?)
            .map_err(|e| StorageError::other(op, e).into())
    }

    /// Last step of a delete, once the object is gone: removes the marked row, gives back its
    /// place in its folder and writes `event`, in one transaction. `Conflict` when the row
    /// is already gone (another delete finished first).
    pub async fn remove_file(
        &self,
        file: &FileRecord,
        event: &AuditEvent,
    ) -> Result<(), ChangeStatusError> {
        let op = StorageOperation::DeleteFile;
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("pk", str_value(file_pk(&file.org, &file.id)))
            .key("sk", str_value(FILE_SK))
            .condition_expression("attribute_exists(deleting_at)")
            .build()
            .map_err(failed(op))?;
        let mut writes = vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.put_new(event_item(event).map_err(failed(op))?)
                .map_err(failed(op))?,
        ];
        // The status is frozen since the mark, so this matches what the row counted.
        if let (true, Some(folder)) = (counts_in_folder(file.status), &file.folder) {
            writes.push(
                self.leave_folder(&file.org, folder, &file.id.to_string())
                    .map_err(failed(op))?,
            );
        }
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) => match cancellation(&e) {
                // The row is gone: another delete finished first.
                Some(Cancelled::Condition(0)) => Err(ChangeStatusError::Conflict),
                Some(Cancelled::Contention) => Err(StorageError::new(op, *e).retryable().into()),
                _ => Err(StorageError::new(op, *e).into()),
            },
        }
    }

    /// Moves `file`, which has just joined `gone`, to the root, and rewrites `events` (the
    /// audit rows of that change, already written) to say so: `gone` was deleted before the
    /// file's member row landed in it.
    async fn leave_deleted_folder(
        &self,
        file: &FileRecord,
        gone: &FolderId,
        events: &[AuditEvent],
    ) -> Result<(), StorageError> {
        let op = StorageOperation::UpdateFile;
        let org = &file.org;
        let mut writes = self
            .leave_for_root(
                (file_pk(org, &file.id), FILE_SK),
                "folder",
                org,
                gone,
                &file.id.to_string(),
            )
            .map_err(failed(op))?;
        for event in events {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(event_item(event).map_err(failed(op))?))
                .build()
                .map_err(failed(op))?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        match self.transact(writes).await {
            // Moved on meanwhile: its member row went with that move.
            Err(e) if matches!(cancellation(&e), Some(Cancelled::Condition(0))) => Ok(()),
            other => other.map_err(|e| StorageError::new(op, *e)),
        }
    }

    /// A page of files, newest first, after the file `after`.
    pub async fn list_files(
        &self,
        org: &OrgId,
        filter: &FileFilter,
        after: Option<FileId>,
        limit: usize,
    ) -> Result<Page<FileRecord>, StorageError> {
        // Rows being deleted are gone, and so are pending rows past their TTL that DynamoDB
        // has not removed yet (it may take a day or two).
        let mut values: Item = HashMap::from([(
            ":now".to_owned(),
            AttributeValue::N(Timestamp::now().unix_seconds().to_string()),
        )]);
        let mut conditions = vec![
            "attribute_not_exists(deleting_at)".to_owned(),
            "(attribute_not_exists(expires_at) OR expires_at > :now)".to_owned(),
        ];
        let folder_pk = filter
            .folder
            .as_ref()
            .map(|folder| children_pk(org, folder.as_ref()));
        let status = filter.status.map(|status| status_pk(org, status));
        // The index of the most selective filter; the others filter its partition.
        let (index, pk_attr, pk) = if let Some(parent) = &filter.parent {
            if let Some(folder_pk) = &folder_pk {
                conditions.push("folder_pk = :folder_pk".into());
                values.insert(":folder_pk".into(), str_value(folder_pk.clone()));
            }
            if let Some(status) = &status {
                conditions.push("status_pk = :status_pk".into());
                values.insert(":status_pk".into(), str_value(status.clone()));
            }
            ("by_parent", "parent_pk", parent_pk(org, parent))
        } else if let Some(folder_pk) = folder_pk {
            if let Some(status) = &status {
                conditions.push("status_pk = :status_pk".into());
                values.insert(":status_pk".into(), str_value(status.clone()));
            }
            ("by_folder", "folder_pk", folder_pk)
        } else if let Some(status) = status {
            ("by_status", "status_pk", status)
        } else {
            ("by_org", "org_pk", org_pk(org))
        };
        values.insert(":pk".into(), str_value(pk.clone()));
        // Folders share `by_org` and `by_folder` with files.
        values.insert(":prefix".into(), str_value(FileId::PREFIX));
        let query = IndexQuery {
            index: Some(index),
            key_condition: "#pk = :pk AND begins_with(id, :prefix)",
            filter: Some(conditions.join(" AND ")),
            names: HashMap::from([("#pk".to_owned(), pk_attr.to_owned())]),
            values,
            forward: false,
        };
        let start =
            after.map(|id| index_start(file_pk(org, &id), FILE_SK, pk_attr, &pk, id.to_string()));
        self.page(StorageOperation::ListFiles, query, start, limit)
            .await
    }
}

/// Outcome of one attempt at a status change.
enum TryChange {
    Conflict,
    /// Still contended after the store's own retries.
    Contended(Box<super::table::TransactError>),
    Failed(Box<super::table::TransactError>),
    Build(aws_sdk_dynamodb::error::BuildError),
}

fn build_error(e: serde_dynamo::Error) -> aws_sdk_dynamodb::error::BuildError {
    aws_sdk_dynamodb::error::BuildError::other(e)
}

pub(super) fn file_item(file: &FileRecord) -> Result<Item, serde_dynamo::Error> {
    let mut item: Item = serde_dynamo::to_item(file)?;
    let org = &file.org;
    item.insert("pk".into(), str_value(file_pk(org, &file.id)));
    item.insert("sk".into(), str_value(FILE_SK));
    item.insert("org_pk".into(), str_value(org_pk(org)));
    item.insert(
        "folder_pk".into(),
        str_value(children_pk(org, file.folder.as_ref())),
    );
    if let Some(parent) = &file.parent {
        item.insert("parent_pk".into(), str_value(parent_pk(org, parent)));
    }
    item.insert("status_pk".into(), str_value(status_pk(org, file.status)));
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use filegate_domain::file::{AllowedContentTypes, ContentType, FileName, FileSize, Parent};
    use filegate_domain::principal::Actor;

    fn record() -> FileRecord {
        let now = Timestamp::now();
        FileRecord {
            id: FileId::new(),
            org: OrgId::parse("acme").unwrap(),
            name: FileName::parse("résumé.pdf").unwrap(),
            content_type: ContentType::parse("application/pdf", &AllowedContentTypes::any())
                .unwrap(),
            size_bytes: FileSize::parse("5368709120", u64::MAX).unwrap(),
            checksum_sha256: None,
            status: FileStatus::Pending,
            folder: Some(FolderId::new()),
            parent: Some(Parent::parse("knowledge", "k1").unwrap()),
            public: false,
            error_message: None,
            uploaded_by: Actor::system("test"),
            created_at: now,
            updated_at: now,
            uploaded_at: None,
            upload_mismatch: None,
            deleting_at: None,
            expired_at: None,
            multipart: None,
        }
    }

    #[test]
    fn file_items_round_trip_and_carry_org_scoped_keys() {
        let file = record();
        let item = file_item(&file).unwrap();
        let key = |k: &str| item[k].as_s().unwrap().clone();
        assert_eq!(key("pk"), format!("ORG#acme#FILE#{}", file.id));
        assert_eq!(key("org_pk"), "ORG#acme");
        assert_eq!(
            key("folder_pk"),
            format!("ORG#acme#FOLDER#{}", file.folder.unwrap())
        );
        assert_eq!(key("parent_pk"), "ORG#acme#PARENT#knowledge#k1");
        assert_eq!(key("status_pk"), "ORG#acme#STATUS#pending");
        assert_eq!(
            key("id"),
            file.id.to_string(),
            "the index sort key is the id"
        );
        assert!(
            !item.contains_key("deleting_at"),
            "the delete mark is absent, not NULL, so attribute_not_exists sees it"
        );
        let back: FileRecord = serde_dynamo::from_item(item).unwrap();
        assert_eq!(back, file);
    }

    #[test]
    fn files_without_parent_stay_out_of_the_parent_index() {
        let mut file = record();
        file.parent = None;
        file.folder = None;
        let item = file_item(&file).unwrap();
        assert!(
            !item.contains_key("parent_pk"),
            "a NULL index key would be rejected"
        );
        assert_eq!(item["folder_pk"].as_s().unwrap(), "ORG#acme#FOLDER#root");
    }

    #[test]
    fn only_files_past_pending_count_in_their_folder() {
        assert!(!counts_in_folder(FileStatus::Pending));
        for status in [
            FileStatus::Uploaded,
            FileStatus::Processing,
            FileStatus::Ready,
            FileStatus::Failed,
        ] {
            assert!(counts_in_folder(status), "{status}");
        }
    }
}
