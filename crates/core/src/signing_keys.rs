//! An identity provider's signing keys, cached per container (per Lambda execution
//! environment).
//!
//! The cache is filled on first need, not at init: a cold start then costs nothing for the
//! requests that carry an API key or an HS256 token, and a provider that is down at init does
//! not fail the container. It follows the provider's `Cache-Control` within bounds, refetches
//! when a token names a `kid` it does not hold (at most once per refetch interval, however
//! many tokens name one: a flood of made-up `kid`s costs one fetch), and keeps using the keys
//! it has while the provider cannot be reached. With no usable key and no way to fetch one,
//! a token is `503 auth_unavailable`, never a silent accept.
//!
//! Every key is pinned to one algorithm when it is read (its JWK `alg`, or the only one its
//! type and curve allow), so a token cannot choose how its signature is checked: an RSA key
//! never verifies an HS256 token, and a JWKS `oct` key is never used at all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use filegate_domain::DomainError;
use filegate_store::key_set::KeySetSource;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::time::Instant;

/// Kept at least this long whatever `Cache-Control` says (`no-cache`, `max-age=0`), unless
/// `FILEGATE_JWKS_MAX_CACHE_SECS` is shorter: a provider's advice must not turn into a fetch
/// per request.
const MIN_CACHE: Duration = Duration::from_secs(60);
/// When the response says nothing about caching.
const DEFAULT_CACHE: Duration = Duration::from_secs(600);
/// After a failed fetch, the next attempt waits this long (the provider is down: don't pile
/// on, and don't make every request wait for a timeout).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// How long past their lifetime cached keys keep verifying while the provider cannot be
/// reached.
const MAX_STALE: Duration = Duration::from_secs(24 * 3600);
/// RSA keys shorter than this are refused (NIST SP 800-131A).
const MIN_RSA_MODULUS_BYTES: usize = 2048 / 8;

/// A public key and the one algorithm it verifies.
#[derive(Clone)]
pub struct VerifyingKey {
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// How long fetched keys are kept, and how often unknown `kid`s may cause a fetch.
#[derive(Debug, Clone, Copy)]
pub struct CachePolicy {
    pub max_cache: Duration,
    pub refetch_interval: Duration,
}

impl CachePolicy {
    /// The lifetime of a key set fetched with this `Cache-Control`: its `max-age`, at least
    /// [`MIN_CACHE`], at most `max_cache` (which wins when it is the shorter).
    pub fn lifetime(&self, cache_control: Option<&str>) -> Duration {
        let advised = cache_control.map_or(Some(DEFAULT_CACHE), advised_lifetime);
        advised
            .unwrap_or(DEFAULT_CACHE)
            .max(MIN_CACHE)
            .min(self.max_cache)
    }
}

/// What a `Cache-Control` header advises: `Some(0)` for `no-store`/`no-cache`, its
/// `max-age`, `None` when it says neither (`s-maxage` is for shared caches; this one is not).
fn advised_lifetime(header: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in header.split(',').map(str::trim) {
        let (name, value) = directive
            .split_once('=')
            .map_or((directive, None), |(n, v)| {
                (n.trim(), Some(v.trim().trim_matches('"')))
            });
        let seconds = || {
            value
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs)
        };
        match name.to_ascii_lowercase().as_str() {
            "no-store" | "no-cache" => return Some(Duration::ZERO),
            "max-age" => max_age = seconds(),
            _ => {}
        }
    }
    max_age
}

/// The keys of one JWKS document, by `kid`.
#[derive(Debug)]
struct KeySet {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    fresh_until: Instant,
    usable_until: Instant,
}

#[derive(Debug, Default)]
struct CacheState {
    keys: Option<KeySet>,
    last_attempt: Option<Instant>,
    /// Whether the last attempt failed: then a miss is "cannot verify now", not "no such key".
    last_failed: bool,
    /// Attempts completed, so that a request that waited for another's fetch uses its result
    /// instead of fetching again.
    attempts: u64,
}

