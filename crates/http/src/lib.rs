//! filegate's HTTP glue: what every function's axum router shares. [`AppState`], extractors
//! that turn bad input into the one error format, [`ApiError`] and its one renderer, the
//! shared layers, the wire types with their OpenAPI schemas, and streamed responses.

pub mod error;
pub mod extract;
pub mod layers;
pub mod state;
pub mod streaming;
pub mod wire;

pub use error::{ApiError, AuthErrors, ErrorBody};
pub use state::AppState;
