//! `GET /v1/files/{id}/content`: a file's bytes streamed through the API, for clients that
//! cannot reach S3, with the same type and disposition as its download URLs.

use filegate_domain::DomainError;
use filegate_domain::audit::{AuditAction, AuditEvent, RequestOrigin};
use filegate_domain::byte_range::{ByteRange, ensure_streamable};
use filegate_domain::download::{Disposition, content_disposition, ensure_downloadable};
use filegate_domain::file::file_not_found;
use filegate_domain::ids::FileId;
use filegate_domain::principal::Caller;
use filegate_domain::timestamp::Timestamp;
use filegate_store::objects::{ObjectRead, ObjectStream};

use crate::file_service::FileService;

/// What the content was asked for as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRequest {
    pub attachment: bool,
    pub range: Option<ByteRange>,
}

/// Either the bytes, or a 416 for a range past the end of an object of `size` bytes.
#[derive(Debug)]
pub enum Content {
    Stream(FileContent),
    RangeNotSatisfiable { size: u64 },
}

/// A file's bytes (or the asked-for range of them) with what describes them.
#[derive(Debug)]
pub struct FileContent {
    /// The file's declared type, not what S3 stored.
    pub content_type: String,
    /// Bytes in `body`.
    pub content_length: u64,
    pub content_disposition: String,
    /// `bytes first-last/total`, for a range.
    pub content_range: Option<String>,
    pub etag: Option<String>,
    /// As an HTTP date.
    pub last_modified: Option<String>,
    pub body: ObjectStream,
}

impl FileService {
    /// `GET /v1/files/{id}/content`: GetObject under the function's own role, with the
    /// file's content type and the same `Content-Disposition` as its download URLs, and a
    /// `file.content_streamed` audit row written before the first byte goes out.
    pub async fn content(
        &self,
        caller: &Caller,
        origin: &RequestOrigin,
        id: &FileId,
        request: ContentRequest,
    ) -> Result<Content, DomainError> {
        let file = self.get(caller, id).await?;
        ensure_downloadable(&file)?;
        let read = self.objects().open(&file.object_key(), request.range).await;
        let object = match read {
            Ok(ObjectRead::Found(object)) => object,
            Ok(ObjectRead::RangeNotSatisfiable) => {
                return Ok(Content::RangeNotSatisfiable {
                    size: file.size_bytes.bytes(),
                });
            }
            // Verified bytes that are gone: only a delete racing this read can do that.
            Ok(ObjectRead::Missing) => return Err(file_not_found(id)),
            // A role that may not list the bucket (the proxy's) gets AccessDenied for a
            // missing key: if the file went away meanwhile, that is the answer, a 404.
            Err(e) => {
                self.get(caller, id).await?;
                return Err(e.into());
            }
        };
        let length = object.content_length.ok_or_else(|| {
            DomainError::internal(&std::io::Error::other("GetObject sent no Content-Length"))
        })?;
        ensure_streamable(length, self.proxy_max_bytes())?;

        let disposition = Disposition::for_file(request.attachment, &file.content_type);
        let mut event = AuditEvent::new(
            &caller.org,
            file.id,
            AuditAction::FileContentStreamed,
            &caller.actor,
            origin,
            Timestamp::now(),
        )
        .with_detail("disposition", disposition.as_str())
        .with_detail("bytes", length.to_string());
        if let Some(range) = request.range {
            event = event.with_detail("range", range.header_value());
        }
        self.store().record_event(&event).await?;

        Ok(Content::Stream(FileContent {
            content_type: file.content_type.as_str().to_owned(),
            content_length: length,
            content_disposition: content_disposition(disposition, &file.name),
            content_range: object.content_range,
            etag: object.etag,
            last_modified: object.last_modified,
            body: object.body,
        }))
    }
}
