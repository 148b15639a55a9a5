//! The sweeper Lambda, run on a schedule (EventBridge, every 15 minutes): one sweep per
//! invocation, bounded so that it ends well inside the function's timeout; what is left is
//! the next run's.

use filegate_core::FileService;
use filegate_domain::audit::RequestOrigin;
use filegate_domain::timestamp::Timestamp;
use filegate_store::clients::AwsClients;
use filegate_store::config::Config;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Rows one invocation looks at.
const BUDGET: usize = 5_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    filegate_core::telemetry::init();
    let config = Config::from_env()?;
    let files = FileService::from_config(&config, &AwsClients::from_config(&config).await);
    let files = &files;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let origin = RequestOrigin {
            request_id: event.context.request_id,
            ..RequestOrigin::default()
        };
        let report = files.sweep(&origin, Timestamp::now(), BUDGET).await;
        tracing::info!(%report, "sweep done");
        Ok::<_, lambda_runtime::Error>(json!({"report": report.to_string(), "more": report.more}))
    }))
    .await
}
