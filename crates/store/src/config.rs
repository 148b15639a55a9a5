//! The one config loader. Every setting is an environment variable, documented in the README.

use std::time::Duration;

use filegate_domain::byte_range::{LAMBDA_STREAM_LIMIT, StreamPace};
use filegate_domain::file::{AllowedContentTypes, FileSize};
use filegate_domain::secret::Secret;
use filegate_domain::upload::UploadPolicy;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// How the HTTP functions verify callers. Loaded apart from [`Config`], so that functions
/// that never see a caller (the S3-event finalizer) never hold a signing secret.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// HS256 shared secret (`FILEGATE_JWT_SECRET`), at least 32 bytes.
    pub jwt_secret: Option<Secret>,
    /// An identity provider's published signing keys (`FILEGATE_JWT_JWKS_URL`).
    pub jwks: Option<JwksSettings>,
    /// What a token may be signed with (`FILEGATE_JWT_ALGORITHMS`); by default every
    /// algorithm a configured key source can verify.
    pub algorithms: Vec<SigningAlgorithm>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// A token without `aud` passes when its `client_id` is the audience
    /// (`FILEGATE_JWT_CLIENT_ID_AUDIENCE`: Cognito access tokens).
    pub client_id_as_audience: bool,
    /// The claim that names the organisation: a name (`org`, `https://example.com/org`) or a
    /// JSON pointer into the claims (`/o/id`).
    pub org_claim: String,
    /// Only scope words with this prefix count, without it (`FILEGATE_JWT_SCOPE_PREFIX`:
    /// Cognito's `<resource server>/files:read`).
    pub scope_prefix: Option<String>,
    /// Seals list cursors (`FILEGATE_CURSOR_SECRET`; else derived from the JWT secret).
    pub cursor_secret: Secret,
}

/// Where the keys of asymmetric tokens come from, and how long they are kept.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    /// https, or http on a loopback host (local development).
    pub url: url::Url,
    /// The longest a fetched key set is used before it is fetched again, whatever its
    /// `Cache-Control` says (`FILEGATE_JWKS_MAX_CACHE_SECS`): how long a key the provider
    /// removed may still verify tokens.
    pub max_cache: Duration,
    /// The shortest time between two fetches that tokens naming an unknown `kid` can cause
    /// (`FILEGATE_JWKS_REFETCH_SECS`).
    pub refetch_interval: Duration,
    /// `FILEGATE_TLS_NATIVE_ROOTS`: also trust the system's roots (a private CA).
    pub native_roots: bool,
}

/// The signature algorithms filegate verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// HMAC-SHA256 with `FILEGATE_JWT_SECRET`.
    Hs256,
    /// RSA PKCS#1 v1.5 with SHA-256, a JWKS key.
    Rs256,
    /// ECDSA P-256 with SHA-256, a JWKS key.
    Es256,
    /// Ed25519, a JWKS key.
    EdDsa,
}

impl SigningAlgorithm {
    pub const ASYMMETRIC: [Self; 3] = [Self::Rs256, Self::Es256, Self::EdDsa];

    /// The name a JOSE header uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Hs256, Self::Rs256, Self::Es256, Self::EdDsa]
            .into_iter()
            .find(|a| a.name() == name)
    }
}

