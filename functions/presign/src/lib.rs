//! The `presign` function: declares uploads and hands out presigned PUTs.
//!
//! `POST /v1/files`, `POST /v1/files/batch`, the parts of multipart uploads
//! (`POST`/`GET /v1/files/{id}/parts`), and `POST /v1/files/{id}/download_url` (the other
//! direction: a presigned GET).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use filegate_domain::DomainError;
use filegate_domain::ids::FileId;
use filegate_domain::multipart::PartTicket;
use filegate_domain::principal::Scope;
use filegate_http::extract::QueryParams;
use filegate_http::extract::{Authenticated, JsonBody, OptionalJsonBody, Origin, PathId};
use filegate_http::wire::download::{DownloadUrlRequest, FileDownload};
use filegate_http::wire::list::List;
use filegate_http::wire::list::PageQuery;
use filegate_http::wire::parts::{PartList, SignPartsRequest};
use filegate_http::wire::upload::{
    CreateFileRequest, CreateFilesRequest, FileUpload, FileUploadList,
};
use filegate_http::{ApiError, AppState, AuthErrors, Created, ErrorBody};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(create_file, create_files, sign_parts, list_parts, download_url))]
pub struct PresignApi;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/files", post(create_file))
        .route("/v1/files/batch", post(create_files))
        .route("/v1/files/{id}/parts", post(sign_parts).get(list_parts))
        .route("/v1/files/{id}/download_url", post(download_url))
        .with_state(state)
}

/// Declare one file and get a presigned PUT for its bytes.
///
/// Writes a `pending` file and returns it with an `upload` block. `method: "PUT"`: PUT the
/// bytes to `url` with exactly `headers` before `expires_at`, then finalize (or let the S3
/// event do it). `method: "multipart"` (files above the deployment's multipart threshold, or
/// declared with `multipart: true`): cut the file into `part_count` parts of `part_size` bytes
/// (the last holds the rest), get their URLs from `POST /v1/files/{id}/parts`, PUT them in any
/// order and in parallel, then finalize before `expires_at`.
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
) -> Result<Created<FileUploadList>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let declarations = request.declarations(state.files.policy())?;
    let created = state.files.initiate(&caller, &origin, declarations).await?;
    Ok(Created(FileUploadList::new(
        created.into_iter().map(FileUpload::new).collect(),
    )))
}

/// Sign part URLs of a multipart upload.
///
/// 1–100 parts per call, any number of calls while the file is `pending`: each URL is a
/// presigned `UploadPart` that binds the part's exact `Content-Length` (every part but the
/// last is `part_size` bytes) and, for a file declared with its `checksum_sha256`, the part's
/// SHA-256, which every part of such a file must then give (S3 refuses other bytes). A file
/// declared without a checksum takes none for its parts. PUT each part with exactly its `headers`. Ask again for a part
/// whose URL expired: the parts already uploaded stay.
#[utoipa::path(
    post, path = "/v1/files/{id}/parts", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)")),
    request_body = SignPartsRequest,
    responses(
        (status = 200, description = "The signed parts, in request order", body = List<PartTicket>),
        (status = 400, description = "1–100 distinct parts (`invalid_parts_count`, `duplicate_part_number`); `part_number` outside 1…`part_count` (`invalid_part_number`); a bad checksum; a part checksum missing for a file declared with one (`part_checksum_required`) or given for a file declared without (`part_checksum_not_declared`); `param` names the entry", body = ErrorBody),
        (status = 404, description = "No such file in the caller's organisation", body = ErrorBody),
        (status = 409, description = "`not_multipart`: the file has one PUT; `file_not_pending`: finalized or failed; `upload_expired`: past `expires_at`", body = ErrorBody),
        (status = 415, description = "Body not JSON", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
async fn sign_parts(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathId(id): PathId<FileId>,
    JsonBody(request): JsonBody<SignPartsRequest>,
) -> Result<Json<List<PartTicket>>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let requests = request.requests()?;
    let tickets = state.files.sign_parts(&caller, &id, &requests).await?;
    Ok(Json(List::complete(tickets)))
}

/// List the parts S3 already holds.
///
/// By part number, paginated, with the upload's `part_size`, `part_count` and `expires_at`:
/// after a crash or a reload, upload the parts that are not here (or whose `size_bytes` is
/// wrong), then finalize.
#[utoipa::path(
    get, path = "/v1/files/{id}/parts", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)"), PageQuery),
    responses(
        (status = 200, description = "A page of the parts S3 holds", body = PartList),
        (status = 400, description = "Malformed id, limit or cursor", body = ErrorBody),
        (status = 404, description = "No such file in the caller's organisation", body = ErrorBody),
        (status = 409, description = "`not_multipart`, `file_not_pending`, `upload_expired`, or `upload_completed` (finalize it)", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
async fn list_parts(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathId(id): PathId<FileId>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<PartList>, ApiError> {
    caller.require(Scope::FilesRead)?;
    let page = query.page()?;
    let (upload, listing) = state.lists.parts(&caller, &id, &page).await?;
    Ok(Json(PartList::new(&upload, listing)))
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
