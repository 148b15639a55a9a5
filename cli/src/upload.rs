//! `filegate upload`: declare a file, send its bytes the way the API answers (one PUT, or its
//! parts in parallel, each with its SHA-256), and finalize it. A multipart upload that an
//! earlier run left unfinished goes on from the parts S3 holds.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use filegate_domain::file::{FileStatus, Parent};
use filegate_domain::multipart::PartTicket;
use filegate_domain::type_detection::{HEAD_BYTES, detect};
use filegate_domain::upload::{MAX_CHECKSUMMED_BYTES, UploadTicket};
use filegate_wire::file::FileObject;
use filegate_wire::list::List;
use filegate_wire::parts::{PartEntry, PartList, SignPartsRequest};
use filegate_wire::upload::{CreateFileRequest, FileUpload, SizeInput};
use futures_util::{StreamExt as _, TryStreamExt as _};
use tokio::io::AsyncReadExt as _;

use crate::api::{Api, ApiError};
use crate::folders::FolderTree;
use crate::progress::Meter;
use crate::resume::ResumeState;
use crate::transfer::{TransferError, put_range, sha256_of};

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Transfer(#[from] TransferError),
    #[error("the file was still being verified after {0:?}; check it later with `filegate info`")]
    StillVerifying(Duration),
}

/// How files go up.
pub struct UploadOptions {
    /// Parts in flight at once.
    pub parallel: usize,
    /// The entity of the caller's own domain the files belong to.
    pub parent: Option<Parent>,
    /// Served at a public URL (when the deployment allows it).
    pub public: bool,
}

/// The files to upload, each with the folder it goes into. A directory becomes a folder of
/// the same name (inside `folder`), found or created as the tree is walked, and so does each
/// directory below it; files keep their place. Names are walked in order, so runs are repeatable.
pub async fn expand(
    folders: &mut FolderTree<'_>,
    paths: &[std::path::PathBuf],
    folder: Option<String>,
) -> Result<Vec<(std::path::PathBuf, Option<String>)>, UploadError> {
    let mut files = Vec::new();
    let mut pending: Vec<(std::path::PathBuf, Option<String>)> = paths
        .iter()
        .rev()
        .map(|p| (p.clone(), folder.clone()))
        .collect();
    while let Some((path, parent)) = pending.pop() {
        if !path.is_dir() {
            files.push((path, parent));
            continue;
        }
        let name = path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "folder".to_owned());
        let id = Some(folders.child(parent.as_deref(), &name).await?);
        let mut children: Vec<_> = std::fs::read_dir(&path)
            .map_err(|source| TransferError::Io {
                path: path.display().to_string(),
                source,
            })?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        children.sort();
        pending.extend(children.into_iter().rev().map(|child| (child, id.clone())));
    }
    Ok(files)
}

/// The parts of an upload: how it is cut, and which parts S3 holds, as (number, size).
struct Parts {
    part_size: u64,
    part_count: u64,
    held: BTreeSet<(u64, u64)>,
}

/// Uploads one local file; returns the file object once it is `uploaded`.
pub async fn upload_file(
    api: &Api,
    path: &Path,
    folder: Option<&str>,
    options: &UploadOptions,
    state: &mut ResumeState,
    meter: &Meter,
) -> Result<FileObject, UploadError> {
    let key = ResumeState::key(api.base(), path).ok();
    if let Some(key) = &key
        && let Some(id) = state.get(key).map(str::to_owned)
    {
        let resumed = resume(api, path, &id, options.parallel, meter).await?;
        state.set(key, None);
        if let Some(file) = resumed {
            return Ok(file);
        }
    }
    let file = declare_and_send(api, path, folder, options, state, key.as_deref(), meter).await?;
    if let Some(key) = &key {
        state.set(key, None);
    }
    Ok(file)
}

#[allow(clippy::too_many_arguments)]
async fn declare_and_send(
    api: &Api,
    path: &Path,
    folder: Option<&str>,
    options: &UploadOptions,
    state: &mut ResumeState,
    key: Option<&str>,
    meter: &Meter,
) -> Result<FileObject, UploadError> {
    let io = |source| TransferError::Io {
        path: path.display().to_string(),
        source,
    };
    let size = tokio::fs::metadata(path).await.map_err(io)?.len();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    // Above this the API cannot verify a whole-file checksum (see MAX_CHECKSUMMED_BYTES).
    let checksummed = size <= MAX_CHECKSUMMED_BYTES;
    let declaration = CreateFileRequest {
        name,
        content_type: content_type_of(path).await.map_err(io)?,
        size_bytes: SizeInput::new(size.to_string()),
        checksum_sha256: match checksummed {
            true => Some(sha256_of(path, 0, size).await?),
            false => None,
        },
        folder: folder.map(|f| Some(f.to_owned())),
        parent: options.parent.clone(),
        public: options.public.then_some(true),
        multipart: None,
    };
    let created: FileUpload = api.post("/v1/files", &declaration).await?;
    let id = created.file.id;
    match created.upload {
        UploadTicket::Multipart(ticket) => {
            // Remembered before the first part, so that a run killed from here on resumes.
            if let Some(key) = key {
                state.set(key, Some(&id));
            }
            let parts = Parts {
                part_size: ticket.part_size,
                part_count: ticket.part_count.into(),
                held: BTreeSet::new(),
            };
            send_parts(api, path, &id, &parts, checksummed, options.parallel, meter).await?;
        }
        UploadTicket::Put(ticket) => {
            put_range(
                api.http(),
                &ticket.url,
                &ticket.headers,
                path,
                0,
                size,
                meter,
            )
            .await?;
        }
    }
    finalize(api, &id, meter).await
}