impl AuthConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings(lookup);
        let secret = |name: &'static str| {
            settings
                .get(name)
                .map(|value| {
                    if value.len() < 32 {
                        Err(invalid(
                            name,
                            "must be at least 32 bytes (HMAC keys shorter than the hash are weak)",
                        ))
                    } else {
                        Ok(Secret::new(value))
                    }
                })
                .transpose()
        };
        let jwt_secret = secret("FILEGATE_JWT_SECRET")?;
        let jwks = settings
            .get("FILEGATE_JWT_JWKS_URL")
            .map(|raw| {
                Ok::<_, ConfigError>(JwksSettings {
                    url: jwks_url(raw.trim())?,
                    max_cache: Duration::from_secs(settings.number(
                        "FILEGATE_JWKS_MAX_CACHE_SECS",
                        3600,
                        1,
                        24 * 3600,
                    )?),
                    refetch_interval: Duration::from_secs(settings.number(
                        "FILEGATE_JWKS_REFETCH_SECS",
                        30,
                        1,
                        3600,
                    )?),
                    native_roots: settings.flag("FILEGATE_TLS_NATIVE_ROOTS")?,
                })
            })
            .transpose()?;
        let issuer = settings.get("FILEGATE_JWT_ISSUER");
        // A provider's keys may sign the tokens of its other tenants and apps too (Entra ID's
        // common keys, any multi-tenant IdP): the issuer says whose tokens these are.
        if jwks.is_some() && issuer.is_none() {
            return Err(invalid(
                "FILEGATE_JWT_ISSUER",
                "must be set with FILEGATE_JWT_JWKS_URL: the provider's keys may sign other \
                 tenants' tokens too",
            ));
        }
        if jwt_secret.is_none() && jwks.is_none() {
            return Err(ConfigError::Missing(
                "FILEGATE_JWT_SECRET or FILEGATE_JWT_JWKS_URL",
            ));
        }
        let algorithms = match settings.get("FILEGATE_JWT_ALGORITHMS") {
            None => {
                let mut all = Vec::new();
                all.extend(jwt_secret.as_ref().map(|_| SigningAlgorithm::Hs256));
                if jwks.is_some() {
                    all.extend(SigningAlgorithm::ASYMMETRIC);
                }
                all
            }
            Some(list) => {
                let name = "FILEGATE_JWT_ALGORITHMS";
                let mut chosen = Vec::new();
                for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                    let algorithm = SigningAlgorithm::parse(entry).ok_or_else(|| {
                        invalid(
                            name,
                            &format!("{entry:?} is not one of HS256, RS256, ES256, EdDSA"),
                        )
                    })?;
                    if algorithm == SigningAlgorithm::Hs256 && jwt_secret.is_none() {
                        return Err(invalid(name, "HS256 needs FILEGATE_JWT_SECRET"));
                    }
                    if algorithm != SigningAlgorithm::Hs256 && jwks.is_none() {
                        return Err(invalid(
                            name,
                            &format!("{entry} needs FILEGATE_JWT_JWKS_URL"),
                        ));
                    }
                    chosen.push(algorithm);
                }
                if chosen.is_empty() {
                    return Err(invalid(name, "names no algorithm"));
                }
                chosen
            }
        };
        let cursor_secret = match (secret("FILEGATE_CURSOR_SECRET")?, &jwt_secret) {
            (Some(own), _) => own,
            // Deployments from before the cursor secret keep their cursors.
            (None, Some(jwt)) => jwt.clone(),
            (None, None) => return Err(ConfigError::Missing("FILEGATE_CURSOR_SECRET")),
        };
        let org_claim = settings
            .get("FILEGATE_JWT_ORG_CLAIM")
            .map_or_else(|| "org".to_owned(), |c| c.trim().to_owned());
        Ok(Self {
            jwt_secret,
            jwks,
            algorithms,
            issuer,
            audience: settings.get("FILEGATE_JWT_AUDIENCE"),
            client_id_as_audience: settings.flag("FILEGATE_JWT_CLIENT_ID_AUDIENCE")?,
            org_claim,
            scope_prefix: settings.get("FILEGATE_JWT_SCOPE_PREFIX"),
            cursor_secret,
        })
    }
}

/// A JWKS URL: https, or plain http only on a loopback host, where nothing on the network can
/// swap the keys.
fn jwks_url(raw: &str) -> Result<url::Url, ConfigError> {
    let name = "FILEGATE_JWT_JWKS_URL";
    let url = url::Url::parse(raw).map_err(|e| invalid(name, &format!("not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(invalid(name, "must carry no user, password or fragment"));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(invalid(name, "must name a host")),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(invalid(
            name,
            "must be an https URL (plain http only on a loopback host such as 127.0.0.1)",
        )),
    }
}

/// Settings by name from any lookup, empty values counting as unset.
struct Settings<F>(F);

impl<F: Fn(&str) -> Option<String>> Settings<F> {
    fn get(&self, name: &'static str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or(ConfigError::Missing(name))
    }

    fn number(
        &self,
        name: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| invalid(name, &format!("must be a whole number in {min}..={max}"))),
        }
    }

    fn flag(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.get(name).as_deref().map(str::trim) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(_) => Err(invalid(name, "must be true or false")),
        }
    }
}

