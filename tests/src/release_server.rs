//! A release `filegate-local` in its own process, for the benchmarks.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `VmHWM` of process `pid`: its peak resident set so far.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

/// A release `filegate-local serve` on a free port against a bench's emulator, with its own
/// table, bucket and queue.
pub struct Server {
    child: Child,
    pub base: String,
    /// Its table's, bucket's and queue's name.
    pub name: String,
}

impl Server {
    pub fn start(binary: &Path, emulator: &str, settings: &[(&str, String)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let name = format!(
            "bench-{}",
            std::process::id() as u64 * 1000 + u64::from(port)
        );
        let child = Command::new(binary)
            .arg("serve")
            .env("AWS_ENDPOINT_URL", emulator)
            .env("FILEGATE_LOCAL_ADDR", format!("127.0.0.1:{port}"))
            .env("FILEGATE_TABLE", &name)
            .env("FILEGATE_BUCKET", &name)
            .env("FILEGATE_LOCAL_QUEUE", &name)
            .env("RUST_LOG", "warn")
            .envs(settings.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start filegate-local");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "filegate-local did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, base, name }
    }

    /// User plus system CPU time so far (`/proc/<pid>/stat`, in clock ticks of 1/100 s).
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        ticks as f64 / 100.0
    }

    /// `VmHWM`: the process's peak resident set so far.
    pub fn peak_rss_kib(&self) -> u64 {
        peak_rss_kib(self.child.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
