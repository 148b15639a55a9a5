//! The TLS settings of filegate's own HTTPS clients (the streaming proxy's, the JWKS fetch's):
//! rustls on ring, the stack the AWS SDK already links, with roots compiled in so that a cold
//! start reads and parses no system CA bundle.

use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use crate::clients::AMAZON_TRUST_SERVICES_ROOTS;

/// Which compiled-in roots a client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompiledRoots {
    /// Amazon Trust Services only: S3 and the other AWS endpoints chain to them.
    AmazonTrustServices,
    /// Mozilla's root program (the `webpki-roots` crate): an identity provider's host may
    /// chain to any public CA.
    Mozilla,
}

/// A client config trusting `roots`, and the system's roots too when `native_roots`
/// (`FILEGATE_TLS_NATIVE_ROOTS`: a private CA, a TLS-intercepting proxy).
pub fn client_config(roots: CompiledRoots, native_roots: bool) -> rustls::ClientConfig {
    let mut store = rustls::RootCertStore::empty();
    match roots {
        CompiledRoots::AmazonTrustServices => {
            for cert in CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_ROOTS) {
                store
                    .add(cert.expect("the compiled-in roots are valid PEM"))
                    .expect("the compiled-in roots are valid certificates");
            }
        }
        CompiledRoots::Mozilla => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    if native_roots {
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::warn!(%error, "could not read a system CA certificate");
        }
        let (added, ignored) = store.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "system CA roots");
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(store)
        .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_compiled_in_root_sets_build_a_tls_config() {
        for roots in [CompiledRoots::AmazonTrustServices, CompiledRoots::Mozilla] {
            let config = client_config(roots, false);
            assert!(config.alpn_protocols.is_empty());
        }
        // Mozilla's set is the public web's, the Amazon one five roots.
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
    }
}
