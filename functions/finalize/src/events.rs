//! Finalize driven by S3 `ObjectCreated` events, so that uploads whose client never called
//! finalize still become `uploaded`.
//!
//! Production path: S3 → SQS (with a dead-letter queue) → Lambda, answering with partial
//! batch failures so only the messages that hit a transient error are retried. Direct S3 →
//! Lambda invocations are accepted too.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use filegate_core::FileService;
use filegate_core::finalize::ObjectFinalized;
use filegate_domain::audit::RequestOrigin;
use filegate_domain::error::ErrorChain;
use serde::Deserialize;
use serde_json::Value;
use tracing::Instrument as _;

/// The part of an S3 event notification finalize reads. (aws_lambda_events' `S3Event` also
/// requires `eventTime`, `userIdentity` and `requestParameters`, which emulators leave out; a
/// notification without them is still one we can act on.)
#[derive(Debug, Deserialize)]
pub struct S3Notification {
    #[serde(rename = "Records")]
    pub records: Vec<S3Record>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Record {
    #[serde(default)]
    pub event_name: Option<String>,
    pub s3: S3Entity,
}

#[derive(Debug, Deserialize)]
pub struct S3Entity {
    pub bucket: S3Bucket,
    pub object: S3Object,
}

#[derive(Debug, Deserialize)]
pub struct S3Bucket {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct S3Object {
    pub key: String,
}

/// A record we could not finish and that is worth retrying (storage throttled or down).
#[derive(Debug, thiserror::Error)]
#[error("{0} event record(s) hit a transient failure and should be retried")]
pub struct RetryLater(usize);

/// Entry point for the Lambda: an SQS batch or a direct S3 event.
pub async fn handle(
    files: &FileService,
    payload: Value,
    request_id: &str,
) -> Result<Value, lambda_runtime::Error> {
    let source = payload
        .pointer("/Records/0/eventSource")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match source {
        "aws:sqs" => {
            let event: SqsEvent = serde_json::from_value(payload)?;
            let response = handle_sqs(files, event).await;
            Ok(serde_json::to_value(response)?)
        }
        "aws:s3" => {
            let event: S3Notification = serde_json::from_value(payload)?;
            let failed = finalize_records(files, &event.records, request_id).await;
            if failed > 0 {
                // Lambda retries asynchronous invocations that fail.
                return Err(RetryLater(failed).into());
            }
            Ok(Value::Null)
        }
        // Nothing to retry: an empty or foreign payload will not get better.
        _ => {
            tracing::warn!("ignoring an event that is neither SQS nor S3");
            Ok(Value::Null)
        }
    }
}

/// Processes an SQS batch; a message fails (and is retried, then dead-lettered) only when
/// one of its records hit a transient error or its body is not an S3 notification.
pub async fn handle_sqs(files: &FileService, event: SqsEvent) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for message in event.records {
        let message_id = message.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!("sqs_message", message_id);
        let ok = match parse_notification(message.body.as_deref().unwrap_or_default()) {
            Notification::Records(records) => {
                finalize_records(files, &records, &message_id)
                    .instrument(span)
                    .await
                    == 0
            }
            Notification::Test => true,
            Notification::Unreadable(reason) => {
                tracing::error!(message_id, reason, "SQS message is not an S3 notification");
                false
            }
        };
        if !ok {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

enum Notification {
    Records(Vec<S3Record>),
    /// `s3:TestEvent`, sent when the notification is configured.
    Test,
    Unreadable(String),
}

fn parse_notification(body: &str) -> Notification {
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return Notification::Unreadable(e.to_string()),
    };
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Notification::Test;
    }
    match serde_json::from_value::<S3Notification>(value) {
        Ok(event) => Notification::Records(event.records),
        Err(e) => Notification::Unreadable(e.to_string()),
    }
}

/// Finalizes the files the records name; returns how many records should be retried.
async fn finalize_records(files: &FileService, records: &[S3Record], request_id: &str) -> usize {
    let origin = RequestOrigin {
        request_id: request_id.to_owned(),
        ..RequestOrigin::default()
    };
    let mut retry = 0;
    for record in records {
        let created = record
            .event_name
            .as_deref()
            .is_some_and(|name| name.starts_with("ObjectCreated:"));
        let Some(key) = decode_event_key(&record.s3.object.key).filter(|_| created) else {
            continue;
        };
        match files
            .finalize_object(&origin, &record.s3.bucket.name, &key)
            .await
        {
            ObjectFinalized::NotOurs => {
                tracing::debug!(key, "ignoring an object filegate does not own");
            }
            ObjectFinalized::Finalized(file) => {
                tracing::info!(file = %file.id, status = %file.status, "finalized from S3 event");
            }
            ObjectFinalized::OrphanDeleted => {
                tracing::warn!(key, "deleted an object that has no file");
            }
            ObjectFinalized::Settled(e) => {
                // upload_missing, upload_mismatch, file_failed: nothing to retry.
                tracing::info!(
                    key,
                    code = e.code(),
                    "S3 event finalize settled without upload"
                );
            }
            ObjectFinalized::Retry(e) => {
                tracing::warn!(key, code = e.code(), error = %ErrorChain(&e), "S3 event finalize failed; will retry");
                retry += 1;
            }
        }
    }
    retry
}

/// S3 event keys are URL-encoded with `+` for spaces (`org%2Ffile_…` from some emulators).
pub fn decode_event_key(raw: &str) -> Option<String> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|k| k.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_are_url_decoded() {
        assert_eq!(
            decode_event_key("acme%2Ffile_01").as_deref(),
            Some("acme/file_01")
        );
        assert_eq!(decode_event_key("a+b/c%2Bd").as_deref(), Some("a b/c+d"));
        assert_eq!(
            decode_event_key("acme/file_01").as_deref(),
            Some("acme/file_01")
        );
        assert_eq!(decode_event_key("%FF"), None);
    }

    #[test]
    fn notifications_are_told_apart() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-23T12:00:00.000Z","Bucket":"b"}"#;
        assert!(matches!(parse_notification(test), Notification::Test));
        assert!(matches!(
            parse_notification("not json"),
            Notification::Unreadable(_)
        ));
        assert!(matches!(
            parse_notification("{}"),
            Notification::Unreadable(_)
        ));
        let record = include_str!("../../../events/auto-finalize/sqs-s3-object-created.json");
        let sqs: SqsEvent = serde_json::from_str(record).unwrap();
        let body = sqs.records[0].body.as_deref().unwrap();
        match parse_notification(body) {
            Notification::Records(records) => {
                assert_eq!(records[0].event_name.as_deref(), Some("ObjectCreated:Put"));
            }
            _ => panic!("an ObjectCreated notification"),
        }
    }
}
