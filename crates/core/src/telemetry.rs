//! Logs: JSON lines (CloudWatch-friendly) carrying the request id of the span they are in.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// Installs the global subscriber. `FILEGATE_LOG` sets the filter (`info` by default, e.g.
/// `filegate=debug,info`); `FILEGATE_LOG_FORMAT=text` prints human-readable lines instead.
pub fn init() {
    let filter = std::env::var("FILEGATE_LOG")
        .ok()
        .and_then(|f| f.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let text = std::env::var("FILEGATE_LOG_FORMAT").is_ok_and(|f| f == "text");
    let registry = tracing_subscriber::registry().with(filter);
    let result = if text {
        registry.with(tracing_subscriber::fmt::layer()).try_init()
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_ansi(false),
            )
            .try_init()
    };
    // A second init (tests) keeps the first subscriber.
    drop(result);
}
