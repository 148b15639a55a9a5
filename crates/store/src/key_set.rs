//! Fetching an identity provider's signing keys: the JSON Web Key Set at
//! `FILEGATE_JWT_JWKS_URL`.
//!
//! One GET, bounded in time and size, over filegate's own lean HTTPS client (Mozilla's roots
//! compiled in). Redirects are followed only within the same scheme, host and port: a JWKS
//! that sends the fetch to another host is refused, never trusted. What the keys mean, and how
//! long they are kept, is `filegate-core`'s.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use filegate_domain::error::ErrorChain;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::tls::{self, CompiledRoots};

/// The whole fetch, redirects included: the first request that needs keys waits for it.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Providers' key sets are a few KiB (Entra ID's, the largest seen, about 10 KiB).
pub const MAX_KEY_SET_BYTES: usize = 256 * 1024;
const MAX_REDIRECTS: usize = 3;

/// What the JWKS host answered: the document, and how long it says it may be kept.
#[derive(Debug, Clone)]
pub struct FetchedKeySet {
    pub body: Bytes,
    /// The response's `Cache-Control`, as sent.
    pub cache_control: Option<String>,
}

/// Why no key set was fetched. Cached keys stay as they were.
#[derive(Debug, thiserror::Error)]
pub enum KeySetFetchError {
    #[error("the JWKS host could not be reached: {0}")]
    Unreachable(String),
    #[error("the JWKS host did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the JWKS host answered {0}")]
    Status(StatusCode),
    #[error("the JWKS response is larger than {MAX_KEY_SET_BYTES} bytes")]
    TooLarge,
    #[error("the JWKS host redirected to another host ({0}); not followed")]
    RedirectElsewhere(String),
    #[error("the JWKS host redirected more than {MAX_REDIRECTS} times")]
    TooManyRedirects,
}

/// Where signing keys come from; [`JwksClient`] in a deployment.
pub trait KeySetSource: Send + Sync + std::fmt::Debug {
    fn fetch(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<FetchedKeySet, KeySetFetchError>> + Send + '_>>;
}

/// Fetches one JWKS URL. Built once per process; the HTTPS client (its TLS config, Mozilla's
/// roots) is built on the first fetch, so that init costs nothing, and then pooled.
#[derive(Debug)]
pub struct JwksClient {
    url: url::Url,
    native_roots: bool,
    client: std::sync::OnceLock<Client<HttpsConnector<HttpConnector>, Empty<Bytes>>>,
}

impl JwksClient {
    /// `url` was checked by the config loader (https, or http on a loopback host).
    pub fn new(url: url::Url, native_roots: bool) -> Self {
        Self {
            url,
            native_roots,
            client: std::sync::OnceLock::new(),
        }
    }

    fn client(&self) -> &Client<HttpsConnector<HttpConnector>, Empty<Bytes>> {
        self.client.get_or_init(|| {
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            http.set_connect_timeout(Some(FETCH_TIMEOUT));
            let tls = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(
                tls::client_config(CompiledRoots::Mozilla, self.native_roots),
            );
            let https = if self.url.scheme() == "http" {
                tls.https_or_http()
            } else {
                tls.https_only()
            }
            .enable_http1()
            .wrap_connector(http);
            Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(1)
                .build(https)
        })
    }

    pub fn url(&self) -> &url::Url {
        &self.url
    }

    async fn fetch_following_redirects(&self) -> Result<FetchedKeySet, KeySetFetchError> {
        let mut url = self.url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let uri: Uri = url
                .as_str()
                .parse()
                .map_err(|_| KeySetFetchError::Unreachable(format!("{url} is not a URI")))?;
            let request = Request::get(uri)
                .header(header::ACCEPT, "application/json, application/jwk-set+json")
                .header(header::USER_AGENT, "filegate-jwks")
                .body(Empty::new())
                .map_err(|e| KeySetFetchError::Unreachable(e.to_string()))?;
            let response = self
                .client()
                .request(request)
                .await
                .map_err(|e| KeySetFetchError::Unreachable(ErrorChain(&e).to_string()))?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|location| url.join(location).ok())
                    .ok_or(KeySetFetchError::Status(status))?;
                let same_origin = next.scheme() == url.scheme()
                    && next.host_str() == url.host_str()
                    && next.port_or_known_default() == url.port_or_known_default();
                if !same_origin {
                    return Err(KeySetFetchError::RedirectElsewhere(
                        next.host_str().unwrap_or_default().to_owned(),
                    ));
                }
                url = next;
                continue;
            }
            if status != StatusCode::OK {
                return Err(KeySetFetchError::Status(status));
            }
            let declared = response
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            // Refused before a byte of an oversized body is read.
            if declared.is_some_and(|n| n > MAX_KEY_SET_BYTES as u64) {
                return Err(KeySetFetchError::TooLarge);
            }
            let cache_control = response
                .headers()
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = Limited::new(response.into_body(), MAX_KEY_SET_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        KeySetFetchError::TooLarge
                    } else {
                        KeySetFetchError::Unreachable(e.to_string())
                    }
                })?
                .to_bytes();
            return Ok(FetchedKeySet {
                body,
                cache_control,
            });
        }
        Err(KeySetFetchError::TooManyRedirects)
    }
}

impl KeySetSource for JwksClient {
    fn fetch(
        &self,
    ) -> Pin<Box<dyn Future<Output = Result<FetchedKeySet, KeySetFetchError>> + Send + '_>> {
        Box::pin(async move {
            tokio::time::timeout(FETCH_TIMEOUT, self.fetch_following_redirects())
                .await
                .unwrap_or(Err(KeySetFetchError::Timeout(FETCH_TIMEOUT)))
        })
    }
}
