//! The `presign` function: declares uploads and hands out presigned PUTs.
//!
//! `POST /v1/files`, `POST /v1/files/batch`, and `POST /v1/files/{id}/download_url` (the other
//! direction: a presigned GET).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use filegate_domain::DomainError;
use filegate_domain::ids::FileId;
use filegate_domain::principal::Scope;
use filegate_http::extract::{Authenticated, JsonBody, OptionalJsonBody, Origin, PathId};
use filegate_http::wire::download::{DownloadUrlRequest, FileDownload};
use filegate_http::wire::upload::{
    CreateFileRequest, CreateFilesRequest, FileUpload, FileUploadList,
};
use filegate_http::{ApiError, AppState, AuthErrors, ErrorBody};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(create_file, create_files, download_url))]
pub struct PresignApi;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/files", post(create_file))
        .route("/v1/files/batch", post(create_files))
        .route("/v1/files/{id}/download_url", post(download_url))
        .with_state(state)
}

/// Declare one file and get a presigned PUT for its bytes.
///
/// Writes a `pending` file and returns it with an `upload` block: PUT the bytes to `url` with
/// exactly `headers` before `expires_at`, then finalize (or let the S3 event do it).
#[utoipa::path(
    post, path = "/v1/files", tag = "files",
    request_body = CreateFileRequest,
    responses(
        (status = 201, description = "Pending file with its upload instructions", body = FileUpload),
        (status = 400, description = "Malformed JSON, unknown field, invalid value (`param` names it)", body = ErrorBody),
        (status = 404, description = "`folder` does not exist in the organisation", body = ErrorBody),
        (status = 413, description = "`size_bytes` over the deployment's maximum (`file_too_large`)", body = ErrorBody),
        (status = 415, description = "Body not JSON, or content type not allowed (`unsupported_content_type`)", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
async fn create_file(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Origin(origin): Origin,
    JsonBody(request): JsonBody<CreateFileRequest>,
) -> Result<(StatusCode, Json<FileUpload>), ApiError> {
    caller.require(Scope::FilesWrite)?;
    let declaration = request.declaration(state.files.policy())?;
    let created = state
        .files
        .initiate(&caller, &origin, vec![declaration])
        .await?;
    let upload = created.into_iter().next().ok_or_else(|| {
        DomainError::internal(&std::io::Error::other("initiate returned no file"))
    })?;
    Ok((StatusCode::CREATED, Json(FileUpload::new(upload))))
}

/// Declare 1–10 files at once, all or nothing.
///
/// One invalid entry rejects the whole batch, with `param` like `files[3].name`; nothing is
/// written. `folder` and `parent` apply to every entry that does not set its own.
#[utoipa::path(
    post, path = "/v1/files/batch", tag = "files",
    request_body = CreateFilesRequest,
    responses(
        (status = 201, description = "Pending files with their upload instructions, in request order", body = FileUploadList),
        (status = 400, description = "Invalid batch or entry (`param` names it)", body = ErrorBody),
        (status = 404, description = "A folder does not exist in the organisation", body = ErrorBody),
        (status = 413, description = "An entry's size is over the maximum", body = ErrorBody),
        (status = 415, description = "Body not JSON, or a content type not allowed", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
async fn create_files(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Origin(origin): Origin,
    JsonBody(request): JsonBody<CreateFilesRequest>,
) -> Result<FileUploadList, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let declarations = request.declarations(state.files.policy())?;
    let created = state.files.initiate(&caller, &origin, declarations).await?;
    Ok(FileUploadList::new(
        created.into_iter().map(FileUpload::new).collect(),
    ))
}

/// Get a fresh download URL for a file.
///
/// A presigned GET, valid `expires_in` seconds (60–3600, default 300), whose response has the
/// file's `Content-Type` and a `Content-Disposition` of `inline` (default) or `attachment`
/// (`attachment: true`) with the file's name (RFC 6266: an ASCII `filename` and a UTF-8
/// `filename*`). Only inline-safe types (raster images but not SVG, PDF, `text/plain`,
/// `text/csv`, audio, video) are ever `inline`; every other type is `attachment`. Public files
/// get their public URL instead (`expires_in` null) when the deployment has a public base URL.
/// Only `uploaded`, `processing` and `ready` files; writes a `file.download_url_issued`
/// audit event. Request a new URL each time: never cache one.
#[utoipa::path(
    post, path = "/v1/files/{id}/download_url", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)")),
    request_body(content = DownloadUrlRequest, description = "Optional: an empty body or `{}` takes the defaults"),
    responses(
        (status = 200, description = "The URL", body = FileDownload),
        (status = 400, description = "`expires_in` outside 60–3600 (`invalid_expires_in`), malformed id or body", body = ErrorBody),
        (status = 404, description = "No such file in the caller's organisation", body = ErrorBody),
        (status = 409, description = "The file is `pending` or `failed` (`file_not_ready`)", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
async fn download_url(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Origin(origin): Origin,
    PathId(id): PathId<FileId>,
    OptionalJsonBody(request): OptionalJsonBody<DownloadUrlRequest>,
) -> Result<Json<FileDownload>, ApiError> {
    caller.require(Scope::FilesRead)?;
    let request = request.request()?;
    let link = state
        .files
        .download_url(&caller, &origin, &id, request)
        .await?;
    Ok(Json(FileDownload::from(link)))
}
