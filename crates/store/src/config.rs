//! The one config loader. Every setting is an environment variable, documented in the README.

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
/// that never see a caller (the S3-event finalizer) never hold the signing secret.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// HS256 shared secret, at least 32 bytes.
    pub jwt_secret: Secret,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// The claim that names the organisation.
    pub org_claim: String,
}

impl AuthConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let jwt_secret =
            get("FILEGATE_JWT_SECRET").ok_or(ConfigError::Missing("FILEGATE_JWT_SECRET"))?;
        if jwt_secret.len() < 32 {
            return Err(ConfigError::Invalid {
                name: "FILEGATE_JWT_SECRET",
                reason: "must be at least 32 bytes (HS256 keys shorter than the hash are weak)"
                    .into(),
            });
        }
        Ok(Self {
            jwt_secret: Secret::new(jwt_secret),
            issuer: get("FILEGATE_JWT_ISSUER"),
            audience: get("FILEGATE_JWT_AUDIENCE"),
            org_claim: get("FILEGATE_JWT_ORG_CLAIM").unwrap_or_else(|| "org".to_owned()),
        })
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
    pub aws_attempt_timeout: std::time::Duration,
    pub aws_operation_timeout: std::time::Duration,
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
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let invalid = |name: &'static str, reason: &str| ConfigError::Invalid {
            name,
            reason: reason.to_owned(),
        };
        let number = |name: &'static str, default: u64, min: u64, max: u64| match get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| invalid(name, &format!("must be a whole number in {min}..={max}"))),
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
        let tls_native_roots = match get("FILEGATE_TLS_NATIVE_ROOTS").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(_) => {
                return Err(invalid(
                    "FILEGATE_TLS_NATIVE_ROOTS",
                    "must be true or false",
                ));
            }
        };
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
            aws_attempt_timeout: std::time::Duration::from_millis(number(
                "FILEGATE_AWS_ATTEMPT_TIMEOUT_MS",
                5_000,
                100,
                60_000,
            )?),
            aws_operation_timeout: std::time::Duration::from_millis(number(
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
                    grace: std::time::Duration::from_secs(number(
                        "FILEGATE_PROXY_RATE_GRACE_SECS",
                        default.grace.as_secs(),
                        1,
                        900,
                    )?),
                    // Lambda ends a function at 900 s in any case.
                    max_duration: std::time::Duration::from_secs(number(
                        "FILEGATE_PROXY_MAX_SECS",
                        default.max_duration.as_secs(),
                        1,
                        900,
                    )?),
                    upstream_stall: std::time::Duration::from_secs(number(
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
                    FileSize::MAX_SINGLE_PUT,
                    1,
                    FileSize::MAX_SINGLE_PUT,
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
        assert_eq!(c.uploads.max_upload_bytes, 5 * 1024 * 1024 * 1024);
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
            ConfigError::Missing("FILEGATE_JWT_SECRET")
        );
        for (name, value) in [
            ("FILEGATE_MAX_UPLOAD_BYTES", "0"),
            ("FILEGATE_MAX_UPLOAD_BYTES", "5368709121"),
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
}
