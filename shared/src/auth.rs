//! Who is calling: a Bearer JWT verified in the function, or an `X-API-Key`, turned into a
//! [`Caller`] scoped to one organisation.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use http::header;
use http::request::Parts;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api_keys::ApiKeys;
use crate::config::AuthConfig;
use crate::error::ApiError;
use crate::ids::{OrgId, UserId};

/// Who did something, as recorded on files and audit events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
    /// 403 unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "insufficient_scope",
                format!("this request needs the {} scope", scope.as_str()),
            ))
        }
    }
}

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
        validation.leeway = 30;
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

    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let data = jsonwebtoken::decode::<HashMap<String, serde_json::Value>>(
            token,
            &self.key,
            &self.validation,
        )
        .map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => {
                ApiError::unauthenticated("token_expired", "the bearer token has expired")
            }
            ErrorKind::MissingRequiredClaim(claim) => ApiError::unauthenticated(
                "invalid_token",
                format!("the bearer token has no {claim} claim"),
            ),
            ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => ApiError::unauthenticated(
                "invalid_token",
                "the bearer token was issued by or for someone else",
            ),
            _ => ApiError::unauthenticated("invalid_token", "the bearer token is not valid"),
        })?;
        let claims = data.claims;
        let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
        let org = text(&self.org_claim).and_then(OrgId::parse).ok_or_else(|| {
            ApiError::unauthenticated(
                "invalid_token",
                format!(
                    "the bearer token has no valid {} claim (1-64 letters, digits, '-', '_', '.')",
                    self.org_claim
                ),
            )
        })?;
        let user = text("sub").and_then(UserId::parse).ok_or_else(|| {
            ApiError::unauthenticated("invalid_token", "the bearer token has no valid sub claim")
        })?;
        // A scope claim that is not a string must not fall back to "absent" (read + write).
        let scope = match claims.get("scope") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                return Err(ApiError::unauthenticated(
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

    /// Verifies the value of an `Authorization` header.
    pub fn authenticate(&self, header: &http::HeaderValue) -> Result<Caller, ApiError> {
        let token = header
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthenticated(
                    "invalid_token",
                    "the Authorization header must be 'Bearer <token>'",
                )
            })?;
        self.verify(token)
    }
}

/// The header API keys are sent in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Turns a request's credentials into a [`Caller`]: `Authorization: Bearer <JWT>` or
/// `X-API-Key: <secret>`, exactly one of them.
#[derive(Debug)]
pub struct Authenticator {
    tokens: TokenVerifier,
    keys: ApiKeys,
}

impl Authenticator {
    pub fn new(tokens: TokenVerifier, keys: ApiKeys) -> Self {
        Self { tokens, keys }
    }

    pub async fn authenticate(&self, parts: &Parts) -> Result<Caller, ApiError> {
        let bearer = parts.headers.get(header::AUTHORIZATION);
        let api_key = parts.headers.get(API_KEY_HEADER);
        match (bearer, api_key) {
            (Some(header), None) => self.tokens.authenticate(header),
            (None, Some(key)) => {
                let key = key.to_str().map_err(|_| {
                    ApiError::unauthenticated("invalid_api_key", "the API key is not valid")
                })?;
                self.keys.authenticate(key.trim()).await
            }
            (Some(_), Some(_)) => Err(ApiError::unauthenticated(
                "ambiguous_credentials",
                "send either Authorization or X-API-Key, not both",
            )),
            (None, None) => Err(ApiError::unauthenticated(
                "missing_credentials",
                "send an Authorization: Bearer <token> or an X-API-Key header",
            )),
        }
    }
}

impl<S> FromRequestParts<S> for Caller
where
    Arc<Authenticator>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Arc::<Authenticator>::from_ref(state)
            .authenticate(parts)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
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
        crate::timestamp::Timestamp::now().unix_seconds() + 3600
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
            assert_eq!((e.status().as_u16(), e.code()), (401, want), "{t}");
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
