//! Folders: a tree per organisation that files and other folders live in. Names follow the
//! file-name rules; ids are `fldr_` + ULID. A folder can only be deleted while empty, and a
//! move can never make a folder its own ancestor.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::file::FileName;
use crate::ids::{FolderId, OrgId};
use crate::principal::Actor;
use crate::timestamp::Timestamp;

/// Deepest chain of ancestors a move checks (each is one item of the move's transaction).
pub const MAX_DEPTH: usize = 50;

/// A folder as stored. What it holds is kept beside it by the store (member rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderRecord {
    pub id: FolderId,
    pub org: OrgId,
    pub name: FileName,
    pub parent: Option<FolderId>,
    pub created_by: Actor,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A rename and/or move of a folder. `parent: Some(None)` is a move to the root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderChange {
    pub name: Option<FileName>,
    pub parent: Option<Option<FolderId>>,
}

/// A folder id from a request field; `None` for null.
pub fn parse_folder_ref(raw: Option<&str>, param: &str) -> Result<Option<FolderId>, DomainError> {
    raw.map(|f| FolderId::parse(f).map_err(|e| e.with_param(param)))
        .transpose()
}

/// A folder filter from a query: a folder id, or `root`.
pub fn parse_folder_filter(raw: &str, param: &str) -> Result<Option<FolderId>, DomainError> {
    if raw == "root" {
        Ok(None)
    } else {
        FolderId::parse(raw).map(Some).map_err(|_| {
            DomainError::invalid(
                "invalid_id",
                format!("{param} must be a folder id (fldr_…) or root"),
            )
            .with_param(param)
        })
    }
}

/// The 404 of a folder that is missing or another organisation's; `param` names the field
/// that named it.
pub fn folder_not_found(id: &FolderId, param: &str) -> DomainError {
    DomainError::not_found("folder_not_found", format!("no folder {id}")).with_param(param)
}
