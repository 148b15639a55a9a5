//! Identifiers: typed, prefixed ULIDs for what filegate creates, and checked strings for what
//! the identity provider hands us (organisation and user ids).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ulid::Ulid;

use crate::error::DomainError;

/// ULIDs from one process-wide generator: ids made in the same millisecond (a batch) still
/// sort in the order they were made, so "newest first" is exact within a process.
pub fn next_ulid() -> Ulid {
    static GENERATOR: std::sync::Mutex<ulid::Generator> =
        std::sync::Mutex::new(ulid::Generator::new());
    let mut generator = GENERATOR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    generator.generate().unwrap_or_else(|_| Ulid::generate())
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Ulid);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn new() -> Self {
                Self(next_ulid())
            }

            /// Parses `<prefix><ULID>`; the ULID part is accepted in either case, as Crockford
            /// base32 is case-insensitive, and always printed upper-case.
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                s.strip_prefix($prefix)
                    .filter(|rest| rest.len() == ulid::ULID_LEN)
                    .and_then(|rest| {
                        // Only the canonical spelling: the decoder also accepts aliases and
                        // values past 128 bits, which would give one file several ids.
                        Ulid::from_string(rest)
                            .ok()
                            .filter(|u| u.to_string().eq_ignore_ascii_case(rest))
                    })
                    .map(Self)
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "invalid_id",
                            concat!("expected an id of the form ", $prefix, "<26-character ULID>"),
                        )
                    })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0)
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, DomainError> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(|e| serde::de::Error::custom(e.message()))
            }
        }
    };
}

prefixed_id!(
    /// A file: `file_` + ULID.
    FileId,
    "file_"
);
prefixed_id!(
    /// A folder: `fldr_` + ULID.
    FolderId,
    "fldr_"
);
prefixed_id!(
    /// An audit event: `evt_` + ULID.
    EventId,
    "evt_"
);
prefixed_id!(
    /// An API key: `key_` + ULID. The id is public; the secret is shown once.
    ApiKeyId,
    "key_"
);

/// Characters allowed in ids we take from tokens: they end up inside DynamoDB keys (where `#`
/// separates parts) and S3 keys (where `/` separates parts), so neither may appear.
fn is_safe_external_id(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@' | b'|'))
}

/// An organisation, from the token's org claim. Every row and object lives under one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgId(String);

impl OrgId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(s: &str) -> Option<Self> {
        (is_safe_external_id(s, Self::MAX_LEN) && s != "." && s != "..").then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OrgId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("invalid organisation id {s:?}"))
    }
}

impl From<OrgId> for String {
    fn from(id: OrgId) -> String {
        id.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user, from the token's `sub` claim. Only recorded, never used in keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub const MAX_LEN: usize = 256;

    pub fn parse(s: &str) -> Option<Self> {
        (!s.is_empty() && s.len() <= Self::MAX_LEN && !s.chars().any(char::is_control))
            .then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The exact shape of an id with `prefix`, as a regular expression for documents that
/// describe one: a ULID is 128 bits, 26 Crockford base32 digits of which the first is at most 7.
pub fn id_pattern(prefix: &str) -> String {
    format!("^{prefix}[0-7][0-9A-HJKMNP-TV-Z]{{25}}$")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `id_pattern` documents: 26 digits, the first at most 7 (a ULID is 128 bits).
    #[test]
    fn the_documented_id_shape_is_what_parses() {
        assert_eq!(
            id_pattern(FileId::PREFIX),
            "^file_[0-7][0-9A-HJKMNP-TV-Z]{25}$"
        );
        assert!(FileId::parse("file_7ZZZZZZZZZZZZZZZZZZZZZZZZZ").is_ok());
        assert!(FileId::parse("file_80000000000000000000000000").is_err());
        assert!(
            FileId::parse("file_0000000000000000000000000").is_err(),
            "25 digits"
        );
        for _ in 0..100 {
            let id = FileId::new().to_string();
            let digits = id.strip_prefix("file_").unwrap();
            assert!(digits.len() == 26 && digits.as_bytes()[0] <= b'7', "{id}");
        }
    }

    #[test]
    fn file_ids_round_trip_and_have_their_prefix() {
        let id = FileId::new();
        let s = id.to_string();
        assert!(s.starts_with("file_") && s.len() == 31, "{s}");
        assert_eq!(FileId::parse(&s).unwrap(), id);
        let upper_prefix = format!("FILE_{}", &s[5..]);
        assert!(
            FileId::parse(&upper_prefix).is_err(),
            "prefix is case-sensitive"
        );
        let lower_ulid = format!("file_{}", s[5..].to_lowercase());
        assert_eq!(FileId::parse(&lower_ulid).unwrap(), id);
    }

    #[test]
    fn malformed_ids_are_invalid_id() {
        for bad in [
            "",
            "file_",
            "fldr_01J00000000000000000000000",
            "file_01J0000000000000000000000",   // 25 chars
            "file_01J000000000000000000000000", // 27 chars
            "file_01J0000000000000000000000!",  // not base32
            "file_81J00000000000000000000000",  // overflows 128 bits
            "01J00000000000000000000000",
            "file_01J00000000000000000000000\n",
        ] {
            let err = FileId::parse(bad).expect_err(bad);
            assert_eq!(err.code(), "invalid_id", "{bad:?}");
        }
    }

    #[test]
    fn org_ids_refuse_key_separators() {
        assert!(OrgId::parse("acme-co_1").is_some());
        for bad in ["", "a#b", "a/b", "a b", "..", &"x".repeat(65)] {
            assert!(OrgId::parse(bad).is_none(), "{bad:?}");
        }
    }
}
