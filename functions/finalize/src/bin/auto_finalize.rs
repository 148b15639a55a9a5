//! The S3-event finalizer Lambda (SQS batches, or direct S3 events).

use filegate_shared::http::AppState;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    filegate_shared::telemetry::init();
    // Config and AWS clients are built once per container, never per request.
    let state = AppState::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let state = state.clone();
        async move {
            filegate_finalize::events::handle(&state, event.payload, &event.context.request_id)
                .await
        }
    }))
    .await
}
