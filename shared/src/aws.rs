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
pub(crate) const AMAZON_TRUST_SERVICES_ROOTS: &[u8] =
    include_bytes!("../certs/amazon-trust-services.pem");

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

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(20))
        .build()
}

fn loader(config: &Config) -> aws_config::ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(config.region.clone()))
        .http_client(https_client(config.tls_native_roots))
        .timeout_config(timeouts());
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
        .timeout_config(timeouts())
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

/// What filegate was doing in AWS when a call failed; the client only ever sees a generic
/// message, the log sees this and the SDK's error chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageOperation {
    GetFile,
    CreateFiles,
    ChangeFileStatus,
    ListAuditEvents,
    RecordEvent,
    ListFiles,
    UpdateFile,
    DeleteFile,
    GetFolder,
    CreateFolder,
    ListFolders,
    UpdateFolder,
    DeleteFolder,
    CreateApiKey,
    ReadApiKey,
    ListApiKeys,
    DeleteApiKey,
    PresignUpload,
    PresignDownload,
    HeadObject,
    ReadObject,
    DeleteObject,
}

impl std::fmt::Display for StorageOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::GetFile => "reading the file's metadata",
            Self::CreateFiles => "writing new files' metadata",
            Self::ChangeFileStatus => "changing the file's status",
            Self::ListAuditEvents => "reading the file's audit events",
            Self::RecordEvent => "writing the audit event",
            Self::ListFiles => "listing files",
            Self::UpdateFile => "updating the file's metadata",
            Self::DeleteFile => "deleting the file's metadata",
            Self::GetFolder => "reading the folder",
            Self::CreateFolder => "creating the folder",
            Self::ListFolders => "listing folders",
            Self::UpdateFolder => "updating the folder",
            Self::DeleteFolder => "deleting the folder",
            Self::CreateApiKey => "creating the API key",
            Self::ReadApiKey => "looking up the API key",
            Self::ListApiKeys => "listing API keys",
            Self::DeleteApiKey => "revoking the API key",
            Self::PresignUpload => "presigning the upload URL",
            Self::PresignDownload => "presigning the download URL",
            Self::HeadObject => "reading the object's metadata",
            Self::ReadObject => "reading the object",
            Self::DeleteObject => "deleting the object",
        })
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failed call to DynamoDB or S3.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed")]
pub struct StorageError {
    pub operation: StorageOperation,
    /// Throttling, timeouts and unreachable endpoints: worth a retry.
    pub transient: bool,
    #[source]
    source: BoxError,
}

impl StorageError {
    pub fn new<E, R>(
        operation: StorageOperation,
        err: aws_smithy_runtime_api::client::result::SdkError<E, R>,
    ) -> Self
    where
        E: std::error::Error
            + aws_smithy_types::error::metadata::ProvideErrorMetadata
            + Send
            + Sync
            + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        use aws_smithy_runtime_api::client::result::SdkError;
        let transient = match &err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
            SdkError::ServiceError(e) => matches!(
                e.err().code(),
                Some(
                    "ThrottlingException"
                        | "ProvisionedThroughputExceededException"
                        | "RequestLimitExceeded"
                        | "SlowDown"
                        | "ServiceUnavailable"
                        | "InternalServerError"
                        | "InternalError"
                )
            ),
            _ => false,
        };
        Self {
            operation,
            transient,
            source: Box::new(err),
        }
    }

    /// Marks a failure as worth a retry (a conflict DynamoDB reported, say).
    pub fn retryable(mut self) -> Self {
        self.transient = true;
        self
    }

    /// For failures that are not SDK errors (a broken stream, an unparseable item).
    pub fn other(operation: StorageOperation, source: impl Into<BoxError>) -> Self {
        Self {
            operation,
            transient: false,
            source: source.into(),
        }
    }
}

impl From<StorageError> for crate::error::ApiError {
    fn from(e: StorageError) -> Self {
        if e.transient {
            tracing::warn!(error = %crate::error::ErrorChain(&e), "transient storage failure");
            crate::error::ApiError::unavailable(
                "storage_unavailable",
                "storage is busy or unreachable; retry with backoff",
            )
        } else {
            crate::error::ApiError::internal(&e)
        }
    }
}
