//! Folder routes.

use axum::Json;
use axum::extract::State;
use filegate_shared::auth::{Caller, Scope};
use filegate_shared::error::{ApiError, AuthErrors, ErrorBody};
use filegate_shared::folders::{
    CreateFolderRequest, DeletedFolder, FolderObject, UpdateFolderRequest, parse_folder_filter,
};
use filegate_shared::http::{AppState, Created, JsonBody, PathId, QueryParams};
use filegate_shared::ids::FolderId;
use filegate_shared::listing::{List, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;

/// Create a folder, at the root or inside `parent`.
#[utoipa::path(
    post, path = "/v1/folders", tag = "folders",
    request_body = CreateFolderRequest,
    responses(
        (status = 201, description = "The new folder", body = FolderObject),
        (status = 400, description = "Invalid name or parent id (`param` names it)", body = ErrorBody),
        (status = 404, description = "`parent` does not exist in the organisation (`folder_not_found`)", body = ErrorBody),
        (status = 415, description = "Body not JSON", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create_folder(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<CreateFolderRequest>,
) -> Result<Created<FolderObject>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let folder = state.files.create_folder(&caller, &request).await?;
    Ok(Created(FolderObject::from(&folder)))
}

/// The query of `GET /v1/folders`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFoldersQuery {
    /// A folder id, or `root`: its direct sub-folders. Absent: every folder of the organisation.
    parent: Option<String>,
    /// 1–100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page (with the same `parent`).
    cursor: Option<String>,
}

/// List folders, newest first.
#[utoipa::path(
    get, path = "/v1/folders", tag = "folders",
    params(ListFoldersQuery),
    responses(
        (status = 200, description = "A page of folders", body = List<FolderObject>),
        (status = 400, description = "Invalid parent, limit or cursor", body = ErrorBody),
        (status = 404, description = "`parent` does not exist in the organisation", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_folders(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ListFoldersQuery>,
) -> Result<Json<List<FolderObject>>, ApiError> {
    caller.require(Scope::FilesRead)?;
    let parent = query
        .parent
        .as_deref()
        .map(|p| parse_folder_filter(p, "parent"))
        .transpose()?;
    let page = PageRequest::from_parts(query.limit.as_deref(), query.cursor.as_deref())?;
    let list = state
        .files
        .list_folders(&state.cursors, &caller.org, parent, &page)
        .await?;
    Ok(Json(list))
}

/// Get a folder.
#[utoipa::path(
    get, path = "/v1/folders/{id}", tag = "folders",
    params(("id" = String, Path, description = "Folder id (`fldr_…`)")),
    responses(
        (status = 200, description = "The folder", body = FolderObject),
        (status = 400, description = "Malformed id (`invalid_id`)", body = ErrorBody),
        (status = 404, description = "No such folder in the caller's organisation", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get_folder(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<FolderId>,
) -> Result<Json<FolderObject>, ApiError> {
    caller.require(Scope::FilesRead)?;
    let folder = state.files.get_folder(&caller.org, &id).await?;
    Ok(Json(FolderObject::from(&folder)))
}

/// Rename and/or move a folder.
///
/// `parent: null` moves it to the root. Moving a folder into itself or one of its
/// sub-folders is `409 folder_cycle`.
#[utoipa::path(
    post, path = "/v1/folders/{id}", tag = "folders",
    params(("id" = String, Path, description = "Folder id (`fldr_…`)")),
    request_body = UpdateFolderRequest,
    responses(
        (status = 200, description = "The updated folder", body = FolderObject),
        (status = 400, description = "Invalid name or parent id", body = ErrorBody),
        (status = 404, description = "No such folder, or the new parent does not exist (`folder_not_found`)", body = ErrorBody),
        (status = 409, description = "`folder_cycle`, `folder_too_deep` or `concurrent_update`", body = ErrorBody),
        (status = 415, description = "Body not JSON", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn update_folder(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<FolderId>,
    JsonBody(request): JsonBody<UpdateFolderRequest>,
) -> Result<Json<FolderObject>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let folder = state
        .files
        .update_folder(&caller.org, &id, &request)
        .await?;
    Ok(Json(FolderObject::from(&folder)))
}

/// Delete an empty folder.
#[utoipa::path(
    delete, path = "/v1/folders/{id}", tag = "folders",
    params(("id" = String, Path, description = "Folder id (`fldr_…`)")),
    responses(
        (status = 200, description = "Deleted", body = DeletedFolder),
        (status = 400, description = "Malformed id (`invalid_id`)", body = ErrorBody),
        (status = 404, description = "No such folder in the caller's organisation", body = ErrorBody),
        (status = 409, description = "It still holds files or folders (`folder_not_empty`)", body = ErrorBody),
        AuthErrors,
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete_folder(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<FolderId>,
) -> Result<Json<DeletedFolder>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    Ok(Json(state.files.delete_folder(&caller.org, &id).await?))
}
