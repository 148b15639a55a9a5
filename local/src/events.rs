//! Stands in for Lambda's SQS event source mapping: long-polls the upload-events queue and
//! hands each batch to the same handler the `auto-finalize` Lambda runs, deleting only the
//! messages it did not report as failed. Like the mapping, which starts with five concurrent
//! batches, it runs [`POLLERS`] of them, so a burst of uploads does not queue up behind one.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use filegate_core::FileService;
use filegate_domain::error::ErrorChain;

/// Batches handled at once.
pub const POLLERS: usize = 5;

pub async fn poll_upload_events(sqs: aws_sdk_sqs::Client, queue_url: String, files: FileService) {
    let pollers: Vec<_> = (0..POLLERS)
        .map(|_| tokio::spawn(poll(sqs.clone(), queue_url.clone(), files.clone())))
        .collect();
    for poller in pollers {
        let _ = poller.await;
    }
}

async fn poll(sqs: aws_sdk_sqs::Client, queue_url: String, files: FileService) {
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %ErrorChain(&e), "receiving upload events failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let mut event = SqsEvent::default();
        event.records = messages
            .iter()
            .map(|m| {
                let mut record = SqsMessage::default();
                record.message_id.clone_from(&m.message_id);
                record.receipt_handle.clone_from(&m.receipt_handle);
                record.body.clone_from(&m.body);
                record.md5_of_body.clone_from(&m.md5_of_body);
                record.event_source = Some("aws:sqs".to_owned());
                record
            })
            .collect();
        let response = filegate_finalize::events::handle_sqs(&files, event).await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| !failed.contains(&m.message_id.as_deref().unwrap_or_default()))
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .set_receipt_handle(m.receipt_handle.clone())
                    .build()
                    .ok()
            })
            .collect();
        if done.is_empty() {
            continue;
        }
        if let Err(e) = sqs
            .delete_message_batch()
            .queue_url(&queue_url)
            .set_entries(Some(done))
            .send()
            .await
        {
            // The messages come back and are finalized again, which is harmless.
            tracing::warn!(error = %ErrorChain(&e), "deleting handled upload events failed");
        }
    }
}
