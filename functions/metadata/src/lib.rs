//! The `metadata` function: reads and organises files and folders, and manages API keys.
//!
//! Files: `GET /v1/files`, `GET|POST|PATCH|DELETE /v1/files/{id}`,
//! `POST /v1/files/{id}/status`, `GET /v1/files/{id}/audit`. Folders: `/v1/folders…`.
//! API keys: `/v1/api_keys…`.

mod api_key_routes;
mod file_routes;
mod folder_routes;

use axum::Router;
use axum::routing::{delete, get, post};
use filegate_http::AppState;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(
    file_routes::list_files,
    file_routes::get_file,
    file_routes::update_file,
    file_routes::patch_file,
    file_routes::change_status,
    file_routes::delete_file,
    file_routes::audit_trail,
    folder_routes::create_folder,
    folder_routes::list_folders,
    folder_routes::get_folder,
    folder_routes::update_folder,
    folder_routes::delete_folder,
    api_key_routes::create_api_key,
    api_key_routes::list_api_keys,
    api_key_routes::revoke_api_key,
))]
pub struct MetadataApi;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/files", get(file_routes::list_files))
        .route(
            "/v1/files/{id}",
            get(file_routes::get_file)
                .post(file_routes::update_file)
                .patch(file_routes::patch_file)
                .delete(file_routes::delete_file),
        )
        .route("/v1/files/{id}/status", post(file_routes::change_status))
        .route("/v1/files/{id}/audit", get(file_routes::audit_trail))
        .route(
            "/v1/folders",
            post(folder_routes::create_folder).get(folder_routes::list_folders),
        )
        .route(
            "/v1/folders/{id}",
            get(folder_routes::get_folder)
                .post(folder_routes::update_folder)
                .delete(folder_routes::delete_folder),
        )
        .route(
            "/v1/api_keys",
            post(api_key_routes::create_api_key).get(api_key_routes::list_api_keys),
        )
        .route("/v1/api_keys/{id}", delete(api_key_routes::revoke_api_key))
        .with_state(state)
}
