//! A test identity provider: signing keys the test generates (RS256, ES256, EdDSA) and a JWKS
//! server on 127.0.0.1 that counts its fetches and can be told to fail, grow or redirect.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

/// One signing key of the provider, with the `kid` it publishes it under.
#[derive(Clone)]
pub struct TestSigningKey {
    pub kid: String,
    pub algorithm: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
    /// RSA only: the public key as PEM, the bytes an algorithm-confusion attack signs with.
    public_pem: Option<String>,
}

/// RSA key generation takes a while unoptimised: two per test process, shared.
fn rsa_key(index: usize) -> &'static rsa::RsaPrivateKey {
    static KEYS: [OnceLock<rsa::RsaPrivateKey>; 2] = [OnceLock::new(), OnceLock::new()];
    KEYS[index].get_or_init(|| {
        rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key generation")
    })
}

impl TestSigningKey {
    /// An RS256 key (`index` 0 or 1: two distinct RSA keys exist).
    pub fn rs256(kid: &str, index: usize) -> Self {
        let key = rsa_key(index);
        let public = key.to_public_key();
        Self {
            kid: kid.to_owned(),
            algorithm: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_der(key.to_pkcs1_der().unwrap().as_bytes()),
            jwk: json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                        "n": BASE64URL.encode(public.n().to_bytes_be()),
                        "e": BASE64URL.encode(public.e().to_bytes_be())}),
            public_pem: Some(public.to_public_key_pem(LineEnding::LF).unwrap()),
        }
    }

    pub fn es256(kid: &str) -> Self {
        use p256::pkcs8::EncodePrivateKey as _;
        let key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        let point = key.verifying_key().to_encoded_point(false);
        Self {
            kid: kid.to_owned(),
            algorithm: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(key.to_pkcs8_der().unwrap().as_bytes()),
            jwk: json!({"kty": "EC", "crv": "P-256", "use": "sig", "kid": kid,
                        "x": BASE64URL.encode(point.x().unwrap()),
                        "y": BASE64URL.encode(point.y().unwrap())}),
            public_pem: None,
        }
    }

    pub fn eddsa(kid: &str) -> Self {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        Self {
            kid: kid.to_owned(),
            algorithm: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(key.to_pkcs8_der().unwrap().as_bytes()),
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "kid": kid,
                        "x": BASE64URL.encode(key.verifying_key().to_bytes())}),
            public_pem: None,
        }
    }

    /// The public key as a JWK, as the provider publishes it.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    pub fn public_pem(&self) -> &str {
        self.public_pem.as_deref().expect("an RSA key")
    }

    /// A token of `claims`, naming this key.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }

    /// A token of `claims` signed by this key but naming `kid`.
    pub fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// What the JWKS server answers.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// The published keys.
    Serve,
    /// This status and no keys.
    Fail(StatusCode),
    /// The keys padded to 10 MB, streamed without a Content-Length.
    Huge,
    /// A redirect to this URL.
    Redirect(String),
}

struct ServerState {
    keys: Mutex<Vec<Value>>,
    cache_control: Mutex<Option<String>>,
    behaviour: Mutex<Behaviour>,
    fetches: AtomicUsize,
}

/// A JWKS endpoint at `{base}/keys`, and `{base}/moved` that always serves the keys.
pub struct JwksServer {
    pub base: String,
    state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(state): State<Arc<ServerState>>) -> Response<Body> {
    let behaviour = state.behaviour.lock().unwrap().clone();
    respond(&state, behaviour)
}

/// `/moved` always serves the keys: the target of a same-host redirect.
async fn answer_moved(State(state): State<Arc<ServerState>>) -> Response<Body> {
    respond(&state, Behaviour::Serve)
}

fn respond(state: &ServerState, behaviour: Behaviour) -> Response<Body> {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let mut response = match behaviour {
        Behaviour::Serve => {
            let keys = state.keys.lock().unwrap().clone();
            Response::new(Body::from(json!({ "keys": keys }).to_string()))
        }
        Behaviour::Fail(status) => {
            let mut r = Response::new(Body::from("unavailable"));
            *r.status_mut() = status;
            return r;
        }
        Behaviour::Huge => {
            // The published keys, padded past 10 MB: only a size limit keeps them out.
            let keys = state.keys.lock().unwrap().clone();
            let head = json!({ "keys": keys }).to_string();
            let (open, close) = head.split_at(head.len() - 1);
            let chunk = bytes::Bytes::from(vec![b' '; 64 * 1024]);
            let chunks = std::iter::once(bytes::Bytes::from(open.to_owned()))
                .chain(std::iter::repeat_n(chunk, 160))
                .chain(std::iter::once(bytes::Bytes::from(close.to_owned())))
                .map(Ok::<_, std::io::Error>);
            Response::new(Body::from_stream(futures_util::stream::iter(chunks)))
        }
        Behaviour::Redirect(to) => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::FOUND;
            r.headers_mut()
                .insert(header::LOCATION, HeaderValue::from_str(&to).unwrap());
            return r;
        }
    };
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(cc) = state.cache_control.lock().unwrap().as_deref() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_str(cc).unwrap());
    }
    response
}

impl JwksServer {
    pub async fn start() -> Self {
        let state = Arc::new(ServerState {
            keys: Mutex::new(Vec::new()),
            cache_control: Mutex::new(None),
            behaviour: Mutex::new(Behaviour::Serve),
            fetches: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/keys", get(answer))
            .route("/moved", get(answer_moved))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, state, task }
    }

    /// The JWKS URL to configure.
    pub fn url(&self) -> String {
        format!("{}/keys", self.base)
    }

    /// Publishes exactly these keys.
    pub fn publish(&self, keys: &[&TestSigningKey]) {
        *self.state.keys.lock().unwrap() = keys.iter().map(|k| k.jwk()).collect();
    }

    /// Publishes these JWKs as given.
    pub fn publish_raw(&self, keys: Vec<Value>) {
        *self.state.keys.lock().unwrap() = keys;
    }

    pub fn set_cache_control(&self, value: Option<&str>) {
        *self.state.cache_control.lock().unwrap() = value.map(str::to_owned);
    }

    pub fn behave(&self, behaviour: Behaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
    }

    /// Requests received so far.
    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }
}
