//! The `finalize` function: confirms uploads by checking what landed in S3.
//!
//! `POST /v1/files/{id}/finalize` here, and the S3-event finalizer in [`events`] (its own
//! binary, `auto-finalize`). Both run the same `FileService::finalize`.

pub mod events;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use filegate_core::finalize::{Finalized, HashBudget};
use filegate_domain::ids::FileId;
use filegate_domain::principal::Scope;
use filegate_http::extract::{Authenticated, Origin, PathId};
use filegate_http::wire::file::FileObject;
use filegate_http::{ApiError, AppState, AuthErrors, ErrorBody};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(finalize_file))]
pub struct FinalizeApi;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/files/{id}/finalize", post(finalize_file))
        .with_state(state)
}

/// Confirm that a file's bytes were uploaded.
///
/// filegate HeadObjects the upload and checks its size, content type and (when declared)
/// SHA-256. A match moves the file from `pending` to `uploaded`; a file already past
/// `pending` comes back unchanged, so retries are safe. An upload that does not match marks
/// the file `failed` and deletes the object. No body is needed.
///
/// A multipart file is completed first, from the parts S3 holds (never from ETags a client
/// sends): every part 1…`part_count` must be there with its exact length, else
/// `409 upload_incomplete` with `details.missing_parts` and the file stays `pending`.
#[utoipa::path(
    post, path = "/v1/files/{id}/finalize", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)")),
    responses(
        (status = 200, description = "The file, now `uploaded` (or unchanged when already past `pending`)", body = FileObject),
        (status = 202, description = "A multipart file whose upload is complete and whose declared SHA-256 takes longer to check than a request may (above `FILEGATE_FINALIZE_HASH_MAX_BYTES`): still `pending`; the S3 event of the completion finishes the check. Poll the file (`Retry-After`)", body = FileObject),
        (status = 400, description = "Malformed id (`invalid_id`)", body = ErrorBody),
        (status = 404, description = "No such file in the caller's organisation", body = ErrorBody),
        (status = 409, description = "`upload_missing`: nothing uploaded yet (file stays `pending`); `upload_incomplete`: parts missing or of the wrong length (`details.missing_parts`, `details.missing_count`; file stays `pending`); `upload_mismatch`: size, type or checksum differ (`details.reason`: `size`, `content_type`, `checksum`; file now `failed`, object deleted; every later finalize answers the same); `file_failed`: the file failed otherwise (a status change)", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
async fn finalize_file(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Origin(origin): Origin,
    PathId(id): PathId<FileId>,
) -> Result<Response, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let finalized = state
        .files
        .finalize(&caller, &origin, &id, HashBudget::Request)
        .await?;
    Ok(match finalized {
        Finalized::Done(file) => (StatusCode::OK, Json(FileObject::from(&file))).into_response(),
        // The S3 event of the completed upload finishes the check: poll the file.
        Finalized::Verifying(file) => (
            StatusCode::ACCEPTED,
            [(header::RETRY_AFTER, "10")],
            Json(FileObject::from(&file)),
        )
            .into_response(),
    })
}
