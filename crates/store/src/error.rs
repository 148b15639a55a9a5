//! A failed call to DynamoDB or S3: which operation, whether it is worth a retry, and the
//! SDK's error for the log. Clients only ever see a generic message.

use filegate_domain::error::{DomainError, ErrorChain};

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
    TagObject,
    CreateMultipartUpload,
    PresignPart,
    ListParts,
    CompleteMultipartUpload,
    AbortMultipartUpload,
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
            Self::TagObject => "changing the object's tags",
            Self::CreateMultipartUpload => "starting the multipart upload",
            Self::PresignPart => "presigning the part URLs",
            Self::ListParts => "listing the uploaded parts",
            Self::CompleteMultipartUpload => "completing the multipart upload",
            Self::AbortMultipartUpload => "aborting the multipart upload",
        })
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

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
                        // A single-item write of an item a transaction holds.
                        | "TransactionConflictException"
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

/// A transient failure is `503 storage_unavailable` (retry with backoff); anything else is a
/// fault of ours, logged with its cause and shown as `internal_error`.
impl From<StorageError> for DomainError {
    fn from(e: StorageError) -> Self {
        if e.transient {
            tracing::warn!(error = %ErrorChain(&e), "transient storage failure");
            DomainError::unavailable(
                "storage_unavailable",
                "storage is busy or unreachable; retry with backoff",
            )
        } else {
            DomainError::internal(&e)
        }
    }
}
