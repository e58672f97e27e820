//! The processes behind a [`Browser`](super::Browser): finding the binaries, starting
//! chromedriver on a free port, and making sure that it and its Chromium are gone afterwards.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable naming the Chromium binary.
pub(super) const CHROMIUM_ENV: &str = "YIGONG_CHROMIUM";
/// Environment variable naming the chromedriver binary.
pub(super) const CHROMEDRIVER_ENV: &str = "YIGONG_CHROMEDRIVER";
const CHROMIUM_DEFAULT: &str = "/usr/bin/chromium";
const CHROMEDRIVER_DEFAULT: &str = "/usr/bin/chromedriver";

/// How long chromedriver gets to accept connections.
const DRIVER_START: Duration = Duration::from_secs(20);
/// How long Chromium gets to exit after its session is deleted, before it is killed.
const BROWSER_EXIT: Duration = Duration::from_secs(5);

/// The two binaries a browser needs.
#[derive(Debug)]
pub(super) struct Binaries {
    pub(super) chromium: PathBuf,
    pub(super) chromedriver: PathBuf,
}

/// The binaries from the environment or their Debian paths, or a description of what is missing.
pub(super) fn find_binaries() -> Result<Binaries, String> {
    let find = |what: &str, env: &str, default: &str| {
        let (from, path) = match std::env::var_os(env) {
            Some(path) => (format!(" ({env}={})", path.to_string_lossy()), PathBuf::from(path)),
            None => (String::new(), PathBuf::from(default)),
        };
        if is_executable(&path) { Ok(path) } else { Err(format!("no {what} at {}{from}", path.display())) }
    };
    match (
        find("Chromium", CHROMIUM_ENV, CHROMIUM_DEFAULT),
        find("chromedriver", CHROMEDRIVER_ENV, CHROMEDRIVER_DEFAULT),
    ) {
        (Ok(chromium), Ok(chromedriver)) => Ok(Binaries { chromium, chromedriver }),
        (Err(a), Err(b)) => Err(format!("{a} and {b}")),
        (Err(why), Ok(_)) | (Ok(_), Err(why)) => Err(why),
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// A running chromedriver, its scratch directory (Chromium's profile, the log), and the
/// session it drives. Dropping it deletes the session if it is still open, kills chromedriver,
/// and kills any Chromium process left on the profile.
#[derive(Debug)]
pub(super) struct Driver {
    child: Child,
    pub(super) port: u16,
    /// Removed last, after every process using it is gone.
    dir: tempfile::TempDir,
    /// The WebDriver session still to delete on drop.
    pub(super) session: Option<String>,
    /// Whether the session was deleted (so Chromium is quitting) before the drop.
    pub(super) closed: bool,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it accepts connections.
    pub(super) async fn start(chromedriver: &Path) -> Result<Driver, String> {
        // The port is free when asked for and taken by chromedriver a moment later; another
        // process may take it in between, so a chromedriver that exits early is retried.
        let mut failure = String::new();
        for _ in 0..3 {
            let mut driver = Driver::spawn(chromedriver)?;
            let deadline = Instant::now() + DRIVER_START;
            loop {
                if let Ok(Some(status)) = driver.child.try_wait() {
                    failure = format!("chromedriver exited ({status}); {}", driver.log_tail());
                    break;
                }
                if tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, driver.port)).await.is_ok() {
                    return Ok(driver);
                }
                if Instant::now() > deadline {
                    return Err(format!(
                        "chromedriver did not listen on port {} within {DRIVER_START:?}; {}",
                        driver.port,
                        driver.log_tail()
                    ));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Err(failure)
    }

    /// Runs chromedriver on a port that is free now, with a fresh scratch directory.
    fn spawn(chromedriver: &Path) -> Result<Driver, String> {
        let dir = tempfile::Builder::new()
            .prefix("yigong-browser-")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
        for sub in ["profile", "tmp"] {
            std::fs::create_dir(dir.path().join(sub))
                .map_err(|e| format!("cannot make a directory in {}: {e}", dir.path().display()))?;
        }
        let port = free_port().map_err(|e| format!("cannot find a free port: {e}"))?;
        let log = std::fs::File::create(dir.path().join("chromedriver.log"))
            .map_err(|e| format!("cannot make the chromedriver log: {e}"))?;
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            // Chromium's own temporary files (`org.chromium.Chromium.*`), which it leaves
            // behind when killed, go where the directory's removal takes them.
            .env("TMPDIR", dir.path().join("tmp"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| format!("cannot open the chromedriver log: {e}"))?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", chromedriver.display()))?;
        Ok(Driver { child, port, dir, session: None, closed: false })
    }

    /// Chromium's `--user-data-dir`, fresh for this driver.
    pub(super) fn profile(&self) -> PathBuf {
        self.dir.path().join("profile")
    }

    /// The end of chromedriver's log (which holds Chromium's stderr too), for error messages.
    pub(super) fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        format!("end of the chromedriver log:\n{}", tail(&log))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The async client cannot run here (the runtime may be going away with a panicking
        // test), so the session is deleted with a blocking request; chromedriver then quits
        // Chromium. Best-effort: the sweep below kills whatever is left.
        let quitting = match self.session.take() {
            Some(session) => delete_session(self.port, &session).is_ok(),
            None => self.closed,
        };
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Chromium outlives a killed chromedriver, so any process still running on this
        // profile is killed, at once unless it was asked to quit; each of them carries the
        // `--user-data-dir` on its command line.
        let marker = format!("--user-data-dir={}", self.profile().display());
        let deadline = Instant::now() + if quitting { BROWSER_EXIT } else { Duration::ZERO };
        loop {
            let left = processes_with_arg(&marker);
            if left.is_empty() {
                break;
            }
            if Instant::now() > deadline {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .args(left.iter().map(u32::to_string))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// `DELETE /session/{id}` over plain HTTP/1.1, waiting for the answer (Chromium has quit by then).
fn delete_session(port: u16, session: &str) -> std::io::Result<()> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // chromedriver keeps the connection open, so the answer ends where its length says.
    let mut answer = Vec::new();
    loop {
        let mut buf = [0; 1024];
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        answer.extend_from_slice(&buf[..n]);
        if let Some(head) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            let length = String::from_utf8_lossy(&answer[..head])
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if answer.len() >= head + 4 + length {
                return Ok(());
            }
        }
    }
}

/// Ids of the processes with `arg` among their command-line arguments (Linux `/proc`; none
/// elsewhere). Zombies have an empty command line and so never match.
fn processes_with_arg(arg: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| cmdline.split(|&b| b == 0).any(|a| a == arg.as_bytes()))
        })
        .collect()
}

/// A loopback port that was free a moment ago.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// The last 40 lines of `log`.
fn tail(log: &str) -> String {
    let lines: Vec<_> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// `target/test-artifacts` of the workspace: `$CARGO_TARGET_DIR` if set (relative to the
/// workspace root), else `target` in the nearest directory above the crate that holds a
/// `Cargo.lock`.
pub(super) fn artifacts_dir() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let root = manifest.ancestors().find(|dir| dir.join("Cargo.lock").is_file()).unwrap_or(&manifest);
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |dir| root.join(dir));
    target.join("test-artifacts")
}
