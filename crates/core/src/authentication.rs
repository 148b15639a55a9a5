//! Who is calling: a Bearer JWT verified in the function, or an `X-API-Key` looked up by its
//! hash, turned into a [`Caller`] scoped to one organisation.

use std::sync::Arc;

use filegate_domain::DomainError;
use filegate_domain::ids::{OrgId, UserId};
use filegate_domain::principal::{Actor, Caller, Scopes};
use filegate_domain::timestamp::Timestamp;
use filegate_store::config::{AuthConfig, SigningAlgorithm};
use filegate_store::key_set::JwksClient;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::api_keys::ApiKeys;
use crate::signing_keys::{CachePolicy, SigningKeys};

/// Clock skew allowed on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 30;

/// Verifies bearer JWTs: HS256 with the shared secret, RS256 / ES256 / EdDSA with the
/// identity provider's published keys; then `exp` (required), `nbf`, `iat`, and `iss` / `aud`
/// when configured.
pub struct TokenVerifier {
    /// The HS256 secret, when HS256 is allowed.
    secret: Option<DecodingKey>,
    /// The JWKS keys, when an asymmetric algorithm is allowed.
    signing_keys: Option<SigningKeys>,
    issuer: Option<String>,
    audience: Option<String>,
    client_id_as_audience: bool,
    org_claim: String,
    scope_prefix: Option<String>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("hs256", &self.secret.is_some())
            .field("signing_keys", &self.signing_keys)
            .field("org_claim", &self.org_claim)
            .finish_non_exhaustive()
    }
}

fn algorithm(a: SigningAlgorithm) -> Algorithm {
    match a {
        SigningAlgorithm::Hs256 => Algorithm::HS256,
        SigningAlgorithm::Rs256 => Algorithm::RS256,
        SigningAlgorithm::Es256 => Algorithm::ES256,
        SigningAlgorithm::EdDsa => Algorithm::EdDSA,
    }
}

fn invalid_token(message: impl Into<std::borrow::Cow<'static, str>>) -> DomainError {
    DomainError::unauthenticated("invalid_token", message)
}

impl TokenVerifier {
    /// With the configured JWKS URL fetched over filegate's own HTTPS client.
    pub fn new(config: &AuthConfig) -> Self {
        let allows = |a: SigningAlgorithm| config.algorithms.contains(&a);
        let asymmetric: Vec<Algorithm> = SigningAlgorithm::ASYMMETRIC
            .into_iter()
            .filter(|a| allows(*a))
            .map(algorithm)
            .collect();
        let signing_keys = match &config.jwks {
            Some(jwks) if !asymmetric.is_empty() => Some(SigningKeys::new(
                Arc::new(JwksClient::new(jwks.url.clone(), jwks.native_roots)),
                asymmetric,
                CachePolicy {
                    max_cache: jwks.max_cache,
                    refetch_interval: jwks.refetch_interval,
                },
            )),
            _ => None,
        };
        Self {
            secret: config
                .jwt_secret
                .as_ref()
                .filter(|_| allows(SigningAlgorithm::Hs256))
                .map(|s| DecodingKey::from_secret(s.expose().as_bytes())),
            signing_keys,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            client_id_as_audience: config.client_id_as_audience,
            org_claim: config.org_claim.clone(),
            scope_prefix: config.scope_prefix.clone(),
        }
    }

    pub async fn verify(&self, token: &str) -> Result<Caller, DomainError> {
        // The header only says which key to look up; the key then decides the algorithm, and
        // the signature is checked with that algorithm alone.
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            invalid_token("the bearer token is not a JWT signed with an accepted algorithm")
        })?;
        let refused = || {
            invalid_token(format!(
                "the bearer token's algorithm {:?} is not accepted here",
                header.alg
            ))
        };
        let pinned;
        let (key, alg) = match header.alg {
            Algorithm::HS256 => (self.secret.as_ref().ok_or_else(refused)?, Algorithm::HS256),
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA => {
                let keys = self.signing_keys.as_ref().ok_or_else(refused)?;
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or_else(|| invalid_token("the bearer token names no key (kid)"))?;
                pinned = keys.key(kid).await?;
                if pinned.algorithm != header.alg {
                    return Err(invalid_token(format!(
                        "the bearer token's key {kid:?} is for {:?}, not {:?}",
                        pinned.algorithm, header.alg
                    )));
                }
                (&pinned.key, pinned.algorithm)
            }
            _ => return Err(refused()),
        };
        let mut validation = Validation::new(alg);
        let mut required = vec!["exp", "sub"];
        required.extend(self.issuer.as_ref().map(|_| "iss"));
        validation.set_required_spec_claims(&required);
        validation.leeway = LEEWAY_SECS;
        // A token is not valid before its `nbf` (jsonwebtoken checks it only when asked).
        validation.validate_nbf = true;
        match &self.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        // Checked below, where a Cognito access token's `client_id` may stand in for it.
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => {
                    DomainError::unauthenticated("token_expired", "the bearer token has expired")
                }
                ErrorKind::MissingRequiredClaim(claim) => {
                    invalid_token(format!("the bearer token has no {claim} claim"))
                }
                ErrorKind::ImmatureSignature => invalid_token("the bearer token is not valid yet"),
                ErrorKind::InvalidIssuer => {
                    invalid_token("the bearer token was issued by or for someone else")
                }
                _ => invalid_token("the bearer token is not valid"),
            })?;
        let claims = Value::Object(data.claims);
        self.check_audience(&claims)?;
        check_issued_at(&claims)?;
        self.caller(&claims)
    }

    fn check_audience(&self, claims: &Value) -> Result<(), DomainError> {
        let Some(audience) = &self.audience else {
            return Ok(());
        };
        let matches = match claims.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
            None if self.client_id_as_audience => {
                claims.get("client_id").and_then(Value::as_str) == Some(audience)
            }
            None => return Err(invalid_token("the bearer token has no aud claim")),
            Some(_) => false,
        };
        if matches {
            Ok(())
        } else {
            Err(invalid_token(
                "the bearer token was issued by or for someone else",
            ))
        }
    }

    fn caller(&self, claims: &Value) -> Result<Caller, DomainError> {
        // A name (`org`, `https://example.com/org`, `custom:org`) or a JSON pointer (`/o/id`).
        let org_claim = if self.org_claim.starts_with('/') {
            claims.pointer(&self.org_claim)
        } else {
            claims.get(&self.org_claim)
        };
        let org = org_claim
            .and_then(Value::as_str)
            .and_then(OrgId::parse)
            .ok_or_else(|| {
                invalid_token(format!(
                    "the bearer token has no valid {} claim (1-64 letters, digits, '-', '_', '.')",
                    self.org_claim
                ))
            })?;
        let user = claims
            .get("sub")
            .and_then(Value::as_str)
            .and_then(UserId::parse)
            .ok_or_else(|| invalid_token("the bearer token has no valid sub claim"))?;
        Ok(Caller {
            org,
            actor: Actor::user(&user),
            scopes: scopes(claims, self.scope_prefix.as_deref())?,
        })
    }
}

