//! `GET /v1/proxy/file` (the presigned URL is the capability) and `GET /v1/files/{id}/content`
//! (authenticated): S3 objects streamed through the API for clients that cannot reach S3.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use filegate_core::content::ContentRequest;
use filegate_domain::DomainError;
use filegate_domain::byte_range::StreamPace;
use filegate_domain::ids::FileId;
use filegate_domain::principal::Scope;
use filegate_http::extract::{Authenticated, Origin, PathId, QueryParams};
use filegate_http::streaming::{
    StreamedObject, byte_range, content_response, range_not_satisfiable,
};
use filegate_http::wire::download::{ContentQuery, ProxyQuery};
use filegate_http::{ApiError, AppState, AuthErrors, ErrorBody};
use filegate_proxy_client::{PresignedProxy, Proxied};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(proxy_file, file_content))]
pub struct ProxyApi;

pub fn router(state: AppState, proxy: PresignedProxy) -> Router {
    // GET only: axum would answer HEAD by running the GET (a full S3 read, and for content
    // an audit row for bytes never sent).
    let pace = state.config.stream_pace;
    Router::new()
        .route("/v1/proxy/file", get(proxy_file).head(no_head))
        .with_state(ProxyState {
            proxy: Arc::new(proxy),
            pace,
        })
        .merge(
            Router::new()
                .route("/v1/files/{id}/content", get(file_content).head(no_head))
                .with_state(state),
        )
}

/// What the credential-less proxy route needs: the client for presigned URLs and how slowly
/// a client may read.
#[derive(Clone)]
struct ProxyState {
    proxy: Arc<PresignedProxy>,
    pace: StreamPace,
}

async fn no_head() -> ApiError {
    DomainError::method_not_allowed().into()
}

/// Stream an object through the API, given a presigned GET URL of this deployment's bucket.
///
/// No credentials: the presigned URL is the capability, and S3 checks its signature and
/// expiry. Only `https` URLs of this deployment's bucket endpoints are fetched (no other
/// hosts, ports, buckets, IP addresses or userinfo); redirects are never followed. Send
/// `Range: bytes=…` for a part (`206`). Bodies over 200 MB (Lambda's streamed-response limit)
/// are refused with `413 too_large_for_proxy` before the first byte: use a download URL, or
/// ranges. Types that are not inline-safe (raster images, PDF, plain text, CSV, audio,
/// video) are always served as attachments; every body has `nosniff`.
#[utoipa::path(
    get, path = "/v1/proxy/file", tag = "proxy",
    params(ProxyQuery, ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-99` or `bytes=-100`")),
    responses(
        (status = 200, description = "The object, streamed, with S3's `Content-Type`, `Content-Length`, `Content-Disposition`, `ETag`, `Last-Modified`", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The requested range, with `Content-Range`", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "Malformed byte `Range` (`invalid_range`) or query", body = ErrorBody),
        (status = 403, description = "Not an https URL of this deployment's bucket, or not a filegate object (`url_not_allowed`)", body = ErrorBody),
        (status = 404, description = "The object no longer exists (`object_not_found`)", body = ErrorBody),
        (status = 410, description = "S3 says the URL expired (`presigned_url_expired`) or its signature is invalid (`presigned_url_invalid`)", body = ErrorBody),
        (status = 413, description = "Over the proxy's limit (`too_large_for_proxy`)", body = ErrorBody),
        (status = 416, description = "The range starts past the end (`range_not_satisfiable`)", body = ErrorBody),
        (status = 422, description = "`presigned_url` missing (`presigned_url_missing`), not a URL (`invalid_presigned_url`), or without SigV4 query parameters (`not_presigned`)", body = ErrorBody),
        (status = 502, description = "S3 unreachable (`upstream_unreachable`), slow (`upstream_timeout`), busy (`upstream_unavailable`), refusing the signer (`upstream_denied`: with filegate's URLs also a deleted object), redirecting (`upstream_redirect`) or failing (`upstream_error`)", body = ErrorBody),
    ),
    security(())
)]
async fn proxy_file(
    State(ProxyState { proxy, pace }): State<ProxyState>,
    QueryParams(query): QueryParams<ProxyQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let range = byte_range(&headers)?;
    Ok(
        match proxy.fetch(query.presigned_url.as_deref(), range).await? {
            Proxied::Object {
                partial,
                headers,
                body,
            } => StreamedObject::new(partial, &headers, Body::new(body), pace).into_response(),
            Proxied::RangeNotSatisfiable(content_range) => range_not_satisfiable(content_range),
        },
    )
}

/// Stream a file's bytes through the API (for clients that cannot reach S3).
///
/// Same `Content-Type` and `Content-Disposition` as a download URL (`?attachment=true` to
/// download; types that are not inline-safe are always attachments). Send `Range: bytes=…` for a part
/// (`206`). Only `uploaded`, `processing` and `ready` files; writes a
/// `file.content_streamed` audit event. Bodies over 200 MB are refused with
/// `413 too_large_for_proxy`: use a download URL, or ranges.
#[utoipa::path(
    get, path = "/v1/files/{id}/content", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)"), ContentQuery,
           ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-99` or `bytes=-100`")),
    responses(
        (status = 200, description = "The file, streamed", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The requested range, with `Content-Range`", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "Malformed id, query or `Range` (`invalid_range`)", body = ErrorBody),
        (status = 404, description = "No such file in the caller's organisation", body = ErrorBody),
        (status = 409, description = "The file is `pending` or `failed` (`file_not_ready`)", body = ErrorBody),
        (status = 413, description = "Over the proxy's limit (`too_large_for_proxy`)", body = ErrorBody),
        (status = 416, description = "The range starts past the end (`range_not_satisfiable`)", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
async fn file_content(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Origin(origin): Origin,
    PathId(id): PathId<FileId>,
    QueryParams(query): QueryParams<ContentQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require(Scope::FilesRead)?;
    let request = ContentRequest {
        attachment: query.attachment.unwrap_or(false),
        range: byte_range(&headers)?,
    };
    let content = state.files.content(&caller, &origin, &id, request).await?;
    Ok(content_response(content, state.config.stream_pace))
}
