//! The `metadata` function: reads and organises files.
//!
//! `GET /v1/files/{id}`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use filegate_shared::auth::{Caller, Scope};
use filegate_shared::error::{ApiError, AuthErrors, ErrorBody};
use filegate_shared::files::FileObject;
use filegate_shared::http::{AppState, FileIdParam};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(get_file))]
pub struct MetadataApi;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/files/{id}", get(get_file))
        .with_state(state)
}

/// Get a file.
#[utoipa::path(
    get, path = "/v1/files/{id}", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)")),
    responses(
        (status = 200, description = "The file", body = FileObject),
        (status = 400, description = "Malformed id (`invalid_id`)", body = ErrorBody),
        (status = 404, description = "No such file in the caller's organisation", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []))
)]
async fn get_file(
    State(state): State<AppState>,
    caller: Caller,
    FileIdParam(id): FileIdParam,
) -> Result<Json<FileObject>, ApiError> {
    caller.require(Scope::FilesRead)?;
    let file = state.files.get(&caller.org, &id).await?;
    Ok(Json(FileObject::from(&file)))
}
