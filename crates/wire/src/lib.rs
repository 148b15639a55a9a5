//! The API's wire types: request bodies and queries (each with the method that checks it
//! into domain values), the objects responses carry, and their OpenAPI schemas.
//!
//! The API serves them and its clients (the `filegate` CLI) read them: one declaration of
//! each shape.

pub mod api_key;
pub mod audit;
pub mod download;
pub mod error;
pub mod file;
pub mod folder;
pub mod json_shape;
pub mod list;
pub mod parts;
pub mod upload;
