//! The local AWS emulator: moto in server mode, on 127.0.0.1 and a port the OS picks.
//!
//! moto runs inside a small Python launcher that prints the port once it listens and exits by
//! itself when its parent goes away, so neither Ctrl-C nor a killed test run leaves it behind.
//! The launcher also gives moto's DynamoDB the request atomicity the real service has (see
//! `LAUNCHER`), which the exactly-one-transition guarantees are tested against.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const LAUNCHER: &str = r#"
import os, threading, time
from werkzeug.serving import make_server
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication, MotoRequestHandler, create_backend_app)

moto = DomainDispatcherApplication(create_backend_app)
dynamodb = threading.Lock()

def app(environ, start_response):
    # DynamoDB applies each request, a transaction above all, atomically; moto checks and
    # writes without a lock, so two racing transactions could both pass their conditions.
    # Its DynamoDB requests therefore run one at a time; S3 and SQS stay concurrent.
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
        with dynamodb:
            return list(moto(environ, start_response))
    return moto(environ, start_response)

server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("PORT", server.server_port, flush=True)
parent = os.getppid()
while os.getppid() == parent:
    time.sleep(0.5)
"#;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("could not start {python} (run the README's setup first, or set FILEGATE_MOTO_PYTHON)")]
    Spawn {
        python: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the emulator exited before it was ready (is moto[server] installed in {python}?)")]
    NotReady { python: String },
}

/// A running emulator; dropping it stops it.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    endpoint: String,
}

impl Emulator {
    /// The Python that has moto: `FILEGATE_MOTO_PYTHON`, else `<workspace>/.venv/bin/python`.
    pub fn default_python() -> PathBuf {
        std::env::var_os("FILEGATE_MOTO_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"))
    }

    /// Starts moto and waits until it listens.
    pub fn start(python: &Path) -> Result<Self, EmulatorError> {
        let python_name = python.display().to_string();
        let mut child = Command::new(python)
            .args(["-c", LAUNCHER])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // moto logs every request; keep the terminal for filegate's own logs.
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| EmulatorError::Spawn {
                python: python_name.clone(),
                source,
            })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut first_line = String::new();
        let read = BufReader::new(stdout).read_line(&mut first_line);
        let port = first_line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse::<u16>().ok());
        match (read, port) {
            (Ok(_), Some(port)) => Ok(Self {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
            }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(EmulatorError::NotReady {
                    python: python_name,
                })
            }
        }
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
