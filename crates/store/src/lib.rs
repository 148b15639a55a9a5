//! filegate's AWS adapters: the one config loader, the SDK clients (built once per process),
//! [`StorageError`], the DynamoDB [`MetadataStore`], the S3 [`ObjectStore`], and the fetch of
//! an identity provider's signing keys ([`key_set`]).
//!
//! Operations here do one storage step each and say what happened in their own error types
//! (a failed condition, a missing folder); deciding what that means for a request is
//! `filegate-core`'s.

pub mod clients;
pub mod config;
pub mod error;
pub mod key_set;
pub mod metadata;
pub mod objects;
pub mod tls;

pub use error::{StorageError, StorageOperation};
pub use metadata::MetadataStore;
pub use objects::ObjectStore;
