//! File metadata routes.

use axum::Json;
use axum::extract::State;
use filegate_domain::ids::FileId;
use filegate_domain::principal::Scope;
use filegate_http::extract::{Authenticated, JsonBody, Origin, PathId, QueryParams};
use filegate_http::wire::audit::AuditEventObject;
use filegate_http::wire::file::{
    ChangeStatusRequest, DeletedFile, FileObject, ListFilesQuery, UpdateFileRequest,
};
use filegate_http::wire::list::{List, PageQuery};
use filegate_http::{ApiError, AppState, AuthErrors, ErrorBody};

/// List files, newest first.
///
/// Filters combine: `folder` (a folder id, or `root`), `parent_type` + `parent_id` (together),
/// `status`. Pages hold `limit` files; pass `next_cursor` back as `cursor`, with the same
/// filters, for the next page. A cursor from another list or organisation is
/// `400 invalid_cursor`.
#[utoipa::path(
    get, path = "/v1/files", tag = "files",
    params(ListFilesQuery),
    responses(
        (status = 200, description = "A page of files", body = List<FileObject>),
        (status = 400, description = "Invalid filter, limit or cursor (`param` names it)", body = ErrorBody),
        (status = 404, description = "`folder` does not exist in the organisation", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_files(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    QueryParams(query): QueryParams<ListFilesQuery>,
) -> Result<Json<List<FileObject>>, ApiError> {
    caller.require(Scope::FilesRead)?;
    let filter = query.filter()?;
    let page = query.page()?;
    let listing = state.lists.files(&caller, &filter, &page).await?;
    Ok(Json(List::of(listing)))
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
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get_file(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathId(id): PathId<FileId>,
) -> Result<Json<FileObject>, ApiError> {
    caller.require(Scope::FilesRead)?;
    let file = state.files.get(&caller, &id).await?;
    Ok(Json(FileObject::from(&file)))
}

/// Rename and/or move a file.
///
/// `name` renames; `folder` moves (a folder id of the organisation, or `null` for the root).
/// Writes `file.renamed` / `file.moved` audit events. A body that changes nothing returns the
/// file unchanged. `PATCH` does the same.
#[utoipa::path(
    post, path = "/v1/files/{id}", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)")),
    request_body = UpdateFileRequest,
    responses(
        (status = 200, description = "The updated file", body = FileObject),
        (status = 400, description = "Invalid name or folder id (`param` names it)", body = ErrorBody),
        (status = 404, description = "No such file, or the target folder does not exist in the organisation (`folder_not_found`)", body = ErrorBody),
        (status = 409, description = "The file kept changing concurrently (`concurrent_update`)", body = ErrorBody),
        (status = 415, description = "Body not JSON", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn update_file(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Origin(origin): Origin,
    PathId(id): PathId<FileId>,
    JsonBody(request): JsonBody<UpdateFileRequest>,
) -> Result<Json<FileObject>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let change = request.change()?;
    let file = state
        .files
        .update_file(&caller, &origin, &id, &change)
        .await?;
    Ok(Json(FileObject::from(&file)))
}

/// Rename and/or move a file (same as `POST /v1/files/{id}`).
#[utoipa::path(
    patch, path = "/v1/files/{id}", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)")),
    request_body = UpdateFileRequest,
    responses(
        (status = 200, description = "The updated file", body = FileObject),
        (status = 400, description = "Invalid name or folder id (`param` names it)", body = ErrorBody),
        (status = 404, description = "No such file, or no such target folder (`folder_not_found`)", body = ErrorBody),
        (status = 409, description = "The file kept changing concurrently (`concurrent_update`)", body = ErrorBody),
        (status = 415, description = "Body not JSON", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn patch_file(
    state: State<AppState>,
    caller: Authenticated,
    origin: Origin,
    id: PathId<FileId>,
    body: JsonBody<UpdateFileRequest>,
) -> Result<Json<FileObject>, ApiError> {
    update_file(state, caller, origin, id, body).await
}

/// Move a file along its lifecycle.
///
/// Allowed: `uploaded→processing`, `uploaded→ready`, `processing→ready`,
/// `processing→failed`, `pending→failed` (`error_message` is required for `failed`). The
/// change only applies if the file is still in the status it was read in; anything else is
/// `409 invalid_transition`. Failing a `pending` file also deletes any bytes uploaded for it.
#[utoipa::path(
    post, path = "/v1/files/{id}/status", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)")),
    request_body = ChangeStatusRequest,
    responses(
        (status = 200, description = "The file in its new status", body = FileObject),
        (status = 400, description = "Unknown status, or `error_message` missing/not allowed", body = ErrorBody),
        (status = 404, description = "No such file in the caller's organisation", body = ErrorBody),
        (status = 409, description = "Not an allowed transition from the current status (`invalid_transition`)", body = ErrorBody),
        (status = 415, description = "Body not JSON", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn change_status(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Origin(origin): Origin,
    PathId(id): PathId<FileId>,
    JsonBody(request): JsonBody<ChangeStatusRequest>,
) -> Result<Json<FileObject>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let request = request.request()?;
    let file = state
        .files
        .change_status(&caller, &origin, &id, &request)
        .await?;
    Ok(Json(FileObject::from(&file)))
}

/// Delete a file: its bytes and its metadata.
///
/// The file disappears from every read at once; its audit trail stays readable. A retry of a
/// DELETE that failed half-way finishes it.
#[utoipa::path(
    delete, path = "/v1/files/{id}", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)")),
    responses(
        (status = 200, description = "Deleted", body = DeletedFile),
        (status = 400, description = "Malformed id (`invalid_id`)", body = ErrorBody),
        (status = 404, description = "No such file in the caller's organisation", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete_file(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Origin(origin): Origin,
    PathId(id): PathId<FileId>,
) -> Result<Json<DeletedFile>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    state.files.delete(&caller, &origin, &id).await?;
    Ok(Json(DeletedFile::new(&id)))
}

/// A file's audit trail, oldest first.
///
/// Every change and download URL, with the actor (`user`, `api_key` or `system`), request id,
/// source IP and user agent. Kept after the file is deleted.
#[utoipa::path(
    get, path = "/v1/files/{id}/audit", tag = "files",
    params(("id" = String, Path, description = "File id (`file_…`)"), PageQuery),
    responses(
        (status = 200, description = "A page of audit events", body = List<AuditEventObject>),
        (status = 400, description = "Malformed id, limit or cursor", body = ErrorBody),
        (status = 404, description = "No file with this id ever existed in the caller's organisation", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn audit_trail(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathId(id): PathId<FileId>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<List<AuditEventObject>>, ApiError> {
    caller.require(Scope::FilesRead)?;
    let page = query.page()?;
    let trail = state.lists.audit_trail(&caller, &id, &page).await?;
    Ok(Json(List::of(trail)))
}
