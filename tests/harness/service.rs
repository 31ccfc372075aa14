//! A real `api` or `bayes` process, its output kept in a log file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running service binary. Killed when dropped.
pub struct Service {
    binary: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl Service {
    /// Starts `binary` (`api` or `bayes`) with `env`, logging to `log`.
    pub fn start(binary: &str, env: Vec<(String, String)>, log: PathBuf) -> Self {
        let mut service = Self {
            binary: binary_path(binary),
            env,
            log,
            child: None,
        };
        service.restart();
        service
    }

    /// Starts the process again (after `kill` or `terminate`).
    pub fn restart(&mut self) {
        assert!(
            self.child.is_none(),
            "{} is still running",
            self.binary.display()
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open service log");
        let child = Command::new(&self.binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()));
        self.child = Some(child);
    }

    /// The process id, while running.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Resident memory in MB, from /proc.
    /// Panics when it cannot be read: a memory check that measured nothing
    /// must fail, not pass.
    pub fn rss_mb(&self) -> f64 {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {path} to measure RSS: {e}"));
        let kb = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{path} has no VmRSS line"));
        kb / 1024.0
    }

    /// SIGKILL: no chance to clean up, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits (up to 20 s) for the exit status.
    pub async fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("wait for child") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit after SIGTERM",
                self.binary.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the process has exited by itself.
    pub fn has_exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The path of a workspace binary built alongside this test
/// (`target/<profile>/<name>`, next to `target/<profile>/deps/`).
pub fn binary_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first with `cargo build --bins` (scripts/test does)",
        path.display()
    );
    path
}

/// Runs `binary` with only `env` (and `PATH`) until it exits (at most 20 s);
/// returns its exit status and what it wrote to stderr.
pub fn run_to_exit(binary: &str, env: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut child = Command::new(binary_path(binary))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait for child").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{binary} did not exit with {env:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("collect output");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
