//! The local AWS emulator: moto in server mode, on 127.0.0.1 and a port the OS picks.
//!
//! moto runs inside a small Python launcher (`moto_launcher.py`) that prints the port once it
//! listens and dies with its parent, so neither a signal nor a killed test run leaves it
//! behind. The launcher also makes moto's DynamoDB behave as the real service does where
//! filegate depends on it (atomic requests, rollbacks that cost what a transaction touches).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// moto with the fixes filegate's tests depend on; see the file itself.
const LAUNCHER: &str = include_str!("moto_launcher.py");

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
    /// The launcher's stdout: it ends when the launcher does.
    stdout: Option<BufReader<ChildStdout>>,
    /// Set when we stop it, which is not an exit to report.
    stopping: Arc<AtomicBool>,
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
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut first_line = String::new();
        let read = stdout.read_line(&mut first_line);
        let port = first_line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse::<u16>().ok());
        match (read, port) {
            (Ok(_), Some(port)) => Ok(Self {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
                stdout: Some(stdout),
                stopping: Arc::default(),
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

    /// Calls `on_exit` (on a thread of its own) when the emulator exits by itself: killed,
    /// out of memory, crashed. An API whose emulator is gone can only answer 503, so its
    /// owner should stop and say so. Only the first call watches.
    pub fn on_exit(&mut self, on_exit: impl FnOnce() + Send + 'static) {
        let Some(mut stdout) = self.stdout.take() else {
            return;
        };
        let stopping = Arc::clone(&self.stopping);
        std::thread::spawn(move || {
            let mut sink = [0u8; 256];
            while matches!(stdout.read(&mut sink), Ok(n) if n > 0) {}
            if !stopping.load(Ordering::SeqCst) {
                on_exit();
            }
        });
    }

    /// The launcher's process id (to pause or kill it in fault tests).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
