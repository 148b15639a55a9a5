//! Everything filegate keeps in one DynamoDB table: [`MetadataStore`] with the shared
//! machinery of its operations (`table`: paged Queries, consistent reads, transactions and
//! what cancelled them), the layout (`schema`), and a module per kind of row.

mod api_key_rows;
mod audit_rows;
mod file_rows;
mod folder_members;
mod folder_rows;
mod schema;
mod sweep_rows;
mod table;

pub use api_key_rows::DeleteApiKeyError;
pub use file_rows::{ChangeStatusError, CreateFilesError, StatusChange, UpdateFileError};
pub use folder_rows::{CreateFolderError, DeleteFolderError, UpdateFolderError};
pub use schema::{INDEXES, SWEEP_SHARDS};
pub use sweep_rows::{SweepCursor, SweepPage};
pub use table::MetadataStore;
