//! An RSA key on disk for trying JWKS verification locally: `filegate-local jwks PATH`
//! prints its public half as a JWKS (creating the key first), and `filegate-local token --key
//! PATH` signs RS256 tokens with it. Development only: the key file is unencrypted.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A 2048-bit RSA key and its `kid`.
pub struct DevSigningKey {
    key: RsaPrivateKey,
    kid: String,
}

impl DevSigningKey {
    /// The key at `path` (PKCS#8 PEM, as `openssl genpkey -algorithm RSA` writes it).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let pem = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "{}: {e} (create it with: filegate-local jwks {0})",
                path.display()
            )
        })?;
        let key = RsaPrivateKey::from_pkcs8_pem(&pem)
            .map_err(|e| format!("{}: not a PKCS#8 RSA private key: {e}", path.display()))?;
        Ok(Self::from_key(key))
    }

    /// The key at `path`, created there first if there is none.
    pub fn load_or_create(path: &Path) -> Result<Self, Error> {
        if path.exists() {
            return Self::load(path);
        }
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, key.to_pkcs8_pem(LineEnding::LF)?.as_bytes())?;
        Ok(Self::from_key(key))
    }

    fn from_key(key: RsaPrivateKey) -> Self {
        let kid = thumbprint(&key.to_public_key());
        Self { key, kid }
    }

    /// The RFC 7638 thumbprint: the same key always has the same `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `{"keys": [...]}` with the public key, as a provider publishes it.
    pub fn jwks(&self) -> Value {
        let public = self.key.to_public_key();
        json!({"keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": BASE64URL.encode(public.n().to_bytes_be()),
            "e": BASE64URL.encode(public.e().to_bytes_be()),
        }]})
    }

    /// An RS256 token of `claims`, naming this key.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, Error> {
        let der = self.key.to_pkcs1_der()?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
        )?)
    }
}

fn thumbprint(public: &RsaPublicKey) -> String {
    // Members in lexicographic order, no whitespace (RFC 7638 §3).
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        BASE64URL.encode(public.e().to_bytes_be()),
        BASE64URL.encode(public.n().to_bytes_be())
    );
    BASE64URL.encode(Sha256::digest(canonical.as_bytes()))
}
