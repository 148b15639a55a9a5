//! `filegate-local`: the whole API on 127.0.0.1:3000 against an embedded moto emulator.
//!
//! ```text
//! filegate-local                      serve (starts moto unless AWS_ENDPOINT_URL is set)
//! filegate-local sweep                one sweep of the deployment AWS_ENDPOINT_URL (or AWS) holds
//! filegate-local token [ORG] [SUB] [SCOPE]   print an HS256 token for the local secret
//! filegate-local token --key PATH [ORG] [SUB] [SCOPE]   print an RS256 token signed by PATH
//! filegate-local jwks PATH            print the JWKS of the RSA key at PATH (created if absent)
//! filegate-local openapi              print the OpenAPI document
//! ```

// A command-line tool: printing to the terminal is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;

use filegate_local::dev_signing_key::DevSigningKey;
use filegate_local::emulator::Emulator;
use filegate_local::{DEV_ISSUER, Deployment, dev_claims_from, local_setting, mint_token};
use filegate_store::config::{AuthConfig, Config};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn setting(name: &str) -> Option<String> {
    local_setting(|n| std::env::var(n).ok(), name)
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(),
        Some("sweep") => sweep(),
        Some("token") => token(&args[1..]),
        Some("jwks") => {
            let path = args
                .get(1)
                .ok_or("usage: filegate-local jwks PATH (an RSA key, created if absent)")?;
            let key = DevSigningKey::load_or_create(std::path::Path::new(path))?;
            println!("{}", serde_json::to_string_pretty(&key.jwks())?);
            Ok(())
        }
        Some("openapi") => {
            println!(
                "{}",
                serde_json::to_string_pretty(&filegate_local::openapi())?
            );
            Ok(())
        }
        Some(other) => Err(format!(
            "unknown command {other:?}; use serve, sweep, token, jwks or openapi"
        )
        .into()),
    }
}

/// `token [--key PATH] [ORG] [SUB] [SCOPE]`: HS256 with the local secret, or RS256 with the
/// key `filegate-local jwks PATH` created.
fn token(args: &[String]) -> Result<(), Error> {
    let (key, rest) = match args {
        [flag, path, rest @ ..] if flag == "--key" => (Some(path.as_str()), rest),
        rest => (None, rest),
    };
    let arg = |i: usize, default: &'static str| rest.get(i).map_or(default, String::as_str);
    let (org, sub, scope) = (
        arg(0, "acme"),
        arg(1, "user_1"),
        rest.get(2).map(String::as_str),
    );
    let token = match key {
        Some(path) => {
            let issuer = setting("FILEGATE_JWT_ISSUER").unwrap_or_else(|| DEV_ISSUER.to_owned());
            DevSigningKey::load(std::path::Path::new(path))?.sign(&dev_claims_from(
                org,
                sub,
                scope,
                24 * 3600,
                Some(&issuer),
            ))?
        }
        None => {
            let secret = setting("FILEGATE_JWT_SECRET").ok_or(
                "FILEGATE_JWT_JWKS_URL is set and FILEGATE_JWT_SECRET is not: the local API \
                 takes only JWKS tokens; use token --key PATH",
            )?;
            mint_token(&secret, org, sub, scope, 24 * 3600)
        }
    };
    println!("{token}");
    Ok(())
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

/// One sweep, now, of the table and bucket the settings name: those of a running local API
/// (its banner prints the emulator's endpoint) or of a deployment in AWS.
fn sweep() -> Result<(), Error> {
    let config = Config::from_lookup(setting)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        filegate_core::telemetry::init();
        // An emulator takes any credentials; AWS gets the usual chain.
        let clients = match config.endpoint_url {
            Some(_) => {
                let sdk = filegate_store::clients::emulator_sdk_config(&config).await;
                filegate_store::clients::AwsClients::from_sdk_config(&sdk, &config)
            }
            None => filegate_store::clients::AwsClients::from_config(&config).await,
        };
        let files = filegate_core::FileService::from_config(&config, &clients);
        let origin = filegate_domain::audit::RequestOrigin {
            request_id: format!("sweep_{}", filegate_domain::ids::next_ulid()),
            ..Default::default()
        };
        let report = files
            .sweep(
                &origin,
                filegate_domain::timestamp::Timestamp::now(),
                usize::MAX,
            )
            .await;
        println!("{report}");
        Ok(())
    })
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
    let sweep_every: u64 = setting("FILEGATE_LOCAL_SWEEP_SECS")
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(60);
    deployment.spawn_sweeper(std::time::Duration::from_secs(sweep_every.max(1)));
    let stop = stop_requested()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // The port the OS gave, when FILEGATE_LOCAL_ADDR asked for port 0.
    let addr = listener.local_addr()?;
    let tokens = match (&auth.jwt_secret, &auth.jwks) {
        (Some(secret), _) => format!(
            "A token for org 'acme', valid 24 h:\n\n  export TOKEN={}\n\n\
             More tokens: cargo run -q -p filegate-local -- token <org> <user> [scope]",
            mint_token(secret.expose(), "acme", "user_1", None, 24 * 3600)
        ),
        (None, Some(jwks)) => format!(
            "Tokens: signed by the keys at {} (JWKS only: no HS256 secret).\n\
             A development key's: cargo run -q -p filegate-local -- token --key <key.pem> <org> <user> [scope]",
            jwks.url
        ),
        (None, None) => String::new(),
    };
    eprintln!(
        "\nfilegate is listening on http://{addr} (emulator: {endpoint})\n{tokens}\n\
         OpenAPI: http://{addr}/openapi.json   Stop: Ctrl-C (or SIGTERM)\n"
    );
    let app = filegate_local::app(deployment.state.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await?;
    Ok(())
}

/// Ctrl-C (SIGINT) or SIGTERM: either stops the server, and then the emulator with it. The
/// handlers are in place once this returns (before the banner says the server is up), the
/// future resolves on the first of the two.
fn stop_requested() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}
