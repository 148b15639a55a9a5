//! The `metadata` function: reads and organises files and folders, and manages API keys.
//!
//! Files: `GET /v1/files`, `GET|POST|PATCH|DELETE /v1/files/{id}`,
//! `POST /v1/files/{id}/status`, `GET /v1/files/{id}/audit`. Folders: `/v1/folders…`.
//! API keys: `/v1/api_keys…`.

mod api_keys;
mod files;
mod folders;

use axum::Router;
use axum::routing::{delete, get, post};
use filegate_shared::http::AppState;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(
    files::list_files,
    files::get_file,
    files::update_file,
    files::patch_file,
    files::change_status,
    files::delete_file,
    files::audit_trail,
    folders::create_folder,
    folders::list_folders,
    folders::get_folder,
    folders::update_folder,
    folders::delete_folder,
    api_keys::create_api_key,
    api_keys::list_api_keys,
    api_keys::revoke_api_key,
))]
pub struct MetadataApi;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/files", get(files::list_files))
        .route(
            "/v1/files/{id}",
            get(files::get_file)
                .post(files::update_file)
                .patch(files::patch_file)
                .delete(files::delete_file),
        )
        .route("/v1/files/{id}/status", post(files::change_status))
        .route("/v1/files/{id}/audit", get(files::audit_trail))
        .route(
            "/v1/folders",
            post(folders::create_folder).get(folders::list_folders),
        )
        .route(
            "/v1/folders/{id}",
            get(folders::get_folder)
                .post(folders::update_folder)
                .delete(folders::delete_folder),
        )
        .route(
            "/v1/api_keys",
            post(api_keys::create_api_key).get(api_keys::list_api_keys),
        )
        .route("/v1/api_keys/{id}", delete(api_keys::revoke_api_key))
        .with_state(state)
}
