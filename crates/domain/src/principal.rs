//! Who is calling: the principal every operation acts for. How credentials become a
//! [`Caller`] is `filegate-core`'s authentication; which scopes a route needs, its handler's.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{OrgId, UserId};

/// Who did something, as recorded on files and audit events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ApiKey,
    System,
}

impl Actor {
    pub fn user(id: &UserId) -> Self {
        Self {
            kind: ActorKind::User,
            id: id.as_str().to_owned(),
        }
    }

    /// filegate itself, e.g. the S3-event finalizer.
    pub fn system(component: &str) -> Self {
        Self {
            kind: ActorKind::System,
            id: component.to_owned(),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Scope {
    #[serde(rename = "files:read")]
    FilesRead,
    #[serde(rename = "files:write")]
    FilesWrite,
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "files:read" => Some(Self::FilesRead),
            "files:write" => Some(Self::FilesWrite),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FilesRead => "files:read",
            Self::FilesWrite => "files:write",
            Self::Admin => "admin",
        }
    }
}

/// The scopes of one caller. `admin` implies the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scopes {
    read: bool,
    write: bool,
    admin: bool,
}

impl Scopes {
    /// From a space-separated `scope` claim; absent means read and write (API.md). Unknown
    /// words are ignored, so that tokens shared with other services keep working.
    pub fn from_claim(claim: Option<&str>) -> Self {
        let Some(claim) = claim else {
            return Self {
                read: true,
                write: true,
                admin: false,
            };
        };
        let scopes: Vec<Scope> = claim
            .split_ascii_whitespace()
            .filter_map(Scope::parse)
            .collect();
        Self::from_list(&scopes)
    }

    /// Exactly these scopes (an API key's), with `admin` implying the others.
    pub fn from_list(scopes: &[Scope]) -> Self {
        let admin = scopes.contains(&Scope::Admin);
        Self {
            read: admin || scopes.contains(&Scope::FilesRead),
            write: admin || scopes.contains(&Scope::FilesWrite),
            admin,
        }
    }

    pub fn allows(self, scope: Scope) -> bool {
        match scope {
            Scope::FilesRead => self.read,
            Scope::FilesWrite => self.write,
            Scope::Admin => self.admin,
        }
    }
}

/// An authenticated caller. Everything it touches is inside `org`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org: OrgId,
    pub actor: Actor,
    pub scopes: Scopes,
}

impl Caller {
    /// filegate itself acting in `org` (the S3-event finalizer, say): every scope.
    pub fn system(org: OrgId, component: &str) -> Self {
        Self {
            org,
            actor: Actor::system(component),
            scopes: Scopes::from_list(&[Scope::Admin]),
        }
    }

    /// 403 unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), DomainError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(DomainError::forbidden(
                "insufficient_scope",
                format!("this request needs the {} scope", scope.as_str()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_scope_means_read_and_write_and_admin_implies_both() {
        let none = Scopes::from_claim(None);
        assert!(none.allows(Scope::FilesRead) && none.allows(Scope::FilesWrite));
        assert!(!none.allows(Scope::Admin));
        let admin = Scopes::from_claim(Some("admin"));
        assert!(admin.allows(Scope::FilesWrite) && admin.allows(Scope::Admin));
        let empty = Scopes::from_claim(Some(""));
        assert!(!empty.allows(Scope::FilesRead));
    }
}
