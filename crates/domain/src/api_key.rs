//! API keys: long random secrets an organisation's servers send as `X-API-Key`. The secret is
//! shown once, when the key is created; only its SHA-256 is stored (a fast hash is right for
//! 256 random bits, which no dictionary can guess).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::DomainError;
use crate::ids::{ApiKeyId, OrgId};
use crate::principal::{Actor, Scope};
use crate::timestamp::Timestamp;

/// What every secret starts with, so that leaked keys are easy to find in code and logs.
pub const SECRET_PREFIX: &str = "fgk_";
const NAME_MAX_CHARS: usize = 100;

/// The hex SHA-256 of a secret: the only form in which a secret is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretHash(String);

impl SecretHash {
    pub fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

/// A key as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub org: OrgId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The first characters of the secret, to tell keys apart in a list.
    pub secret_prefix: String,
    pub secret_sha256: SecretHash,
    pub created_by: Actor,
    pub created_at: Timestamp,
}

/// A key's name: trimmed, 1–100 characters, no control characters.
pub fn parse_name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    let err = |code, message| DomainError::invalid(code, message).with_param("name");
    if name.is_empty() {
        return Err(err("name_empty", "name must not be empty"));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(err("name_too_long", "name must be at most 100 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(err(
            "name_invalid_character",
            "name must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Known scope words, at least one, duplicates dropped; errors name `scopes[i]`.
pub fn parse_scopes(raw: &[String]) -> Result<Vec<Scope>, DomainError> {
    if raw.is_empty() {
        return Err(DomainError::invalid(
            "invalid_scope",
            "scopes must name at least one of files:read, files:write, admin",
        )
        .with_param("scopes"));
    }
    let mut scopes = Vec::new();
    for (i, word) in raw.iter().enumerate() {
        let scope = Scope::parse(word).ok_or_else(|| {
            DomainError::invalid(
                "invalid_scope",
                format!("{word:?} is not one of files:read, files:write, admin"),
            )
            .with_param(format!("scopes[{i}]"))
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// `fgk_` and 256 random bits from the operating system, URL-safe base64.
pub fn new_secret() -> Result<String, DomainError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| DomainError::internal(&std::io::Error::other(e.to_string())))?;
    Ok(format!("{SECRET_PREFIX}{}", BASE64URL.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_stored_only_as_a_hash() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("fgk_") && a.len() == 4 + 43, "{a}");
        let hash = SecretHash::of(&a);
        assert_eq!(hash.as_hex().len(), 64);
        assert!(!hash.as_hex().contains(&a[4..]));
        assert_eq!(hash, SecretHash::of(&a));
    }

    #[test]
    fn scopes_are_known_words_named_by_index() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_scopes(&words(&["files:read", "files:read", "admin"])).unwrap(),
            vec![Scope::FilesRead, Scope::Admin]
        );
        let e = parse_scopes(&words(&["files:read", "root"])).unwrap_err();
        assert_eq!((e.code(), e.param()), ("invalid_scope", Some("scopes[1]")));
        let e = parse_scopes(&[]).unwrap_err();
        assert_eq!((e.code(), e.param()), ("invalid_scope", Some("scopes")));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  ci  ").unwrap(), "ci");
        assert_eq!(parse_name(" ").unwrap_err().code(), "name_empty");
        assert_eq!(
            parse_name(&"x".repeat(101)).unwrap_err().code(),
            "name_too_long"
        );
        assert_eq!(
            parse_name("a\nb").unwrap_err().code(),
            "name_invalid_character"
        );
    }
}