enum Decision {
    Found(Arc<VerifyingKey>),
    Refuse(DomainError),
    Fetch { attempts_seen: u64 },
}

/// The key cache of one JWKS URL.
#[derive(Debug)]
pub struct SigningKeys {
    source: Arc<dyn KeySetSource>,
    /// The asymmetric algorithms tokens may use; keys for others are ignored.
    allowed: Vec<Algorithm>,
    policy: CachePolicy,
    state: Mutex<CacheState>,
    /// One fetch at a time; the others wait for its result.
    fetching: tokio::sync::Mutex<()>,
}

impl SigningKeys {
    pub fn new(
        source: Arc<dyn KeySetSource>,
        allowed: Vec<Algorithm>,
        policy: CachePolicy,
    ) -> Self {
        Self {
            source,
            allowed,
            policy,
            state: Mutex::new(CacheState::default()),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The key a token's `kid` names, fetching the key set when the cache cannot answer.
    pub async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, DomainError> {
        let attempts_seen = match self.decide(kid) {
            Decision::Found(key) => return Ok(key),
            Decision::Refuse(error) => return Err(error),
            Decision::Fetch { attempts_seen } => attempts_seen,
        };
        let _turn = self.fetching.lock().await;
        // Another request fetched while this one waited: its answer is the answer.
        if self.lock().attempts == attempts_seen {
            self.refresh().await;
        }
        self.after_fetch(kid)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // The state is plain data; a panic elsewhere cannot leave it half-updated.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn decide(&self, kid: &str) -> Decision {
        let now = Instant::now();
        let state = self.lock();
        let fetch = Decision::Fetch {
            attempts_seen: state.attempts,
        };
        let may_retry = !state.last_failed
            || state
                .last_attempt
                .is_none_or(|at| now >= at + RETRY_AFTER_FAILURE);
        match &state.keys {
            Some(set) if now < set.fresh_until => match set.by_kid.get(kid) {
                Some(key) => Decision::Found(key.clone()),
                None => {
                    let interval_passed = state
                        .last_attempt
                        .is_none_or(|at| now >= at + self.policy.refetch_interval);
                    if interval_passed && may_retry {
                        fetch
                    } else {
                        Decision::Refuse(miss(&state, kid))
                    }
                }
            },
            // Past its lifetime: fetch, unless a fetch just failed (then the stale keys serve).
            Some(set) if !may_retry => match set.by_kid.get(kid) {
                Some(key) if now < set.usable_until => Decision::Found(key.clone()),
                _ => Decision::Refuse(miss(&state, kid)),
            },
            Some(_) => fetch,
            None if may_retry => fetch,
            None => Decision::Refuse(unavailable()),
        }
    }

    /// After this request's fetch, or the one it waited for.
    fn after_fetch(&self, kid: &str) -> Result<Arc<VerifyingKey>, DomainError> {
        let now = Instant::now();
        let state = self.lock();
        match &state.keys {
            Some(set) if now < set.usable_until => set
                .by_kid
                .get(kid)
                .cloned()
                .ok_or_else(|| miss(&state, kid)),
            _ => Err(unavailable()),
        }
    }

    async fn refresh(&self) {
        let started = Instant::now();
        let fetched = self.source.fetch().await;
        let outcome = fetched.map_err(|e| e.to_string()).and_then(|fetched| {
            let keys = parse_key_set(&fetched.body, &self.allowed)?;
            Ok((keys, self.policy.lifetime(fetched.cache_control.as_deref())))
        });
        let mut state = self.lock();
        state.attempts += 1;
        // A success counts from when it was asked for (the keys' age); a failure from when it
        // ended, so that a provider that hangs for the whole timeout still gets its pause.
        state.last_attempt = Some(if outcome.is_ok() {
            started
        } else {
            Instant::now()
        });
        match outcome {
            Ok((by_kid, lifetime)) => {
                tracing::info!(
                    keys = by_kid.len(),
                    lifetime_secs = lifetime.as_secs(),
                    "fetched the JWKS"
                );
                state.keys = Some(KeySet {
                    by_kid,
                    fresh_until: started + lifetime,
                    usable_until: started + lifetime + MAX_STALE,
                });
                state.last_failed = false;
            }
            Err(problem) => {
                tracing::warn!(%problem, cached = state.keys.is_some(), "could not refresh the JWKS; cached keys kept");
                state.last_failed = true;
            }
        }
    }
}

fn unavailable() -> DomainError {
    DomainError::unavailable(
        "auth_unavailable",
        "the identity provider's signing keys could not be fetched; retry later",
    )
}

fn miss(state: &CacheState, kid: &str) -> DomainError {
    if state.last_failed {
        unavailable()
    } else {
        DomainError::unauthenticated(
            "invalid_token",
            format!("the bearer token's key {kid:?} is not among the identity provider's keys"),
        )
    }
}

/// The usable keys of a JWKS document. Keys for encryption, of unsupported types or
/// algorithms, weak RSA keys, and keys without a `kid` are skipped; a document with none
/// left is refused (the cache keeps what it had).
pub fn parse_key_set(
    body: &[u8],
    allowed: &[Algorithm],
) -> Result<HashMap<String, Arc<VerifyingKey>>, String> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document =
        serde_json::from_slice(body).map_err(|e| format!("the JWKS is not a JSON key set: {e}"))?;
    let total = document.keys.len();
    let keys: HashMap<_, _> = document
        .keys
        .into_iter()
        .filter_map(|value| usable_key(value, allowed))
        .map(|(kid, key)| (kid, Arc::new(key)))
        .collect();
    if keys.is_empty() {
        return Err(format!("the JWKS has no usable signing key (of {total})"));
    }
    Ok(keys)
}

fn usable_key(value: serde_json::Value, allowed: &[Algorithm]) -> Option<(String, VerifyingKey)> {
    let jwk: Jwk = serde_json::from_value(value).ok()?;
    let common = &jwk.common;
    if common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    if common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return None;
    }
    let kid = common.key_id.clone()?;
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let modulus = BASE64URL.decode(rsa.n.trim_end_matches('=')).ok()?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            (significant >= MIN_RSA_MODULUS_BYTES).then_some(Algorithm::RS256)?
        }
        // Coordinates of the curve's size (jsonwebtoken slices them unchecked).
        AlgorithmParameters::EllipticCurve(ec)
            if ec.curve == EllipticCurve::P256
                && decoded_len(&ec.x) == Some(32)
                && decoded_len(&ec.y) == Some(32) =>
        {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp)
            if okp.curve == EllipticCurve::Ed25519 && decoded_len(&okp.x) == Some(32) =>
        {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    // A key that declares an algorithm is used for exactly that one.
    let declared = match common.key_algorithm {
        None => algorithm,
        Some(KeyAlgorithm::RS256) => Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => Algorithm::ES256,
        Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
        Some(_) => return None,
    };
    if declared != algorithm || !allowed.contains(&algorithm) {
        return None;
    }
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some((kid, VerifyingKey { algorithm, key }))
}

