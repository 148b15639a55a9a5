//! filegate's domain: the types and the pure rules every other crate builds on. No AWS SDK, no
//! HTTP framework, no async runtime: everything here is a value and a function of values, so
//! it is tested without an emulator and depended on without pulling anything in.
//!
//! OpenAPI schemas of the types that appear on the wire come with the `openapi` feature.

pub mod api_key;
pub mod audit;
pub mod byte_range;
pub mod download;
pub mod error;
pub mod file;
pub mod folder;
pub mod ids;
pub mod multipart;
pub mod page;
pub mod presigned_url;
pub mod principal;
pub mod secret;
pub mod status_change;
pub mod timestamp;
pub mod type_detection;
pub mod upload;

pub use error::{DomainError, ErrorKind};
