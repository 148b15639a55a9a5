//! Every paged read of the API, each bound to its list by the cursors it seals: files
//! (filtered), folders, a file's audit trail, the parts of a multipart upload, and API keys.

use filegate_domain::DomainError;
use filegate_domain::api_key::ApiKeyRecord;
use filegate_domain::audit::AuditEvent;
use filegate_domain::file::MultipartUpload;
use filegate_domain::file::{FileFilter, FileRecord, FileStatus, file_not_found};
use filegate_domain::folder::{FolderRecord, folder_not_found};
use filegate_domain::ids::{FileId, FolderId};
use filegate_domain::multipart::HeldPart;
use filegate_domain::page::{Listing, Page, PageRequest};
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;

use crate::cursors::Cursors;
use crate::file_service::FileService;
use crate::parts::open_upload;

/// The lists, over the same stores as [`FileService`], with the deployment's cursor key.
#[derive(Debug, Clone)]
pub struct Lists {
    files: FileService,
    cursors: Cursors,
}

/// What a cursor of a filtered list is bound to: the same filters, in one spelling.
fn list_identity(filter: &FileFilter) -> String {
    let folder = match &filter.folder {
        None => String::new(),
        Some(None) => "root".to_owned(),
        Some(Some(id)) => id.to_string(),
    };
    let parent = filter
        .parent
        .as_ref()
        .map(|p| format!("{}/{}", p.kind, p.id))
        .unwrap_or_default();
    let status = filter.status.map(FileStatus::as_str).unwrap_or_default();
    format!("files?folder={folder}&parent={parent}&status={status}")
}

impl Lists {
    pub fn new(files: FileService, cursors: Cursors) -> Self {
        Self { files, cursors }
    }

    /// Files newest first, filtered; a folder filter names a folder of the caller's org.
    pub async fn files(
        &self,
        caller: &Caller,
        filter: &FileFilter,
        page: &PageRequest,
    ) -> Result<Listing<FileRecord>, DomainError> {
        let store = self.files.store();
        let org = &caller.org;
        if let Some(Some(folder)) = &filter.folder {
            store
                .get_folder(org, folder)
                .await?
                .ok_or_else(|| folder_not_found(folder, "folder"))?;
        }
        self.cursors
            .page(
                org,
                &list_identity(filter),
                page,
                |after: Option<FileId>| async move {
                    Ok(store.list_files(org, filter, after, page.limit).await?)
                },
            )
            .await
    }

    /// Folders newest first: the sub-folders of `parent` (`Some(None)`: the root), or all.
    pub async fn folders(
        &self,
        caller: &Caller,
        parent: Option<Option<FolderId>>,
        page: &PageRequest,
    ) -> Result<Listing<FolderRecord>, DomainError> {
        let store = self.files.store();
        let org = &caller.org;
        if let Some(Some(parent)) = &parent {
            store
                .get_folder(org, parent)
                .await?
                .ok_or_else(|| folder_not_found(parent, "parent"))?;
        }
        let list = match &parent {
            None => "folders".to_owned(),
            Some(None) => "folders?parent=root".to_owned(),
            Some(Some(id)) => format!("folders?parent={id}"),
        };
        self.cursors
            .page(org, &list, page, |after| async move {
                Ok(store.list_folders(org, parent, after, page.limit).await?)
            })
            .await
    }

    /// A file's audit trail, oldest first, also after the file was deleted. Every file has
    /// at least its `file.created` event, so an empty first page means no such file here.
    pub async fn audit_trail(
        &self,
        caller: &Caller,
        id: &FileId,
        page: &PageRequest,
    ) -> Result<Listing<AuditEvent>, DomainError> {
        let store = self.files.store();
        let org = &caller.org;
        let list = format!("audit?file={id}");
        let trail = self
            .cursors
            .page(org, &list, page, |after| async move {
                Ok(store.audit_events(org, id, after, page.limit).await?)
            })
            .await?;
        if trail.items.is_empty() && page.cursor.is_none() {
            return Err(file_not_found(id));
        }
        Ok(trail)
    }

    /// The parts S3 holds for a pending multipart file, by part number, with the upload they
    /// belong to (its part size and count): what a client resumes from after a crash.
    pub async fn parts(
        &self,
        caller: &Caller,
        id: &FileId,
        page: &PageRequest,
    ) -> Result<(MultipartUpload, Listing<HeldPart>), DomainError> {
        let file = self.files.get(caller, id).await?;
        let upload = open_upload(&file, Timestamp::now())?.clone();
        let (objects, key, upload_id) =
            (self.files.objects(), file.object_key(), &upload.upload_id);
        let listing = self
            .cursors
            .page(
                &caller.org,
                &format!("parts?file={id}"),
                page,
                |after: Option<u32>| async move {
                    let limit = u32::try_from(page.limit).unwrap_or(u32::MAX);
                    let parts = objects
                        .list_parts(&key, upload_id, after, limit)
                        .await?
                        .ok_or_else(|| {
                            DomainError::conflict(
                                "upload_completed",
                                "the multipart upload has been completed or aborted; finalize the file",
                            )
                        })?;
                    Ok(Page {
                        items: parts.parts,
                        next: parts.next.map(|n| n.to_string()),
                    })
                },
            )
            .await?;
        Ok((upload, listing))
    }

    /// The org's API keys, newest first.
    pub async fn api_keys(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Listing<ApiKeyRecord>, DomainError> {
        let store = self.files.store();
        let org = &caller.org;
        self.cursors
            .page(org, "api_keys", page, |after| async move {
                Ok(store.list_api_keys(org, after, page.limit).await?)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_filter_combination_is_its_own_list() {
        let a = list_identity(&FileFilter {
            folder: Some(None),
            ..FileFilter::default()
        });
        let b = list_identity(&FileFilter {
            folder: Some(None),
            status: Some(FileStatus::Ready),
            ..FileFilter::default()
        });
        let c = list_identity(&FileFilter::default());
        assert!(a != b && b != c && a != c);
    }
}
