//! Creates what the SAM template creates in AWS: the table, the upload-events queue with its
//! dead-letter queue, and the bucket with CORS and `ObjectCreated` notifications to the queue.
//! Used by the local API and by every test (each test gets its own set).

use aws_config::SdkConfig;
use aws_sdk_s3::types::{
    CorsConfiguration, CorsRule, Event, NotificationConfiguration, QueueConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;
use filegate_store::MetadataStore;
use filegate_store::clients::s3_client;
use filegate_store::config::Config;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Failed to create one of the local resources.
#[derive(Debug, thiserror::Error)]
#[error("could not create the {resource}")]
pub struct ProvisionError {
    resource: &'static str,
    #[source]
    source: BoxError,
}

fn failed<E: Into<BoxError>>(resource: &'static str) -> impl FnOnce(E) -> ProvisionError {
    move |e| ProvisionError {
        resource,
        source: e.into(),
    }
}

/// Creates everything and returns the queue URL. Failed deliveries of a message go to the
/// dead-letter queue after five receives, as in the template.
pub async fn provision(
    sdk: &SdkConfig,
    config: &Config,
    queue_name: &str,
) -> Result<String, ProvisionError> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let s3 = s3_client(sdk, config);
    let sqs = aws_sdk_sqs::Client::new(sdk);

    MetadataStore::create_table(&dynamodb, &config.table)
        .await
        .map_err(failed("table"))?;

    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("{queue_name}-dlq"))
        .send()
        .await
        .map_err(failed("dead-letter queue"))?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = queue_arn(&sqs, &dlq_url).await?;
    let queue_url = sqs
        .create_queue()
        .queue_name(queue_name)
        // Short, so that a failed message comes back quickly while developing.
        .attributes(QueueAttributeName::VisibilityTimeout, "5")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#),
        )
        .send()
        .await
        .map_err(failed("upload-events queue"))?
        .queue_url
        .unwrap_or_default();
    let queue_arn = queue_arn(&sqs, &queue_url).await?;

    s3.create_bucket()
        .bucket(&config.bucket)
        .send()
        .await
        .map_err(failed("bucket"))?;
    if !config.cors_allowed_origins.is_empty() {
        let rule = CorsRule::builder()
            .set_allowed_origins(Some(config.cors_allowed_origins.clone()))
            .allowed_methods("PUT")
            .allowed_methods("GET")
            .allowed_methods("HEAD")
            .allowed_headers("*")
            .expose_headers("ETag")
            .max_age_seconds(3000)
            .build()
            .map_err(failed("bucket CORS rule"))?;
        s3.put_bucket_cors()
            .bucket(&config.bucket)
            .cors_configuration(
                CorsConfiguration::builder()
                    .cors_rules(rule)
                    .build()
                    .map_err(failed("bucket CORS"))?,
            )
            .send()
            .await
            .map_err(failed("bucket CORS"))?;
    }
    let notification = QueueConfiguration::builder()
        .id("filegate-object-created")
        .queue_arn(queue_arn)
        .events(Event::S3ObjectCreated)
        .build()
        .map_err(failed("bucket notification"))?;
    s3.put_bucket_notification_configuration()
        .bucket(&config.bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(notification)
                .build(),
        )
        .send()
        .await
        .map_err(failed("bucket notification"))?;
    Ok(queue_url)
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, ProvisionError> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(failed("queue ARN lookup"))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| failed("queue ARN lookup")("no QueueArn attribute"))
}
