use filegate_http::AppState;
use filegate_proxy_client::PresignedProxy;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    filegate_core::telemetry::init();
    // Config, AWS clients and the proxy's HTTPS client are built once per container.
    let state = AppState::from_env().await?;
    let proxy = PresignedProxy::from_config(&state.config);
    let app = state.serve(filegate_proxy::router(state.clone(), proxy));
    // Streamed, not buffered: bodies go out as S3 sends them (up to Lambda's 200 MB).
    lambda_http::run_with_streaming_response(app).await
}
