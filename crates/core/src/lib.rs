//! filegate's business operations, on top of the stores: one module per capability. Each
//! operation takes the caller (and, when it writes an audit event, the request's origin) first,
//! then what it acts on, then the already-validated input; it answers in domain types or a
//! [`DomainError`](filegate_domain::DomainError). Nothing here knows HTTP.

pub mod api_keys;
pub mod authentication;
pub mod content;
pub mod cursors;
pub mod deletion;
pub mod downloads;
pub mod file_service;
pub mod finalize;
pub mod folders;
pub mod lists;
pub mod parts;
pub mod rename_and_move;
pub mod signing_keys;
pub mod status_change;
pub mod sweeper;
pub mod telemetry;
pub mod upload;

mod retry;

pub use file_service::FileService;
