//! Who is calling: a Bearer JWT verified in the function, or an `X-API-Key` looked up by its
//! hash, turned into a [`Caller`] scoped to one organisation.

use std::collections::HashMap;

use filegate_domain::DomainError;
use filegate_domain::ids::{OrgId, UserId};
use filegate_domain::principal::{Actor, Caller, Scopes};
use filegate_domain::timestamp::Timestamp;
use filegate_store::config::AuthConfig;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::api_keys::ApiKeys;

/// Clock skew allowed on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 30;

/// Verifies HS256 tokens: signature, `exp` (required), `iss`/`aud` when configured.
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
    org_claim: String,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("org_claim", &self.org_claim)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    pub fn new(config: &AuthConfig) -> Self {
        // Only HS256: a token cannot pick a weaker or different algorithm.
        let mut validation = Validation::new(Algorithm::HS256);
        // jsonwebtoken checks iss/aud only when a token carries them: configured ones must
        // also be present.
        let mut required = vec!["exp", "sub"];
        required.extend(config.issuer.as_ref().map(|_| "iss"));
        required.extend(config.audience.as_ref().map(|_| "aud"));
        validation.set_required_spec_claims(&required);
        validation.leeway = LEEWAY_SECS;
        // A token is not valid before its `nbf` (jsonwebtoken checks it only when asked).
        validation.validate_nbf = true;
        match &config.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &config.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Self {
            key: DecodingKey::from_secret(config.jwt_secret.expose().as_bytes()),
            validation,
            org_claim: config.org_claim.clone(),
        }
    }

    pub fn verify(&self, token: &str) -> Result<Caller, DomainError> {
        let data = jsonwebtoken::decode::<HashMap<String, serde_json::Value>>(
            token,
            &self.key,
            &self.validation,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => {
                DomainError::unauthenticated("token_expired", "the bearer token has expired")
            }
            ErrorKind::MissingRequiredClaim(claim) => DomainError::unauthenticated(
                "invalid_token",
                format!("the bearer token has no {claim} claim"),
            ),
            ErrorKind::ImmatureSignature => {
                DomainError::unauthenticated("invalid_token", "the bearer token is not valid yet")
            }
            ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => DomainError::unauthenticated(
                "invalid_token",
                "the bearer token was issued by or for someone else",
            ),
            _ => DomainError::unauthenticated("invalid_token", "the bearer token is not valid"),
        })?;
        let claims = data.claims;
        // Nor is one issued in the future (a clock far ahead, or a token minted for later).
        match claims.get("iat") {
            None | Some(serde_json::Value::Null) => {}
            Some(iat) => {
                let now = Timestamp::now().unix_seconds();
                let issued = iat.as_f64().ok_or_else(|| {
                    DomainError::unauthenticated(
                        "invalid_token",
                        "the bearer token's iat claim must be a number of seconds",
                    )
                })?;
                if issued > (now + LEEWAY_SECS as i64) as f64 {
                    return Err(DomainError::unauthenticated(
                        "invalid_token",
                        "the bearer token was issued in the future",
                    ));
                }
            }
        }
        let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
        let org = text(&self.org_claim).and_then(OrgId::parse).ok_or_else(|| {
            DomainError::unauthenticated(
                "invalid_token",
                format!(
                    "the bearer token has no valid {} claim (1-64 letters, digits, '-', '_', '.')",
                    self.org_claim
                ),
            )
        })?;
        let user = text("sub").and_then(UserId::parse).ok_or_else(|| {
            DomainError::unauthenticated("invalid_token", "the bearer token has no valid sub claim")
        })?;
        // A scope claim that is not a string must not fall back to "absent" (read + write).
        let scope = match claims.get("scope") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                return Err(DomainError::unauthenticated(
                    "invalid_token",
                    "the bearer token's scope claim must be a space-separated string",
                ));
            }
        };
        Ok(Caller {
            org,
            actor: Actor::user(&user),
            scopes: Scopes::from_claim(scope),
        })
    }
}

