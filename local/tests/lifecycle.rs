//! `filegate-local` and its embedded emulator live and die together: a signal to the API
//! stops the emulator too, and an emulator that dies stops the API with an error.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `filegate-local` on a free port, and the lines it writes to stderr.
struct Local {
    child: Child,
    stderr: mpsc::Receiver<String>,
    base: String,
}

fn start() -> Local {
    let mut child = Command::new(env!("CARGO_BIN_EXE_filegate-local"))
        .env("FILEGATE_LOCAL_ADDR", "127.0.0.1:0")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("filegate-local starts");
    let (tx, stderr) = mpsc::channel();
    let pipe = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in pipe.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut said = Vec::new();
    let base = loop {
        let line = stderr
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|e| {
                panic!("filegate-local did not say where it listens within 60 s ({e}): {said:#?}")
            });
        said.push(line.clone());
        if let Some(rest) = line.strip_prefix("filegate is listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    Local {
        child,
        stderr,
        base,
    }
}

impl Local {
    /// The emulator: the one child process of `filegate-local`.
    fn emulator_pid(&self) -> u32 {
        let parent = self.child.id();
        let children: Vec<u32> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| parent_of(*pid) == Some(parent))
            .collect();
        assert_eq!(
            children.len(),
            1,
            "children of filegate-local: {children:?}"
        );
        children[0]
    }

    /// The exit status within `limit`, or a failed test.
    fn exit_within(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn answers(&self) -> bool {
        let addr = self.base.trim_start_matches("http://");
        std::net::TcpStream::connect(addr).is_ok()
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The parent pid from `/proc/<pid>/stat` (its fourth field, after the parenthesised name).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

fn is_gone(pid: u32) -> bool {
    // A zombie has exited; only its parent's wait is missing.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat[stat.rfind(')').unwrap() + 1..]
            .trim_start()
            .starts_with('Z'),
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

fn wait_until_gone(pid: u32, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !is_gone(pid) {
        assert!(
            Instant::now() < deadline,
            "process {pid} still alive after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_and_sigint_stop_the_api_and_its_emulator() {
    for name in ["TERM", "INT"] {
        let mut local = start();
        assert!(local.answers());
        let emulator = local.emulator_pid();
        signal(local.child.id(), name);
        let status = local.exit_within(Duration::from_secs(15));
        assert!(status.success(), "SIG{name}: {status}");
        wait_until_gone(emulator, Duration::from_secs(5));
    }
}

#[test]
fn a_dead_emulator_stops_the_api_with_an_error() {
    let mut local = start();
    let emulator = local.emulator_pid();
    signal(emulator, "KILL");
    let status = local.exit_within(Duration::from_secs(15));
    assert!(!status.success(), "{status}");
    let said: Vec<String> = local.stderr.try_iter().collect();
    assert!(
        said.iter()
            .any(|l| l.contains("emulator") && l.contains("exited")),
        "{said:#?}"
    );
}

#[test]
fn a_killed_api_does_not_leave_its_emulator_behind() {
    let mut local = start();
    let emulator = local.emulator_pid();
    signal(local.child.id(), "KILL");
    local.exit_within(Duration::from_secs(5));
    wait_until_gone(emulator, Duration::from_secs(5));
}