fn invalid(name: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.to_owned(),
    }
}

/// How objects are encrypted at rest; bound into every upload signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3 (`AES256`).
    S3Managed,
    /// SSE-KMS, with the bucket's default key when no key id is given.
    Kms { key_id: Option<String> },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub table: String,
    pub bucket: String,
    pub region: String,
    /// `AWS_ENDPOINT_URL`: an emulator. S3 then uses path-style addressing.
    pub endpoint_url: Option<String>,
    /// How long one AWS request attempt, and one operation with its retries, may take
    /// (`FILEGATE_AWS_ATTEMPT_TIMEOUT_MS`, `FILEGATE_AWS_OPERATION_TIMEOUT_MS`): a store that
    /// hangs is a `503` well inside the function's 15 s, never a function killed mid-answer.
    pub aws_attempt_timeout: Duration,
    pub aws_operation_timeout: Duration,
    /// Also trust the system's CA roots (for TLS-intercepting proxies); by default only the
    /// Amazon Trust Services roots compiled into the binary are trusted.
    pub tls_native_roots: bool,
    pub uploads: UploadPolicy,
    /// How objects are encrypted at rest (`FILEGATE_SSE`, `FILEGATE_SSE_KMS_KEY_ID`).
    pub encryption: Encryption,
    /// Origins allowed to call the API from a browser; empty disables CORS.
    pub cors_allowed_origins: Vec<String>,
    /// Where public files are served from (a CDN in front of the bucket), without a trailing
    /// slash: download URLs of `public` files are `<base>/<object key>`.
    pub public_base_url: Option<String>,
    /// Largest body the streaming proxy sends (`FILEGATE_PROXY_MAX_BYTES`); Lambda cuts
    /// streamed responses at 200 MB, so larger objects get 413 before the first byte.
    pub proxy_max_bytes: u64,
    /// How slowly a client may take a stream, and S3 may feed it (`FILEGATE_PROXY_MIN_RATE`,
    /// `FILEGATE_PROXY_RATE_GRACE_SECS`, `FILEGATE_PROXY_MAX_SECS`, `FILEGATE_PROXY_STALL_SECS`).
    pub stream_pace: StreamPace,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Loads from any name → value lookup (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings(lookup);
        let get = |name: &'static str| settings.get(name);
        let required = |name: &'static str| settings.required(name);
        let number = |name: &'static str, default: u64, min: u64, max: u64| {
            settings.number(name, default, min, max)
        };

        let allowed_content_types = match get("FILEGATE_ALLOWED_CONTENT_TYPES") {
            None => AllowedContentTypes::any(),
            Some(list) => AllowedContentTypes::parse_list(&list).map_err(|entry| {
                invalid(
                    "FILEGATE_ALLOWED_CONTENT_TYPES",
                    &format!("{entry:?} is not a media type or type/* family"),
                )
            })?,
        };
        let encryption = match get("FILEGATE_SSE").as_deref().map(str::trim) {
            None | Some("AES256") => Encryption::S3Managed,
            Some("aws:kms") => Encryption::Kms {
                key_id: get("FILEGATE_SSE_KMS_KEY_ID"),
            },
            Some(_) => return Err(invalid("FILEGATE_SSE", "must be AES256 or aws:kms")),
        };
        let tls_native_roots = settings.flag("FILEGATE_TLS_NATIVE_ROOTS")?;
        let cors_allowed_origins = get("FILEGATE_CORS_ALLOWED_ORIGINS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(|o| {
                        let ok = (o.starts_with("https://") || o.starts_with("http://"))
                            && !o.ends_with('/')
                            && o.is_ascii();
                        if ok {
                            Ok(o.to_owned())
                        } else {
                            Err(invalid(
                                "FILEGATE_CORS_ALLOWED_ORIGINS",
                                &format!("{o:?} is not an origin like https://app.example.com"),
                            ))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let public_base_url = get("FILEGATE_PUBLIC_BASE_URL")
            .map(|raw| {
                let base = raw.trim().trim_end_matches('/');
                let ok = url::Url::parse(base).is_ok_and(|u| {
                    u.scheme() == "https"
                        && u.host().is_some()
                        && u.query().is_none()
                        && u.fragment().is_none()
                        && u.username().is_empty()
                });
                if ok {
                    Ok(base.to_owned())
                } else {
                    Err(invalid(
                        "FILEGATE_PUBLIC_BASE_URL",
                        "must be an https URL like https://files.example.com, without query",
                    ))
                }
            })
            .transpose()?;

        Ok(Self {
            table: required("FILEGATE_TABLE")?,
            bucket: required("FILEGATE_BUCKET")?,
            region: get("AWS_REGION")
                .or_else(|| get("AWS_DEFAULT_REGION"))
                .ok_or(ConfigError::Missing("AWS_REGION"))?,
            endpoint_url: get("AWS_ENDPOINT_URL"),
            aws_attempt_timeout: Duration::from_millis(number(
                "FILEGATE_AWS_ATTEMPT_TIMEOUT_MS",
                5_000,
                100,
                60_000,
            )?),
            aws_operation_timeout: Duration::from_millis(number(
                "FILEGATE_AWS_OPERATION_TIMEOUT_MS",
                12_000,
                100,
                300_000,
            )?),
            tls_native_roots,
            proxy_max_bytes: number("FILEGATE_PROXY_MAX_BYTES", LAMBDA_STREAM_LIMIT, 1, u64::MAX)?,
            stream_pace: {
                let default = StreamPace::default();
                StreamPace {
                    min_bytes_per_sec: number(
                        "FILEGATE_PROXY_MIN_RATE",
                        default.min_bytes_per_sec,
                        0,
                        u64::MAX,
                    )?,
                    grace: Duration::from_secs(number(
                        "FILEGATE_PROXY_RATE_GRACE_SECS",
                        default.grace.as_secs(),
                        1,
                        900,
                    )?),
                    // Lambda ends a function at 900 s in any case.
                    max_duration: Duration::from_secs(number(
                        "FILEGATE_PROXY_MAX_SECS",
                        default.max_duration.as_secs(),
                        1,
                        900,
                    )?),
                    upstream_stall: Duration::from_secs(number(
                        "FILEGATE_PROXY_STALL_SECS",
                        default.upstream_stall.as_secs(),
                        1,
                        900,
                    )?),
                }
            },
            uploads: UploadPolicy {
                max_upload_bytes: number(
                    "FILEGATE_MAX_UPLOAD_BYTES",
                    FileSize::MAX_OBJECT,
                    1,
                    FileSize::MAX_OBJECT,
                )?,
                allowed_content_types,
                url_expiry_secs: number("FILEGATE_UPLOAD_URL_EXPIRY_SECS", 300, 60, 3600)?,
                // At least the longest URL lifetime, at most the pending row's TTL backstop.
                pending_expiry_secs: number(
                    "FILEGATE_PENDING_EXPIRY_SECS",
                    24 * 3600,
                    3600,
                    7 * 24 * 3600,
                )?,
                // At most one PUT's limit: above it only multipart can carry the bytes.
                multipart_threshold: number(
                    "FILEGATE_MULTIPART_THRESHOLD",
                    100 * 1024 * 1024,
                    1,
                    FileSize::MAX_SINGLE_PUT,
                )?,
                // Within the pending row's TTL backstop, and below the bucket's lifecycle rule
                // (template.yaml), which must not abort an upload the sweeper still waits for.
                multipart_expiry_secs: number(
                    "FILEGATE_MULTIPART_EXPIRY_SECS",
                    24 * 3600,
                    3600,
                    7 * 24 * 3600,
                )?,
                // What a 256 MB function reads from S3 in a few of its 15 seconds.
                finalize_hash_max_bytes: number(
                    "FILEGATE_FINALIZE_HASH_MAX_BYTES",
                    128 * 1024 * 1024,
                    0,
                    FileSize::MAX_OBJECT,
                )?,
            },
            encryption,
            cors_allowed_origins,
            public_base_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("FILEGATE_TABLE", "files"),
            ("FILEGATE_BUCKET", "bucket"),
            ("AWS_REGION", "eu-west-1"),
            ("FILEGATE_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("FILEGATE_JWT_ISSUER", "https://idp.example.com/"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in pairs {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        env
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env = env(pairs);
        Config::from_lookup(|k| env.get(k).cloned())
    }

    fn load_auth(pairs: &[(&str, &str)]) -> Result<AuthConfig, ConfigError> {
        let env = env(pairs);
        AuthConfig::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = load(&[]).unwrap();
        assert_eq!(c.uploads.max_upload_bytes, 5 * 1024 * 1024 * 1024 * 1024);
        assert_eq!(c.uploads.multipart_threshold, 100 * 1024 * 1024);
        assert_eq!(c.uploads.multipart_expiry_secs, 24 * 3600);
        assert_eq!(c.uploads.url_expiry_secs, 300);
        assert_eq!(c.encryption, Encryption::S3Managed);
        assert!(c.cors_allowed_origins.is_empty());
        assert!(!c.tls_native_roots);
        assert_eq!(c.public_base_url, None);
        let c = load(&[("FILEGATE_PUBLIC_BASE_URL", "https://cdn.example.com/files/")]).unwrap();
        assert_eq!(
            c.public_base_url.as_deref(),
            Some("https://cdn.example.com/files")
        );
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let c = load_auth(&[]).unwrap();
        assert_eq!(c.org_claim, "org");
        let printed = format!("{c:?}");
        assert!(!printed.contains("0123456789abcdef"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn each_problem_is_named() {
        assert_eq!(
            load(&[("FILEGATE_TABLE", "")]).unwrap_err(),
            ConfigError::Missing("FILEGATE_TABLE")
        );
        assert!(matches!(
            load_auth(&[("FILEGATE_JWT_SECRET", "short")]),
            Err(ConfigError::Invalid {
                name: "FILEGATE_JWT_SECRET",
                ..
            })
        ));
        assert_eq!(
            load_auth(&[("FILEGATE_JWT_SECRET", "")]).unwrap_err(),
            ConfigError::Missing("FILEGATE_JWT_SECRET or FILEGATE_JWT_JWKS_URL")
        );
        for (name, value) in [
            ("FILEGATE_MAX_UPLOAD_BYTES", "0"),
            ("FILEGATE_MAX_UPLOAD_BYTES", "5497558138881"),
            ("FILEGATE_MULTIPART_THRESHOLD", "5368709121"),
            ("FILEGATE_MULTIPART_EXPIRY_SECS", "60"),
            ("FILEGATE_UPLOAD_URL_EXPIRY_SECS", "59"),
            ("FILEGATE_ALLOWED_CONTENT_TYPES", "pdf"),
            ("FILEGATE_SSE", "none"),
            ("FILEGATE_CORS_ALLOWED_ORIGINS", "app.example.com"),
            ("FILEGATE_TLS_NATIVE_ROOTS", "yes"),
            ("FILEGATE_PUBLIC_BASE_URL", "cdn.example.com"),
            ("FILEGATE_PUBLIC_BASE_URL", "http://cdn.example.com"),
            ("FILEGATE_PUBLIC_BASE_URL", "https://cdn.example.com/?x=1"),
        ] {
            match load(&[(name, value)]) {
                Err(ConfigError::Invalid { name: got, .. }) => assert_eq!(got, name),
                other => panic!("{name}={value}: {other:?}"),
            }
        }
    }

    #[test]
    fn kms_encryption_takes_an_optional_key() {
        let c = load(&[
            ("FILEGATE_SSE", "aws:kms"),
            ("FILEGATE_SSE_KMS_KEY_ID", "alias/x"),
        ])
        .unwrap();
        assert_eq!(
            c.encryption,
            Encryption::Kms {
                key_id: Some("alias/x".into())
            }
        );
    }

    const JWKS: (&str, &str) = (
        "FILEGATE_JWT_JWKS_URL",
        "https://idp.example.com/.well-known/jwks.json",
    );

    #[test]
    fn a_jwks_url_must_be_https_or_on_a_loopback_host() {
        for ok in [
            "https://idp.example.com/.well-known/jwks.json",
            "http://127.0.0.1:8900/keys",
            "http://localhost/keys",
            "http://[::1]:9/keys",
        ] {
            let c = load_auth(&[("FILEGATE_JWT_JWKS_URL", ok)]).unwrap();
            assert_eq!(
                c.jwks.unwrap().url.as_str(),
                url::Url::parse(ok).unwrap().as_str()
            );
        }
        for bad in [
            "http://idp.example.com/keys",
            "http://10.0.0.1/keys",
            "http://127.0.0.1.example.com/keys",
            "ftp://127.0.0.1/keys",
            "https://user:pw@idp.example.com/keys",
            "idp.example.com/keys",
        ] {
            assert!(
                matches!(
                    load_auth(&[("FILEGATE_JWT_JWKS_URL", bad)]),
                    Err(ConfigError::Invalid {
                        name: "FILEGATE_JWT_JWKS_URL",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn algorithms_default_to_what_the_configured_keys_verify_and_need_their_keys() {
        use SigningAlgorithm::*;
        assert_eq!(load_auth(&[]).unwrap().algorithms, vec![Hs256]);
        assert_eq!(
            load_auth(&[JWKS]).unwrap().algorithms,
            vec![Hs256, Rs256, Es256, EdDsa]
        );
        let jwks_only = [
            JWKS,
            ("FILEGATE_JWT_SECRET", ""),
            ("FILEGATE_CURSOR_SECRET", "c".repeat(32).leak()),
        ];
        assert_eq!(
            load_auth(&jwks_only).unwrap().algorithms,
            vec![Rs256, Es256, EdDsa]
        );
        let narrowed = load_auth(&[JWKS, ("FILEGATE_JWT_ALGORITHMS", "ES256, EdDSA")]).unwrap();
        assert_eq!(narrowed.algorithms, vec![Es256, EdDsa]);
        for (pairs, why) in [
            (
                vec![("FILEGATE_JWT_ALGORITHMS", "RS256")],
                "RS256 without a JWKS URL",
            ),
            (
                vec![("FILEGATE_JWT_ALGORITHMS", "HS512")],
                "an algorithm filegate does not verify",
            ),
            (vec![("FILEGATE_JWT_ALGORITHMS", "none")], "none"),
            (vec![("FILEGATE_JWT_ALGORITHMS", ",")], "no algorithm"),
            (
                vec![
                    JWKS,
                    ("FILEGATE_JWT_SECRET", ""),
                    ("FILEGATE_CURSOR_SECRET", "c".repeat(32).leak()),
                    ("FILEGATE_JWT_ALGORITHMS", "HS256"),
                ],
                "HS256 without a secret",
            ),
        ] {
            assert!(
                matches!(
                    load_auth(&pairs),
                    Err(ConfigError::Invalid {
                        name: "FILEGATE_JWT_ALGORITHMS",
                        ..
                    })
                ),
                "{why}"
            );
        }
    }

    #[test]
    fn cursors_have_their_own_secret_or_else_the_jwt_secrets() {
        let own = "cursor-secret-cursor-secret-cursor!";
        let c = load_auth(&[("FILEGATE_CURSOR_SECRET", own)]).unwrap();
        assert_eq!(c.cursor_secret.expose(), own);
        let c = load_auth(&[]).unwrap();
        assert_eq!(c.cursor_secret.expose(), "0123456789abcdef0123456789abcdef");
        assert_eq!(
            load_auth(&[JWKS, ("FILEGATE_JWT_SECRET", "")]).unwrap_err(),
            ConfigError::Missing("FILEGATE_CURSOR_SECRET")
        );
        assert!(matches!(
            load_auth(&[("FILEGATE_CURSOR_SECRET", "short")]),
            Err(ConfigError::Invalid {
                name: "FILEGATE_CURSOR_SECRET",
                ..
            })
        ));
    }

    #[test]
    fn the_key_cache_bounds_have_defaults_and_limits() {
        let jwks = load_auth(&[JWKS]).unwrap().jwks.unwrap();
        assert_eq!(jwks.max_cache, Duration::from_secs(3600));
        assert_eq!(jwks.refetch_interval, Duration::from_secs(30));
        for (name, value) in [
            ("FILEGATE_JWKS_MAX_CACHE_SECS", "0"),
            ("FILEGATE_JWKS_MAX_CACHE_SECS", "86401"),
            ("FILEGATE_JWKS_REFETCH_SECS", "0"),
            ("FILEGATE_JWT_CLIENT_ID_AUDIENCE", "yes"),
        ] {
            match load_auth(&[JWKS, (name, value)]) {
                Err(ConfigError::Invalid { name: got, .. }) => assert_eq!(got, name),
                other => panic!("{name}={value}: {other:?}"),
            }
        }
    }
}
