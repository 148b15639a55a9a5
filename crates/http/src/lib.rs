//! filegate's HTTP glue: what every function's axum router shares. [`AppState`], extractors
//! that turn bad input into the one error format, [`ApiError`] and its one renderer, the
//! shared layers, and streamed responses. The wire types live in `filegate-wire`, which the
//! API's clients share; they are re-exported here as [`wire`].

pub mod error;
pub mod extract;
pub mod layers;
pub mod state;
pub mod streaming;

pub use error::{ApiError, AuthErrors, ErrorBody};
pub use filegate_wire as wire;
pub use state::AppState;

use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// `201 Created` with a JSON body.
pub struct Created<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, axum::Json(self.0)).into_response()
    }
}