/// Goes on with the upload of file `id`; `None` when there is nothing to go on with (the file
/// is gone, failed or expired), so that the caller declares it again.
async fn resume(
    api: &Api,
    path: &Path,
    id: &str,
    parallel: usize,
    meter: &Meter,
) -> Result<Option<FileObject>, UploadError> {
    let file: FileObject = match api.get(&format!("/v1/files/{id}")).await {
        Ok(file) => file,
        Err(ApiError::Refused { status: 404, .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match file.status {
        FileStatus::Pending => {}
        // Finalized by the run that died (or by its S3 event): done.
        FileStatus::Uploaded | FileStatus::Processing | FileStatus::Ready => {
            return Ok(Some(file));
        }
        FileStatus::Failed => return Ok(None),
    }
    let parts = match held_parts(api, id).await {
        Ok(parts) => parts,
        // Completed by a finalize that died: finalizing again settles it.
        Err(ApiError::Refused { code, .. }) if code == "upload_completed" => {
            return finalize(api, id, meter).await.map(Some);
        }
        Err(ApiError::Refused {
            status: 404 | 409, ..
        }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let checksummed = file.checksum_sha256.is_some();
    meter.skip(parts.held.iter().map(|(_, size)| size).sum());
    send_parts(api, path, id, &parts, checksummed, parallel, meter).await?;
    finalize(api, id, meter).await.map(Some)
}

/// The upload's plan and every part S3 holds (all pages of `GET …/parts`).
async fn held_parts(api: &Api, id: &str) -> Result<Parts, ApiError> {
    let mut parts = Parts {
        part_size: 0,
        part_count: 0,
        held: BTreeSet::new(),
    };
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "100".to_owned())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page: PartList = api
            .get_with(&format!("/v1/files/{id}/parts"), &query)
            .await?;
        parts.part_size = page.part_size.parse().unwrap_or(0);
        parts.part_count = page.part_count.into();
        for part in page.data {
            if let Ok(size) = part.size_bytes.parse() {
                parts.held.insert((part.part_number.into(), size));
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(parts),
        }
    }
}

/// Sends every part S3 does not hold with its exact length, `parallel` at a time, each signed
/// just before it is sent (so no URL waits long enough to expire), with its SHA-256 when the
/// file was declared with one.
async fn send_parts(
    api: &Api,
    path: &Path,
    id: &str,
    parts: &Parts,
    checksummed: bool,
    parallel: usize,
    meter: &Meter,
) -> Result<(), UploadError> {
    let size = tokio::fs::metadata(path)
        .await
        .map_err(|source| TransferError::Io {
            path: path.display().to_string(),
            source,
        })?
        .len();
    let part_size = parts.part_size;
    let length = move |n: u64| part_size.min(size.saturating_sub((n - 1) * part_size));
    let missing = (1..=parts.part_count).filter(|n| !parts.held.contains(&(*n, length(*n))));
    futures_util::stream::iter(missing)
        .map(|number| async move {
            let offset = (number - 1) * part_size;
            let len = length(number);
            let part = PartEntry {
                part_number: number,
                checksum_sha256: match checksummed {
                    true => Some(sha256_of(path, offset, len).await?),
                    false => None,
                },
            };
            let signed: List<PartTicket> = api
                .post(
                    &format!("/v1/files/{id}/parts"),
                    &SignPartsRequest { parts: vec![part] },
                )
                .await?;
            let ticket = signed
                .data
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::Unexpected {
                    status: 200,
                    body: format!("no URL for part {number}"),
                })?;
            put_range(
                api.http(),
                &ticket.url,
                &ticket.headers,
                path,
                offset,
                len,
                meter,
            )
            .await?;
            Ok::<_, UploadError>(())
        })
        .buffer_unordered(parallel.max(1))
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Finalizes, and waits while the API is still checking a large file's SHA-256 (`202`).
async fn finalize(api: &Api, id: &str, meter: &Meter) -> Result<FileObject, UploadError> {
    const PATIENCE: Duration = Duration::from_secs(15 * 60);
    let started = std::time::Instant::now();
    let mut file: FileObject = api.post_empty(&format!("/v1/files/{id}/finalize")).await?;
    if file.status == FileStatus::Pending {
        meter.verifying();
    }
    while file.status == FileStatus::Pending {
        if started.elapsed() > PATIENCE {
            return Err(UploadError::StillVerifying(PATIENCE));
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        file = api.get(&format!("/v1/files/{id}")).await?;
    }
    Ok(file)
}

/// The type the API will accept for these bytes: what their first bytes say, else
/// `application/octet-stream` (always accepted, always served as an attachment).
async fn content_type_of(path: &Path) -> std::io::Result<String> {
    let mut head = Vec::new();
    tokio::fs::File::open(path)
        .await?
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .await?;
    Ok(detect(&head)
        .unwrap_or("application/octet-stream")
        .to_owned())
}
