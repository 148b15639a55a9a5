//! The S3-event finalizer Lambda (SQS batches, or direct S3 events).

use filegate_core::FileService;
use filegate_store::clients::AwsClients;
use filegate_store::config::Config;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    filegate_core::telemetry::init();
    // Config and AWS clients are built once per container, never per request. No caller is
    // ever authenticated here, so the JWT secret is not loaded.
    let config = Config::from_env()?;
    let files = FileService::from_config(&config, &AwsClients::from_config(&config).await);
    let files = &files;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        filegate_finalize::events::handle(files, event.payload, &event.context.request_id).await
    }))
    .await
}
