//! `filegate upload`: declare a file, send its bytes the way the API answers (one PUT, or its
//! parts in parallel, each with its SHA-256), and finalize it.

use std::path::Path;
use std::time::Duration;

use filegate_domain::type_detection::{HEAD_BYTES, detect};
use filegate_domain::upload::MAX_CHECKSUMMED_BYTES;
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt as _;

use crate::api::{Api, ApiError};
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

/// Where the file goes and how.
pub struct UploadOptions {
    pub folder: Option<String>,
    /// Parts in flight at once.
    pub parallel: usize,
}

/// Uploads one local file; returns the file object once it is `uploaded`.
pub async fn upload_file(
    api: &Api,
    path: &Path,
    options: &UploadOptions,
) -> Result<Value, UploadError> {
    let io = |source| TransferError::Io {
        path: path.display().to_string(),
        source,
    };
    let size = tokio::fs::metadata(path).await.map_err(io)?.len();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let mut declaration = json!({
        "name": name,
        "content_type": content_type_of(path).await.map_err(io)?,
        "size_bytes": size.to_string(),
        "folder": options.folder,
    });
    // Above this the API cannot verify a whole-file checksum (see MAX_CHECKSUMMED_BYTES).
    if size <= MAX_CHECKSUMMED_BYTES {
        declaration["checksum_sha256"] = sha256_of(path, 0, size).await?.into();
    }
    let file: Value = api.post("/v1/files", &declaration).await?;
    let id = file["id"].as_str().unwrap_or_default().to_owned();
    let upload = &file["upload"];
    if upload["method"] == "multipart" {
        upload_parts(
            api,
            path,
            &id,
            upload,
            declaration.get("checksum_sha256").is_some(),
            options.parallel,
        )
        .await?;
    } else {
        put_range(
            api.http(),
            upload["url"].as_str().unwrap_or_default(),
            &upload["headers"],
            path,
            0,
            size,
        )
        .await?;
    }
    finalize(api, &id).await
}

/// Sends every part, `parallel` at a time, each signed just before it is sent (a URL never
/// waits long enough to expire) with its SHA-256 when the file has one.
async fn upload_parts(
    api: &Api,
    path: &Path,
    id: &str,
    upload: &Value,
    checksummed: bool,
    parallel: usize,
) -> Result<(), UploadError> {
    let part_size: u64 = upload["part_size"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let count = upload["part_count"].as_u64().unwrap_or(0);
    let size = tokio::fs::metadata(path)
        .await
        .map_err(|source| TransferError::Io {
            path: path.display().to_string(),
            source,
        })?
        .len();
    futures_util::stream::iter(1..=count)
        .map(|number| async move {
            let offset = (number - 1) * part_size;
            let len = part_size.min(size - offset);
            let mut part = json!({ "part_number": number });
            if checksummed {
                part["checksum_sha256"] = sha256_of(path, offset, len).await?.into();
            }
            let signed: Value = api
                .post(
                    &format!("/v1/files/{id}/parts"),
                    &json!({ "parts": [part] }),
                )
                .await?;
            let ticket = &signed["data"][0];
            put_range(
                api.http(),
                ticket["url"].as_str().unwrap_or_default(),
                &ticket["headers"],
                path,
                offset,
                len,
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
async fn finalize(api: &Api, id: &str) -> Result<Value, UploadError> {
    const PATIENCE: Duration = Duration::from_secs(15 * 60);
    let started = std::time::Instant::now();
    let mut file: Value = api.post_empty(&format!("/v1/files/{id}/finalize")).await?;
    while file["status"] == "pending" {
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
