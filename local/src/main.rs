//! `filegate-local`: the whole API on 127.0.0.1:3000 against an embedded moto emulator.
//!
//! ```text
//! filegate-local                      serve (starts moto unless AWS_ENDPOINT_URL is set)
//! filegate-local token [ORG] [SUB] [SCOPE]   print a token for the local secret
//! filegate-local openapi              print the OpenAPI document
//! ```

// A command-line tool: printing to the terminal is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;

use filegate_local::emulator::Emulator;
use filegate_local::{Deployment, LOCAL_DEFAULTS, mint_token};
use filegate_store::config::{AuthConfig, Config};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn setting(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| {
            LOCAL_DEFAULTS
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(),
        Some("token") => {
            let arg = |i: usize, default: &'static str| args.get(i).map_or(default, String::as_str);
            let secret = setting("FILEGATE_JWT_SECRET").unwrap_or_default();
            let scope = args.get(3).map(String::as_str);
            println!(
                "{}",
                mint_token(&secret, arg(1, "acme"), arg(2, "user_1"), scope, 24 * 3600)
            );
            Ok(())
        }
        Some("openapi") => {
            println!(
                "{}",
                serde_json::to_string_pretty(&filegate_local::openapi())?
            );
            Ok(())
        }
        Some(other) => {
            Err(format!("unknown command {other:?}; use serve, token or openapi").into())
        }
    }
}

fn serve() -> Result<(), Error> {
    // An emulator the user runs (LocalStack, their own moto) wins over the embedded one.
    let mut emulator = match setting("AWS_ENDPOINT_URL") {
        Some(_) => None,
        None => Some(Emulator::start(&Emulator::default_python())?),
    };
    if let Some(emulator) = &mut emulator {
        // Without it every request would be a 503 forever: stop, and say why.
        emulator.on_exit(|| {
            eprintln!("filegate-local: the embedded emulator (moto) exited; stopping");
            std::process::exit(1);
        });
    }
    let auth = AuthConfig::from_lookup(setting)?;
    let endpoint = emulator.as_ref().map(|e| e.endpoint().to_owned());
    let config = Config::from_lookup(|name| match (name, &endpoint) {
        ("AWS_ENDPOINT_URL", Some(endpoint)) => Some(endpoint.clone()),
        _ => setting(name),
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(config, auth));
    drop(emulator); // stops moto
    result
}

async fn run(config: Config, auth: AuthConfig) -> Result<(), Error> {
    filegate_core::telemetry::init();
    let addr: SocketAddr = setting("FILEGATE_LOCAL_ADDR")
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned())
        .parse()?;
    let queue =
        setting("FILEGATE_LOCAL_QUEUE").unwrap_or_else(|| "filegate-upload-events".to_owned());
    let endpoint = config.endpoint_url.clone().unwrap_or_default();
    let deployment = Deployment::create(config, &auth, &queue).await?;
    deployment.spawn_event_poller();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // The port the OS gave, when FILEGATE_LOCAL_ADDR asked for port 0.
    let addr = listener.local_addr()?;
    let token = mint_token(auth.jwt_secret.expose(), "acme", "user_1", None, 24 * 3600);
    eprintln!(
        "\nfilegate is listening on http://{addr} (emulator: {endpoint})\n\
         A token for org 'acme', valid 24 h:\n\n  export TOKEN={token}\n\n\
         More tokens: cargo run -q -p filegate-local -- token <org> <user> [scope]\n\
         OpenAPI: http://{addr}/openapi.json   Stop: Ctrl-C (or SIGTERM)\n"
    );
    let app = filegate_local::app(deployment.state.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop_requested())
    .await?;
    Ok(())
}

/// Ctrl-C (SIGINT) or SIGTERM: either stops the server, and then the emulator with it.
async fn stop_requested() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler can be installed");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
