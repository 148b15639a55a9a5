//! AWS SDK clients, built once per process (per Lambda container) and shared by every request.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig, timeout::TimeoutConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::time::SharedTimeSource;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::config::Config;

/// The roots AWS service endpoints chain to (Amazon Root CA 1–4, Starfield Services G2).
/// Compiled in so that a cold start reads and parses no system CA bundle (measured: that was
/// most of the SDK's default client build time).
pub const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// The clients every function may use.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
}

impl AwsClients {
    pub async fn from_config(config: &Config) -> Self {
        let sdk = sdk_config(config).await;
        Self::from_sdk_config(&sdk, config)
    }

    pub fn from_sdk_config(sdk: &SdkConfig, config: &Config) -> Self {
        Self {
            s3: s3_client(sdk, config),
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
        }
    }
}

/// Shared SDK settings: explicit region, one lean HTTPS client, bounded timeouts, and
/// `AWS_ENDPOINT_URL` when an emulator is used.
///
/// In Lambda the function role's credentials are always in the environment, so the config is
/// assembled directly around them: aws-config's provider chains (profile files, SSO, web
/// identity, ECS, IMDS) cost most of a millisecond of cold start and would never be used.
/// Anywhere else the default chain applies.
pub async fn sdk_config(config: &Config) -> SdkConfig {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let env_credentials = std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
    if in_lambda && env_credentials {
        lambda_sdk_config(config)
    } else {
        loader(config).load().await
    }
}

/// The same settings with fixed dummy credentials, for a local emulator: nothing looks for
/// real credentials (no profile files, no instance metadata endpoint).
pub async fn emulator_sdk_config(config: &Config) -> SdkConfig {
    loader(config)
        .credentials_provider(aws_credential_types::Credentials::new(
            "test",
            "test",
            None,
            None,
            "filegate-emulator",
        ))
        .load()
        .await
}

fn timeouts(config: &Config) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3).min(config.aws_attempt_timeout))
        .operation_attempt_timeout(config.aws_attempt_timeout)
        .operation_timeout(config.aws_operation_timeout)
        .build()
}

fn loader(config: &Config) -> aws_config::ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(config.region.clone()))
        .http_client(https_client(config.tls_native_roots))
        .timeout_config(timeouts(config));
    if let Some(endpoint) = &config.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader
}

fn lambda_sdk_config(config: &Config) -> SdkConfig {
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(config.region.clone()))
        .credentials_provider(SharedCredentialsProvider::new(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        ))
        .http_client(https_client(config.tls_native_roots))
        .timeout_config(timeouts(config))
        .retry_config(RetryConfig::standard())
        .time_source(SharedTimeSource::default());
    if let Some(sleep) = aws_smithy_async::rt::sleep::default_async_sleep() {
        builder = builder.sleep_impl(sleep);
    }
    if let Some(endpoint) = &config.endpoint_url {
        builder = builder.endpoint_url(endpoint);
    }
    builder.build()
}

/// S3 client: path-style against emulators (their hosts have no bucket sub-domains); checksums
/// only where S3 requires them, so presigned URLs carry no checksum the client cannot know.
pub fn s3_client(sdk: &SdkConfig, config: &Config) -> aws_sdk_s3::Client {
    let s3_config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(config.endpoint_url.is_some())
        .request_checksum_calculation(aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

fn https_client(native_roots: bool) -> SharedHttpClient {
    let trust_store = TrustStore::empty()
        .with_native_roots(native_roots)
        .with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS);
    let tls_context = TlsContext::builder()
        .with_trust_store(trust_store)
        .build()
        .expect("the compiled-in trust store is valid");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls_context)
        .build_https()
}
