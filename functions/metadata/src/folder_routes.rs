//! Folder routes.

use axum::Json;
use axum::extract::State;
use filegate_domain::ids::FolderId;
use filegate_domain::principal::Scope;
use filegate_http::Created;
use filegate_http::extract::{Authenticated, JsonBody, PathId, QueryParams};
use filegate_http::wire::folder::{
    CreateFolderRequest, DeletedFolder, FolderObject, ListFoldersQuery, UpdateFolderRequest,
};
use filegate_http::wire::list::List;
use filegate_http::{ApiError, AppState, AuthErrors, ErrorBody};

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
    Authenticated(caller): Authenticated,
    JsonBody(request): JsonBody<CreateFolderRequest>,
) -> Result<Created<FolderObject>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let (name, parent) = request.parts()?;
    let folder = state.files.create_folder(&caller, name, parent).await?;
    Ok(Created(FolderObject::from(&folder)))
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
    Authenticated(caller): Authenticated,
    QueryParams(query): QueryParams<ListFoldersQuery>,
) -> Result<Json<List<FolderObject>>, ApiError> {
    caller.require(Scope::FilesRead)?;
    let parent = query.parent()?;
    let page = query.page()?;
    let listing = state.lists.folders(&caller, parent, &page).await?;
    Ok(Json(List::of(listing)))
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
    Authenticated(caller): Authenticated,
    PathId(id): PathId<FolderId>,
) -> Result<Json<FolderObject>, ApiError> {
    caller.require(Scope::FilesRead)?;
    let folder = state.files.get_folder(&caller, &id).await?;
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
    Authenticated(caller): Authenticated,
    PathId(id): PathId<FolderId>,
    JsonBody(request): JsonBody<UpdateFolderRequest>,
) -> Result<Json<FolderObject>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    let change = request.change()?;
    let folder = state.files.update_folder(&caller, &id, &change).await?;
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
    Authenticated(caller): Authenticated,
    PathId(id): PathId<FolderId>,
) -> Result<Json<DeletedFolder>, ApiError> {
    caller.require(Scope::FilesWrite)?;
    state.files.delete_folder(&caller, &id).await?;
    Ok(Json(DeletedFolder::new(&id)))
}
