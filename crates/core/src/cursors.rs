//! List cursors that cannot be forged or reused across organisations or filters.
//!
//! A cursor is the id of the last item of a page, sealed with an HMAC over the organisation,
//! the list it belongs to (`files?folder=root&status=ready`) and that id. The store turns the
//! id back into the DynamoDB start key, so a cursor carries no table keys at all; a cursor
//! that does not verify is `400 invalid_cursor`, never a page of someone else's rows.

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use filegate_domain::DomainError;
use filegate_domain::ids::OrgId;
use filegate_domain::page::{Listing, Page, PageRequest};
use filegate_domain::secret::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of HMAC-SHA256 kept in a cursor: 128 bits is far beyond guessing.
const MAC_LEN: usize = 16;

/// Seals and opens cursors with a key derived from the deployment's secret.
#[derive(Clone)]
pub struct Cursors {
    key: [u8; 32],
}

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cursors([redacted])")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl Cursors {
    /// A key of its own, derived from `secret`, so that a cursor is never a token signature.
    pub fn derive(secret: &Secret) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(b"filegate/cursor/v1");
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    fn mac(&self, org: &OrgId, list: &str, position: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        // Length-prefixed parts, so that no two different triples hash the same input.
        for part in [org.as_str(), list, position] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    pub fn seal(&self, org: &OrgId, list: &str, position: &str) -> String {
        let tag = self.mac(org, list, position).finalize().into_bytes();
        let mut raw = position.as_bytes().to_vec();
        raw.extend_from_slice(&tag[..MAC_LEN]);
        BASE64URL.encode(raw)
    }

    /// The position a cursor points at, if it was sealed for this org and list.
    pub fn open<P: FromStr>(
        &self,
        org: &OrgId,
        list: &str,
        cursor: &str,
    ) -> Result<P, DomainError> {
        let invalid = || {
            DomainError::invalid(
                "invalid_cursor",
                "cursor is not a next_cursor of this list; start again without a cursor",
            )
            .with_param("cursor")
        };
        let raw = BASE64URL.decode(cursor).map_err(|_| invalid())?;
        if raw.len() <= MAC_LEN {
            return Err(invalid());
        }
        let (position, tag) = raw.split_at(raw.len() - MAC_LEN);
        let position = std::str::from_utf8(position).map_err(|_| invalid())?;
        self.mac(org, list, position)
            .verify_truncated_left(tag)
            .map_err(|_| invalid())?;
        position.parse().map_err(|_| invalid())
    }

    /// Runs one page of a list: opens the request's cursor, fetches after it, and seals the
    /// next one.
    pub async fn page<P, T, Fut>(
        &self,
        org: &OrgId,
        list: &str,
        request: &PageRequest,
        fetch: impl FnOnce(Option<P>) -> Fut,
    ) -> Result<Listing<T>, DomainError>
    where
        P: FromStr,
        Fut: Future<Output = Result<Page<T>, DomainError>>,
    {
        let after = request
            .cursor
            .as_deref()
            .map(|c| self.open::<P>(org, list, c))
            .transpose()?;
        let page = fetch(after).await?;
        Ok(Listing {
            next_cursor: page.next.map(|p| self.seal(org, list, &p)),
            items: page.items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use filegate_domain::ids::FileId;

    fn cursors() -> Cursors {
        Cursors::derive(&Secret::new("unit-test-secret-unit-test-secret!".into()))
    }

    fn org(s: &str) -> OrgId {
        OrgId::parse(s).unwrap()
    }

    #[test]
    fn a_cursor_opens_only_for_its_org_and_list() {
        let c = cursors();
        let id = FileId::new();
        let sealed = c.seal(&org("acme"), "files?folder=root", &id.to_string());
        assert_eq!(
            c.open::<FileId>(&org("acme"), "files?folder=root", &sealed)
                .unwrap(),
            id
        );
        for (o, list) in [("evil", "files?folder=root"), ("acme", "files")] {
            let e = c.open::<FileId>(&org(o), list, &sealed).unwrap_err();
            assert_eq!((e.code(), e.param()), ("invalid_cursor", Some("cursor")));
        }
        let other_key = Cursors::derive(&Secret::new("another-secret-another-secret!!!".into()));
        assert!(
            other_key
                .open::<FileId>(&org("acme"), "files?folder=root", &sealed)
                .is_err()
        );
    }

    #[test]
    fn forged_and_garbled_cursors_are_refused() {
        let c = cursors();
        let id = FileId::new().to_string();
        let sealed = c.seal(&org("acme"), "files", &id);
        // The position of another file with the tag of this one.
        let mut raw = BASE64URL.decode(&sealed).unwrap();
        raw[5] ^= 1;
        let tampered = BASE64URL.encode(&raw);
        let unsigned = BASE64URL.encode(id.as_bytes());
        for bad in [
            tampered.as_str(),
            unsigned.as_str(),
            "",
            "!!!",
            "AAAA",
            &sealed[..sealed.len() - 2],
        ] {
            assert!(
                c.open::<FileId>(&org("acme"), "files", bad).is_err(),
                "{bad:?}"
            );
        }
        // A valid seal over something that is not an id of the list's kind.
        let wrong_kind = c.seal(&org("acme"), "files", "fldr_01J00000000000000000000000");
        assert!(
            c.open::<FileId>(&org("acme"), "files", &wrong_kind)
                .is_err()
        );
    }
}
