//! Getting bytes out: download URLs, and the queries of the two streaming routes.

use filegate_domain::DomainError;
use filegate_domain::download::{DownloadLink, DownloadRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /v1/files/{id}/download_url`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadUrlRequest {
    /// `true`: the browser saves the file; default `false` shows it inline when its type is
    /// inline-safe (raster images, PDF, plain text, CSV, audio, video), else as an attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<bool>,
    /// URL lifetime in seconds, 60–3600 (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 60, maximum = 3600, example = 300)]
    pub expires_in: Option<i64>,
}

/// `{"object":"file_download","url","expires_in","expires_at","file"}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FileDownload {
    /// Always `file_download`.
    #[schema(example = "file_download")]
    pub object: String,
    /// GET this URL: a presigned S3 URL, or the public URL of a public file.
    pub url: String,
    /// Seconds the URL is valid; null for a public URL, which does not expire.
    pub expires_in: Option<u64>,
    pub expires_at: Option<String>,
    /// The file's id.
    pub file: String,
}

impl DownloadUrlRequest {
    pub fn request(&self) -> Result<DownloadRequest, DomainError> {
        DownloadRequest::parse(self.attachment, self.expires_in)
    }
}

impl From<DownloadLink> for FileDownload {
    fn from(link: DownloadLink) -> Self {
        Self {
            object: "file_download".to_owned(),
            url: link.url,
            expires_in: link.expires.map(|(seconds, _)| seconds),
            expires_at: link.expires.map(|(_, at)| at.to_string()),
            file: link.file.to_string(),
        }
    }
}

/// `GET /v1/files/{id}/content`'s query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    /// `true`: the browser saves the file; default `false` shows it inline when its type is
    /// inline-safe (raster images, PDF, plain text, CSV, audio, video), else as an attachment.
    pub attachment: Option<bool>,
}

/// `GET /v1/proxy/file`'s query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProxyQuery {
    /// The presigned S3 GET URL, URL-encoded (as from `POST /v1/files/{id}/download_url`).
    pub presigned_url: Option<String>,
}