fn decoded_len(b64url: &str) -> Option<usize> {
    BASE64URL
        .decode(b64url.trim_end_matches('='))
        .ok()
        .map(|b| b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use filegate_store::key_set::{FetchedKeySet, KeySetFetchError};
    use serde_json::json;
    use std::collections::VecDeque;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn policy(max: u64) -> CachePolicy {
        CachePolicy {
            max_cache: Duration::from_secs(max),
            refetch_interval: Duration::from_secs(30),
        }
    }

    #[test]
    fn a_key_sets_lifetime_follows_cache_control_within_bounds() {
        let p = policy(3600);
        let secs = |cc: Option<&str>| p.lifetime(cc).as_secs();
        assert_eq!(secs(None), 600);
        assert_eq!(secs(Some("public, max-age=900")), 900);
        assert_eq!(secs(Some("max-age=900, s-maxage=1200")), 900);
        assert_eq!(secs(Some("max-age=\"300\"")), 300);
        // Below the floor, above the cap, or telling not to cache at all.
        assert_eq!(secs(Some("max-age=5")), 60);
        assert_eq!(secs(Some("no-cache")), 60);
        assert_eq!(secs(Some("no-store, max-age=900")), 60);
        assert_eq!(secs(Some("max-age=604800")), 3600);
        assert_eq!(secs(Some("max-age=soon")), 600);
        // A cap below the floor wins: the operator chose how long a removed key may live.
        assert_eq!(policy(2).lifetime(Some("max-age=3600")).as_secs(), 2);
    }

    /// A 2048-bit modulus of ones: a well-formed RSA public key for parsing.
    fn rsa(kid: &str) -> serde_json::Value {
        json!({"kty": "RSA", "kid": kid, "n": BASE64URL.encode([0xffu8; 256]), "e": "AQAB"})
    }

    fn ec(kid: &str, crv: &str, len: usize) -> serde_json::Value {
        let coordinate = BASE64URL.encode(vec![7u8; len]);
        json!({"kty": "EC", "kid": kid, "crv": crv, "x": coordinate, "y": coordinate})
    }

    fn okp(kid: &str, len: usize) -> serde_json::Value {
        json!({"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": BASE64URL.encode(vec![9u8; len])})
    }

    const ALL: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

    #[test]
    fn only_signing_keys_of_the_allowed_algorithms_are_kept_each_pinned_to_one() {
        let with = |v: serde_json::Value, k: &str, x: serde_json::Value| {
            let mut v = v;
            v[k] = x;
            v
        };
        let document = json!({"keys": [
            rsa("rsa"),
            ec("ec", "P-256", 32),
            okp("ed", 32),
            with(rsa("rsa-declared"), "alg", json!("RS256")),
            // Skipped: encryption keys, other algorithms, HMAC secrets, weak or malformed
            // keys, keys without a kid, a declared algorithm that is not the key's.
            with(rsa("enc"), "use", json!("enc")),
            with(rsa("ops"), "key_ops", json!(["encrypt"])),
            with(rsa("ps256"), "alg", json!("PS256")),
            with(rsa("mismatch"), "alg", json!("ES256")),
            json!({"kty": "RSA", "kid": "short", "n": BASE64URL.encode([0xffu8; 128]), "e": "AQAB"}),
            ec("p384", "P-384", 48),
            ec("ec-short", "P-256", 31),
            okp("ed-short", 16),
            json!({"kty": "oct", "kid": "hmac", "k": BASE64URL.encode(b"secret")}),
            json!({"kty": "RSA", "n": BASE64URL.encode([0xffu8; 256]), "e": "AQAB"}),
            json!({"kty": "future", "kid": "unknown"}),
        ]});
        let keys = parse_key_set(document.to_string().as_bytes(), &ALL).unwrap();
        let mut kids: Vec<(&str, Algorithm)> = keys
            .iter()
            .map(|(k, v)| (k.as_str(), v.algorithm))
            .collect();
        kids.sort_by_key(|(k, _)| *k);
        assert_eq!(
            kids,
            vec![
                ("ec", Algorithm::ES256),
                ("ed", Algorithm::EdDSA),
                ("rsa", Algorithm::RS256),
                ("rsa-declared", Algorithm::RS256),
            ]
        );
        // FILEGATE_JWT_ALGORITHMS=ES256: the RSA and Ed25519 keys are not kept at all.
        let narrowed = parse_key_set(document.to_string().as_bytes(), &[Algorithm::ES256]).unwrap();
        assert_eq!(narrowed.keys().collect::<Vec<_>>(), vec!["ec"]);
    }

    #[test]
    fn a_document_with_no_usable_key_is_refused() {
        for body in [
            "not json",
            "{}",
            r#"{"keys": "no"}"#,
            r#"{"keys": []}"#,
            r#"{"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]}"#,
        ] {
            assert!(parse_key_set(body.as_bytes(), &ALL).is_err(), "{body}");
        }
    }

    /// A provider whose answers the test scripts, counting the fetches.
    #[derive(Debug, Default)]
    struct ScriptedProvider {
        answers: Mutex<VecDeque<Result<&'static str, ()>>>,
        fetches: AtomicUsize,
    }

    impl KeySetSource for ScriptedProvider {
        fn fetch(
            &self,
        ) -> Pin<Box<dyn Future<Output = Result<FetchedKeySet, KeySetFetchError>> + Send + '_>>
        {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let answer = self.answers.lock().unwrap().pop_front().unwrap_or(Err(()));
            Box::pin(async move {
                answer
                    .map(|body| FetchedKeySet {
                        body: body.as_bytes().to_vec().into(),
                        cache_control: Some("max-age=600".into()),
                    })
                    .map_err(|()| KeySetFetchError::Unreachable("down".into()))
            })
        }
    }

    fn cache(answers: Vec<Result<&'static str, ()>>) -> (SigningKeys, Arc<ScriptedProvider>) {
        let provider = Arc::new(ScriptedProvider {
            answers: Mutex::new(answers.into()),
            ..Default::default()
        });
        let keys = SigningKeys::new(provider.clone(), ALL.to_vec(), policy(3600));
        (keys, provider)
    }

    fn fetches(p: &ScriptedProvider) -> usize {
        p.fetches.load(Ordering::SeqCst)
    }

    fn one_key(kid: &str) -> &'static str {
        Box::leak(json!({"keys": [rsa(kid)]}).to_string().into_boxed_str())
    }

    #[tokio::test(start_paused = true)]
    async fn through_an_outage_cached_keys_serve_for_a_day_past_their_lifetime() {
        let (keys, provider) = cache(vec![Ok(one_key("k"))]);
        assert!(keys.key("k").await.is_ok());
        // Past the 600 s lifetime the provider is down: one attempt, then the stale key serves
        // without a new attempt for 5 s.
        tokio::time::advance(Duration::from_secs(601)).await;
        assert!(keys.key("k").await.is_ok());
        assert!(keys.key("k").await.is_ok());
        assert_eq!(fetches(&provider), 2);
        tokio::time::advance(RETRY_AFTER_FAILURE).await;
        assert!(keys.key("k").await.is_ok());
        assert_eq!(fetches(&provider), 3);
        // A kid it never saw cannot be learnt now: "cannot verify", not "no such key".
        assert_eq!(
            keys.key("new").await.unwrap_err().code(),
            "auth_unavailable"
        );
        // A day past the lifetime, the stale key is no longer trusted.
        tokio::time::advance(MAX_STALE).await;
        let e = keys.key("k").await.unwrap_err();
        assert_eq!(e.code(), "auth_unavailable");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cold_cache_that_cannot_fetch_is_unavailable_and_tries_again_after_5_s() {
        let (keys, provider) = cache(vec![Err(()), Ok(one_key("k"))]);
        assert_eq!(keys.key("k").await.unwrap_err().code(), "auth_unavailable");
        assert_eq!(keys.key("k").await.unwrap_err().code(), "auth_unavailable");
        assert_eq!(fetches(&provider), 1, "no second attempt within 5 s");
        tokio::time::advance(RETRY_AFTER_FAILURE).await;
        assert!(keys.key("k").await.is_ok());
        assert_eq!(fetches(&provider), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_misses_share_one_fetch() {
        let (keys, provider) = cache(vec![Ok(one_key("k"))]);
        let keys = Arc::new(keys);
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let keys = keys.clone();
                tokio::spawn(async move { keys.key(if i % 2 == 0 { "k" } else { "other" }).await })
            })
            .collect();
        let mut found = 0;
        for t in tasks {
            if t.await.unwrap().is_ok() {
                found += 1;
            }
        }
        assert_eq!(found, 10);
        assert_eq!(fetches(&provider), 1);
    }
}