/// Nor is a token valid that was issued in the future (a clock far ahead, or a token minted
/// for later).
fn check_issued_at(claims: &Value) -> Result<(), DomainError> {
    match claims.get("iat") {
        None | Some(Value::Null) => Ok(()),
        Some(iat) => {
            let issued = iat.as_f64().ok_or_else(|| {
                invalid_token("the bearer token's iat claim must be a number of seconds")
            })?;
            let now = Timestamp::now().unix_seconds();
            if issued > (now + LEEWAY_SECS as i64) as f64 {
                Err(invalid_token("the bearer token was issued in the future"))
            } else {
                Ok(())
            }
        }
    }
}

/// `scope` as a space-separated string (OAuth 2.0), or `scp` as an array (Okta) or a string
/// (Entra ID); with a `prefix`, only the words that carry it, without it. A claim of another shape must not
/// fall back to "absent" (read + write).
fn scopes(claims: &Value, prefix: Option<&str>) -> Result<Scopes, DomainError> {
    let malformed = || {
        invalid_token(
            "the bearer token's scope claim must be a space-separated string (or scp an array of strings)",
        )
    };
    let words = match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(s)), _) => s.clone(),
        (Some(Value::Null) | None, Some(Value::String(s))) => s.clone(),
        (Some(Value::Null) | None, Some(Value::Array(items))) => items
            .iter()
            .map(|i| i.as_str().ok_or_else(malformed))
            .collect::<Result<Vec<_>, _>>()?
            .join(" "),
        (Some(Value::Null) | None, Some(Value::Null) | None) => {
            return Ok(Scopes::from_claim(None));
        }
        _ => return Err(malformed()),
    };
    // With a prefix, a bare `admin` (another resource server's scope) grants nothing.
    let words: Vec<&str> = words
        .split_ascii_whitespace()
        .filter_map(|w| match prefix {
            Some(p) => w.strip_prefix(p),
            None => Some(w),
        })
        .collect();
    Ok(Scopes::from_claim(Some(&words.join(" "))))
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
            Credential::Bearer(token) => self.tokens.verify(token).await,
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
            jwt_secret: Some(Secret::new(SECRET.into())),
            jwks: None,
            algorithms: vec![SigningAlgorithm::Hs256],
            issuer: issuer.map(Into::into),
            audience: audience.map(Into::into),
            client_id_as_audience: false,
            org_claim: "org".into(),
            scope_prefix: None,
            cursor_secret: Secret::new(SECRET.into()),
        })
    }

    fn token(claims: Value, secret: &str) -> String {
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

    #[tokio::test]
    async fn a_valid_token_gives_its_org_user_and_scopes() {
        let t = token(
            json!({"sub":"user_1","org":"acme","exp":in_an_hour(),"scope":"files:read"}),
            SECRET,
        );
        let caller = verifier(None, None).verify(&t).await.unwrap();
        assert_eq!(caller.org.as_str(), "acme");
        assert_eq!(caller.actor, Actor::user(&UserId::parse("user_1").unwrap()));
        assert!(caller.require(Scope::FilesRead).is_ok());
        assert_eq!(
            caller.require(Scope::FilesWrite).unwrap_err().code(),
            "insufficient_scope"
        );
    }

    #[tokio::test]
    async fn bad_tokens_are_401_with_a_code() {
        let v = verifier(Some("https://idp.example"), Some("filegate"));
        let good = json!({"sub":"u","org":"acme","exp":in_an_hour(),
                          "iss":"https://idp.example","aud":"filegate"});
        assert!(v.verify(&token(good.clone(), SECRET)).await.is_ok());
        let with = |k: &str, val: Value| {
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
            let e = v.verify(&t).await.unwrap_err();
            assert_eq!(
                (e.kind(), e.code()),
                (ErrorKind::Unauthenticated, want),
                "{t}"
            );
        }
    }

    #[tokio::test]
    async fn the_none_algorithm_is_refused() {
        // header {"alg":"none"} with a valid-looking payload and no signature
        let t = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1Iiwib3JnIjoiYWNtZSIsImV4cCI6OTk5OTk5OTk5OX0.";
        assert_eq!(
            verifier(None, None).verify(t).await.unwrap_err().code(),
            "invalid_token"
        );
    }
}
