use filegate_http::AppState;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    filegate_core::telemetry::init();
    // Config and AWS clients are built once per container, never per request.
    let state = AppState::from_env().await?;
    lambda_http::run(state.serve(filegate_metadata::router(state.clone()))).await
}
