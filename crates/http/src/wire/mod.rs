//! The API's wire types: request bodies and queries (each with the method that checks it
//! into domain values), the objects responses carry, and their OpenAPI schemas.

pub mod api_key;
pub mod audit;
pub mod download;
pub mod file;
pub mod folder;
pub mod list;
pub mod parts;
pub mod upload;

use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// `201 Created` with a JSON body.
pub struct Created<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, axum::Json(self.0)).into_response()
    }
}
