//! Moving bytes between a local file and the presigned S3 URLs filegate hands out: a file (or
//! one part of it) streamed in 1 MiB chunks, never whole in memory, and SHA-256 computed on the
//! way.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{Stream, StreamExt as _};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

use crate::progress::Meter;

const CHUNK: u64 = 1 << 20;
/// Attempts of one PUT: S3 and the networks in between drop a connection now and then.
const ATTEMPTS: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("S3 refused the upload ({status}): {body}")]
    Refused { status: u16, body: String },
    #[error("the upload failed after {ATTEMPTS} attempts: {0}")]
    Network(#[source] reqwest::Error),
    #[error("the downloaded bytes hash to {got}, but the file's SHA-256 is {want}")]
    ChecksumMismatch { got: String, want: String },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> TransferError + '_ {
    move |source| TransferError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// SHA-256 (base64, as the API writes it) of `len` bytes of the file from `offset`.
pub async fn sha256_of(path: &Path, offset: u64, len: u64) -> Result<String, TransferError> {
    let mut chunks = std::pin::pin!(chunks_of(path, offset, len));
    let mut hasher = Sha256::new();
    while let Some(chunk) = chunks.next().await {
        hasher.update(chunk.map_err(io(path))?);
    }
    Ok(BASE64.encode(hasher.finalize()))
}

/// `len` bytes of the file from `offset`, in chunks of at most 1 MiB.
fn chunks_of(
    path: &Path,
    offset: u64,
    len: u64,
) -> impl Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static {
    let path = path.to_owned();
    futures_util::stream::unfold((None, 0u64), move |(file, sent)| {
        let path = path.clone();
        async move {
            if sent >= len {
                return None;
            }
            let mut file: tokio::fs::File = match file {
                Some(f) => f,
                None => match open_at(&path, offset).await {
                    Ok(f) => f,
                    Err(e) => return Some((Err(e), (None, len))),
                },
            };
            let want = CHUNK.min(len - sent) as usize;
            let mut buf = vec![0; want];
            match file.read_exact(&mut buf).await {
                Ok(_) => Some((Ok(buf), (Some(file), sent + want as u64))),
                Err(e) => Some((Err(e), (None, len))),
            }
        }
    })
}

async fn open_at(path: &Path, offset: u64) -> std::io::Result<tokio::fs::File> {
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(offset)).await?;
    Ok(file)
}

/// PUTs `len` bytes of the file from `offset` to a presigned URL with exactly the headers it
/// was signed with, again after a dropped connection or a 5xx; `meter` counts what is sent.
#[allow(clippy::too_many_arguments)]
pub async fn put_range(
    http: &reqwest::Client,
    url: &str,
    headers: &BTreeMap<String, String>,
    path: &Path,
    offset: u64,
    len: u64,
    meter: &Meter,
) -> Result<(), TransferError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = Arc::new(AtomicU64::new(0));
        let counted = {
            let (meter, sent) = (meter.clone(), Arc::clone(&sent));
            chunks_of(path, offset, len).inspect(move |chunk| {
                if let Ok(chunk) = chunk {
                    let n = chunk.len() as u64;
                    sent.fetch_add(n, Ordering::Relaxed);
                    meter.add(n);
                }
            })
        };
        let mut request = http.put(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let body = reqwest::Body::wrap_stream(counted);
        let result = request.body(body).send().await;
        if !matches!(&result, Ok(r) if r.status().is_success()) {
            meter.take_back(sent.load(Ordering::Relaxed));
        }
        match result {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) if response.status().is_server_error() && attempt < ATTEMPTS => {}
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                return Err(TransferError::Refused { status, body });
            }
            Err(_) if attempt < ATTEMPTS => {}
            Err(e) => return Err(TransferError::Network(e)),
        }
        tokio::time::sleep(Duration::from_millis(250 * 2u64.pow(attempt))).await;
    }
}

/// GETs a presigned URL (`size` bytes) into `target`, through a `.part` file renamed at the
/// end, checking the bytes against `want` (base64 SHA-256) when the file has one. A `.part`
/// that an interrupted run left is resumed with a `Range` request, its bytes hashed first so
/// that the check still covers the whole file; if the check fails then, the file is fetched
/// whole once more.
pub async fn download_to(
    http: &reqwest::Client,
    url: &str,
    target: &Path,
    size: u64,
    want: Option<&str>,
    meter: &Meter,
) -> Result<u64, TransferError> {
    let partial = target.with_extension(match target.extension() {
        Some(ext) => format!("{}.part", ext.to_string_lossy()),
        None => "part".to_owned(),
    });
    let held = tokio::fs::metadata(&partial)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    // A `.part` longer than the file is not a prefix of it.
    let from = if held <= size { held } else { 0 };
    match fetch_into(http, url, &partial, from, size, want, meter).await {
        Err(TransferError::ChecksumMismatch { .. }) if from > 0 => {
            meter.restart();
            fetch_into(http, url, &partial, 0, size, want, meter).await?;
        }
        other => other?,
    }
    tokio::fs::rename(&partial, target)
        .await
        .map_err(io(target))?;
    Ok(size)
}

/// Writes the object into `partial` from byte `from` on (the bytes before are already there),
/// then checks the whole against `want`; a file that fails it is removed.
#[allow(clippy::too_many_arguments)]
async fn fetch_into(
    http: &reqwest::Client,
    url: &str,
    partial: &Path,
    from: u64,
    size: u64,
    want: Option<&str>,
    meter: &Meter,
) -> Result<(), TransferError> {
    let mut hasher = Sha256::new();
    if from > 0 {
        let mut held = std::pin::pin!(chunks_of(partial, 0, from));
        while let Some(chunk) = held.next().await {
            hasher.update(chunk.map_err(io(partial))?);
        }
        meter.skip(from);
    }
    if from < size {
        let mut request = http.get(url);
        if from > 0 {
            request = request.header(reqwest::header::RANGE, format!("bytes={from}-"));
        }
        let response = request.send().await.map_err(TransferError::Network)?;
        let status = response.status();
        let append = match status.as_u16() {
            206 if from > 0 => true,
            200 => false,
            _ => {
                let body = response.text().await.unwrap_or_default();
                return Err(TransferError::Refused {
                    status: status.as_u16(),
                    body,
                });
            }
        };
        if !append && from > 0 {
            // The range was not honoured: the whole object comes, from its first byte.
            hasher = Sha256::new();
            meter.restart();
        }
        let mut out = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(partial)
            .await
            .map_err(io(partial))?;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(TransferError::Network)?;
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(io(partial))?;
            meter.add(chunk.len() as u64);
        }
        out.flush().await.map_err(io(partial))?;
    } else if size == 0 {
        tokio::fs::write(partial, b"").await.map_err(io(partial))?;
    }
    let got = BASE64.encode(hasher.finalize());
    if let Some(want) = want
        && got != want
    {
        let _ = tokio::fs::remove_file(partial).await;
        return Err(TransferError::ChecksumMismatch {
            got,
            want: want.to_owned(),
        });
    }
    Ok(())
}
