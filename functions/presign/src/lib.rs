//! The `presign` function: declares uploads and hands out presigned PUTs.
//!
//! `POST /v1/files` and `POST /v1/files/batch`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use filegate_shared::audit::RequestOrigin;
use filegate_shared::auth::{Caller, Scope};
use filegate_shared::error::{ApiError, AuthErrors, ErrorBody};
use filegate_shared::http::{AppState, JsonBody};
use filegate_shared::upload::{
    CreateFileRequest, CreateFilesRequest, FileDeclaration, FileUpload, FileUploadList,
};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(create_file, create_files))]
pub struct PresignApi;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/files", post(create_file))
        .route("/v1/files/batch", post(create_files))
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
    security(("bearer" = []))
)]
async fn create_file(
    State(state): State<AppState>,
    caller: Caller,
    origin: RequestOrigin,
    JsonBody(request): JsonBody<CreateFileRequest>,
) -> Result<(StatusCode, Json<FileUpload>), ApiError> {
    caller.require(Scope::FilesWrite)?;
    let declaration = FileDeclaration::parse(&request, state.files.policy())?;
    let created = state
        .files
        .initiate(&caller, &origin, vec![declaration])
        .await?;
    let upload = created
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal(&std::io::Error::other("initiate returned no file")))?;
    Ok((StatusCode::CREATED, Json(upload)))
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
    security(("bearer" = []))
)]
async fn create_files(
    State(state): State<AppState>,
    caller: Caller,
    origin: RequestOrigin,
    JsonBody(request): JsonBody<CreateFilesRequest>,
) -> Result<FileUploadList, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let declarations = FileDeclaration::parse_batch(&request, state.files.policy())?;
    let created = state.files.initiate(&caller, &origin, declarations).await?;
    Ok(FileUploadList::new(created))
}