/// A request's credentials, as the edge found them: exactly one of the two kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential<'a> {
    /// A bearer JWT.
    Bearer(&'a str),
    /// An `X-API-Key` secret.
    ApiKey(&'a str),
}

/// Turns credentials into a [`Caller`]: JWTs by signature, API keys by their stored hash.
#[derive(Debug)]
pub struct Authenticator {
    tokens: TokenVerifier,
    keys: ApiKeys,
}

impl Authenticator {
    pub fn new(tokens: TokenVerifier, keys: ApiKeys) -> Self {
        Self { tokens, keys }
    }

    pub async fn authenticate(&self, credential: Credential<'_>) -> Result<Caller, DomainError> {
        match credential {
            Credential::Bearer(token) => self.tokens.verify(token),
            Credential::ApiKey(secret) => self.keys.authenticate(secret).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use filegate_domain::ErrorKind;
    use filegate_domain::ids::UserId;
    use filegate_domain::principal::{Actor, Scope};
    use filegate_domain::secret::Secret;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const SECRET: &str = "unit-test-secret-unit-test-secret!";

    fn verifier(issuer: Option<&str>, audience: Option<&str>) -> TokenVerifier {
        TokenVerifier::new(&AuthConfig {
            jwt_secret: Secret::new(SECRET.into()),
            issuer: issuer.map(Into::into),
            audience: audience.map(Into::into),
            org_claim: "org".into(),
        })
    }

    fn token(claims: serde_json::Value, secret: &str) -> String {
        encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn in_an_hour() -> i64 {
        Timestamp::now().unix_seconds() + 3600
    }

    #[test]
    fn a_valid_token_gives_its_org_user_and_scopes() {
        let t = token(
            json!({"sub":"user_1","org":"acme","exp":in_an_hour(),"scope":"files:read"}),
            SECRET,
        );
        let caller = verifier(None, None).verify(&t).unwrap();
        assert_eq!(caller.org.as_str(), "acme");
        assert_eq!(caller.actor, Actor::user(&UserId::parse("user_1").unwrap()));
        assert!(caller.require(Scope::FilesRead).is_ok());
        assert_eq!(
            caller.require(Scope::FilesWrite).unwrap_err().code(),
            "insufficient_scope"
        );
    }

    #[test]
    fn bad_tokens_are_401_with_a_code() {
        let v = verifier(Some("https://idp.example"), Some("filegate"));
        let good = json!({"sub":"u","org":"acme","exp":in_an_hour(),
                          "iss":"https://idp.example","aud":"filegate"});
        assert!(v.verify(&token(good.clone(), SECRET)).is_ok());
        let with = |k: &str, val: serde_json::Value| {
            let mut c = good.clone();
            c[k] = val;
            c
        };
        let without = |k: &str| {
            let mut c = good.clone();
            c.as_object_mut().unwrap().remove(k);
            c
        };
        let cases = [
            (
                token(good.clone(), "another-secret-another-secret!!!"),
                "invalid_token",
            ),
            (
                token(with("exp", json!(1_000_000)), SECRET),
                "token_expired",
            ),
            (token(without("exp"), SECRET), "invalid_token"),
            (
                token(with("nbf", json!(in_an_hour())), SECRET),
                "invalid_token",
            ),
            (
                token(with("iat", json!(in_an_hour())), SECRET),
                "invalid_token",
            ),
            (
                token(with("iat", json!("yesterday")), SECRET),
                "invalid_token",
            ),
            (token(without("org"), SECRET), "invalid_token"),
            (token(with("org", json!("a/b")), SECRET), "invalid_token"),
            (token(without("sub"), SECRET), "invalid_token"),
            (
                token(with("iss", json!("https://evil.example")), SECRET),
                "invalid_token",
            ),
            (token(with("aud", json!("other")), SECRET), "invalid_token"),
            (token(without("iss"), SECRET), "invalid_token"),
            (token(without("aud"), SECRET), "invalid_token"),
            (
                token(with("scope", json!(["files:read"])), SECRET),
                "invalid_token",
            ),
            ("not.a.jwt".to_owned(), "invalid_token"),
        ];
        for (t, want) in cases {
            let e = v.verify(&t).unwrap_err();
            assert_eq!(
                (e.kind(), e.code()),
                (ErrorKind::Unauthenticated, want),
                "{t}"
            );
        }
    }

    #[test]
    fn the_none_algorithm_is_refused() {
        // header {"alg":"none"} with a valid-looking payload and no signature
        let t = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1Iiwib3JnIjoiYWNtZSIsImV4cCI6OTk5OTk5OTk5OX0.";
        assert_eq!(
            verifier(None, None).verify(t).unwrap_err().code(),
            "invalid_token"
        );
    }
}
