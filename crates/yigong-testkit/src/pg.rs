//! A throwaway PostgreSQL cluster per test process, and a database per test cloned from a
//! migrated template on it.
//!
//! The cluster is started synchronously (each `#[tokio::test]` has its own runtime, and a
//! connection cannot outlive the runtime that opened it), once per process, behind a
//! [`OnceLock`]. The template is built, and databases are cloned from it, under one
//! runtime-agnostic async lock with short-lived connections in the caller's runtime.
//!
//! Statics are never dropped, so the process cannot stop the cluster itself. Instead a
//! watchdog shell, in its own process group, blocks reading a pipe whose only writer the test
//! process holds until it exits (however it exits); then it stops the cluster and deletes its
//! directory. A cluster whose watchdog was killed too is swept by the next test process.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::OnceLock;

use anyhow::{Context as _, Result, bail};
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;
use yigong_store::Db;

use crate::{Guard, TestDb, ci_strict};

#[cfg(test)]
mod tests;

/// The server's port; it only names the socket file, which lives in the cluster's own
/// directory, so every cluster can use the same one.
const PORT: u16 = 5432;
/// The superuser `initdb` creates; authentication is `trust` on the socket.
const SUPERUSER: &str = "postgres";
/// The migrated database every test database is cloned from.
const TEMPLATE: &str = "yigong_template";
/// Prefix of the cluster directories in the temp directory, for the stale sweep.
const DIR_PREFIX: &str = "yigong-pg-";
/// File in the cluster directory naming the test process that owns it.
const OWNER_FILE: &str = "owner.pid";
/// Environment variable naming a directory holding `initdb` and `pg_ctl`.
const BIN_ENV: &str = "YIGONG_PG_BIN";
/// Where Debian installs each PostgreSQL major version's server binaries.
const DEBIAN_LIB: &str = "/usr/lib/postgresql";

/// Settings appended to `postgresql.conf`: Unix socket only, durability off (the data is
/// thrown away), small memory, and UTC so dates do not depend on the machine.
const SETTINGS: &str = "
listen_addresses = ''
max_connections = 200
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
autovacuum = off
timezone = 'UTC'
log_timezone = 'UTC'
";

/// Waits for EOF on stdin (the test process exited), then stops the cluster and deletes its
/// directory. Arguments: the cluster directory, then the command prefix that runs `pg_ctl`.
const WATCHDOG: &str = r#"trap '' HUP INT
cat >/dev/null
root=$1
shift
"$@" stop -D "$root/data" -m immediate -w >/dev/null 2>&1
rm -rf "$root"
"#;

/// The process's cluster, started on first use.
static CLUSTER: OnceLock<Start> = OnceLock::new();

/// Whether the template is migrated; its lock also serialises the clones.
static TEMPLATE_READY: tokio::sync::Mutex<bool> = tokio::sync::Mutex::const_new(false);

/// How starting the cluster went.
enum Start {
    /// No server binaries: skip, or fail under CI. Holds where we looked.
    Missing(String),
    /// The binaries are there but the cluster did not start.
    Failed(String),
    /// Up.
    Running(Cluster),
}

/// A running cluster.
struct Cluster {
    /// The directory of its Unix socket.
    socket_dir: PathBuf,
    /// The write end of the watchdog's stdin; held (never dropped) until the process exits.
    _watchdog: ChildStdin,
}

/// A fresh PostgreSQL database cloned (`CREATE DATABASE .. TEMPLATE ..`) from a migrated
/// template, on a throwaway cluster started once per test process. Dropping the [`TestDb`]
/// drops the database.
///
/// Returns `None`, after one line on stderr saying why, when no PostgreSQL server binaries are
/// found (looked for in `$YIGONG_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`, else
/// `PATH`).
///
/// # Panics
///
/// When the binaries are missing and [`ci_strict`] holds; when the cluster cannot be started,
/// or the database created or opened.
pub async fn postgres() -> Option<TestDb> {
    let cluster = match CLUSTER.get_or_init(start) {
        Start::Running(cluster) => cluster,
        Start::Failed(why) => panic!("yigong-testkit: cannot start the PostgreSQL test cluster: {why}"),
        Start::Missing(looked) => {
            let missing = format!("no PostgreSQL server binaries (initdb, pg_ctl) in {looked}");
            let remedy =
                format!("install the Debian package `postgresql` (scripts/test does) or set {BIN_ENV}");
            if ci_strict() {
                panic!("yigong-testkit: {missing}, and CI=true forbids skipping PostgreSQL tests; {remedy}");
            }
            // The test harness names each test's thread after the test.
            let thread =
                std::thread::current().name().map(|name| format!(" (thread `{name}`)")).unwrap_or_default();
            // Past the test harness's capture, so that a skip is seen even when the test passes.
            let line = format!("yigong-testkit: skipping PostgreSQL{thread}: {missing}; {remedy}\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
            return None;
        }
    };
    let test_db = cluster.test_db().await.unwrap_or_else(|e| {
        panic!("yigong-testkit: cannot make a test PostgreSQL database: {e:#}");
    });
    Some(test_db)
}

/// Finds the binaries and starts the cluster.
fn start() -> Start {
    let override_dir = std::env::var_os(BIN_ENV).filter(|dir| !dir.is_empty());
    let Some(bin) = find_bin(override_dir.clone(), Path::new(DEBIAN_LIB), std::env::var_os("PATH")) else {
        let looked = match override_dir {
            Some(dir) => format!("{BIN_ENV}={}", dir.to_string_lossy()),
            None => format!("{DEBIAN_LIB}/*/bin or PATH"),
        };
        return Start::Missing(looked);
    };
    match Cluster::start(&bin) {
        Ok(cluster) => Start::Running(cluster),
        Err(e) => Start::Failed(format!("{e:#}")),
    }
}

/// The directory holding `initdb` and `pg_ctl`: `override_dir` if given (and nothing else),
/// else the newest major version under `debian_lib`, else the first such directory on `path`.
fn find_bin(override_dir: Option<OsString>, debian_lib: &Path, path: Option<OsString>) -> Option<PathBuf> {
    let is_bin = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = override_dir {
        let dir = PathBuf::from(dir);
        return is_bin(&dir).then_some(dir);
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(debian_lib)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            let version = name.to_str()?.split('.').map(|part| part.parse().ok()).collect::<Option<_>>()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.into_iter().rev().find(|(_, dir)| is_bin(dir)) {
        return Some(dir);
    }
    std::env::split_paths(&path?).find(|dir| is_bin(dir))
}

impl Cluster {
    /// `initdb`s a cluster in a new temp directory and starts it, with its watchdog.
    fn start(bin: &Path) -> Result<Self> {
        let run_as = RunAs::detect()?;
        let pg_ctl = bin.join("pg_ctl");
        let tmp = std::env::temp_dir();
        sweep_stale(&tmp, &run_as, &pg_ctl);

        let root = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir_in(&tmp)
            .with_context(|| format!("creating a directory in {}", tmp.display()))?
            .keep();
        std::fs::write(root.join(OWNER_FILE), std::process::id().to_string())
            .with_context(|| format!("writing {}", root.join(OWNER_FILE).display()))?;
        // Before anything can fail: from here on the directory is deleted when we exit.
        let watchdog = spawn_watchdog(&root, &run_as, &pg_ctl)?;

        let data = root.join("data");
        let socket_dir = root.join("socket");
        std::fs::create_dir(&socket_dir).with_context(|| format!("creating {}", socket_dir.display()))?;
        run_as.give(&root)?;
        run_as.give(&socket_dir)?;

        let mut initdb = run_as.command(&bin.join("initdb"));
        initdb.current_dir(&root).args([
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]);
        run(initdb.arg("-D").arg(&data), "initdb")?;

        let conf = data.join("postgresql.conf");
        let settings =
            format!("{SETTINGS}port = {PORT}\nunix_socket_directories = {}\n", quote(&socket_dir)?);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .and_then(|mut file| file.write_all(settings.as_bytes()))
            .with_context(|| format!("writing {}", conf.display()))?;

        let log = root.join("postgres.log");
        let mut pg_ctl = run_as.command(&pg_ctl);
        pg_ctl.current_dir(&root).args(["start", "-w", "-t", "60", "-D"]).arg(&data).arg("-l").arg(&log);
        if let Err(e) = run(&mut pg_ctl, "pg_ctl start") {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            let tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
            return Err(e.context(format!("server log {}:\n{tail}", root.join("postgres.log").display())));
        }
        Ok(Self { socket_dir, _watchdog: watchdog })
    }

    /// The URL of database `name` over the cluster's socket.
    fn url(&self, name: &str) -> String {
        let socket = percent_encode(&self.socket_dir.to_string_lossy());
        format!("postgres://{SUPERUSER}@localhost:{PORT}/{name}?host={socket}&sslmode=disable")
    }

    /// A maintenance connection to the `postgres` database.
    async fn admin(&self) -> Result<PgConnection> {
        let url = self.url("postgres");
        PgConnection::connect(&url).await.with_context(|| format!("connecting to {url}"))
    }

    /// Clones a new database from the template (building the template first if need be) and
    /// opens it.
    async fn test_db(&self) -> Result<TestDb> {
        let name = format!("test_{}", uuid::Uuid::now_v7().simple());
        {
            let mut ready = TEMPLATE_READY.lock().await;
            let mut admin = self.admin().await?;
            if !*ready {
                self.build_template(&mut admin).await.context("building the template database")?;
                *ready = true;
            }
            sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
                .execute(&mut admin)
                .await
                .with_context(|| format!("creating database {name}"))?;
            admin.close().await.context("closing the maintenance connection")?;
        }
        let drop = DropDatabase { admin_url: self.url("postgres"), name };
        let url = self.url(&drop.name);
        let db = Db::connect(&url).await.with_context(|| format!("opening {url}"))?;
        Ok(TestDb { db, url, _guard: Guard::Postgres(drop) })
    }

    /// Creates and migrates the template, then closes every connection to it and marks it a
    /// template that accepts no connections (a clone fails while anyone is connected to it).
    async fn build_template(&self, admin: &mut PgConnection) -> Result<()> {
        let is_template: Option<bool> =
            sqlx::query_scalar("SELECT datistemplate FROM pg_database WHERE datname = $1")
                .bind(TEMPLATE)
                .fetch_optional(&mut *admin)
                .await?;
        match is_template {
            // Built by an earlier test whose lock holder was cancelled before recording it.
            Some(true) => return Ok(()),
            // Half-built by an earlier attempt that failed.
            Some(false) => {
                sqlx::query(&format!("DROP DATABASE {TEMPLATE} WITH (FORCE)")).execute(&mut *admin).await?;
            }
            None => {}
        }
        sqlx::query(&format!("CREATE DATABASE {TEMPLATE}")).execute(&mut *admin).await?;
        let url = self.url(TEMPLATE);
        let db = Db::connect(&url).await.with_context(|| format!("opening {url}"))?;
        let migrated = db.migrate().await.with_context(|| format!("migrating {url}"));
        db.close().await;
        migrated?;
        sqlx::query(&format!("ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"))
            .execute(&mut *admin)
            .await?;
        Ok(())
    }
}

/// Drops its database when dropped, best-effort, forcibly disconnecting whoever is left.
#[derive(Debug)]
pub(crate) struct DropDatabase {
    admin_url: String,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let admin_url = std::mem::take(&mut self.admin_url);
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // On a thread of its own with a runtime of its own: Drop cannot await, and the test's
        // runtime may be single-threaded or already shutting down.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(&sql).execute(&mut admin).await.ok()?;
                admin.close().await.ok()
            })
        });
        let _ = dropper.join();
    }
}

/// Whom the server runs as. PostgreSQL refuses to run as root, so as root it runs as the
/// `postgres` system user, in directories given to that user.
enum RunAs {
    /// The current (non-root) user.
    Me,
    /// The `postgres` user.
    Postgres {
        /// Its user id.
        uid: u32,
        /// Its primary group id.
        gid: u32,
    },
}

impl RunAs {
    fn detect() -> Result<Self> {
        if id(&["-u"])? != 0 {
            return Ok(Self::Me);
        }
        let (uid, gid) = id(&["-u", SUPERUSER]).and_then(|uid| Ok((uid, id(&["-g", SUPERUSER])?))).context(
            "running as root, so the server must run as the `postgres` user, which does not exist \
             (the Debian package `postgresql` creates it)",
        )?;
        Ok(Self::Postgres { uid, gid })
    }

    /// The command line that runs `program` as this user.
    fn argv(&self, program: &Path) -> Vec<OsString> {
        let mut argv: Vec<OsString> = match self {
            Self::Me => Vec::new(),
            Self::Postgres { uid, gid } => {
                ["setpriv".to_owned(), format!("--reuid={uid}"), format!("--regid={gid}")]
                    .into_iter()
                    .chain(["--init-groups".to_owned(), "--".to_owned()])
                    .map(OsString::from)
                    .collect()
            }
        };
        argv.push(program.into());
        argv
    }

    /// A [`Command`] running `program` as this user, with libpq's variables that could
    /// redirect it cleared.
    fn command(&self, program: &Path) -> Command {
        let argv = self.argv(program);
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        for var in ["PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGOPTIONS"] {
            command.env_remove(var);
        }
        command.env("LC_ALL", "C");
        command
    }

    /// Makes `path` owned by this user.
    fn give(&self, path: &Path) -> Result<()> {
        match self {
            Self::Me => Ok(()),
            Self::Postgres { uid, gid } => std::os::unix::fs::chown(path, Some(*uid), Some(*gid))
                .with_context(|| format!("giving {} to the postgres user", path.display())),
        }
    }
}

/// Runs `id ARGS` and parses the number it prints.
fn id(args: &[&str]) -> Result<u32> {
    let output = Command::new("id").args(args).output().context("running id")?;
    if !output.status.success() {
        bail!("id {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().with_context(|| format!("id {} printed {text:?}", args.join(" ")))
}

/// Runs `command` to completion, failing with its output if it fails.
fn run(command: &mut Command, what: &str) -> Result<()> {
    let output = command.stdin(Stdio::null()).output().with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Starts the watchdog of the cluster in `root`; the returned pipe must stay open until the
/// process exits.
fn spawn_watchdog(root: &Path, run_as: &RunAs, pg_ctl: &Path) -> Result<ChildStdin> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("yigong-pg-watchdog")
        .arg(root)
        .args(run_as.argv(pg_ctl))
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Out of the test's process group, so that ^C kills the tests but not their cleanup.
        .process_group(0)
        .spawn()
        .context("starting the cluster's watchdog")?;
    child.stdin.take().context("the watchdog has no stdin")
}

/// Stops and deletes clusters left in `tmp` by test processes that no longer run and whose
/// watchdog did not clean up (e.g. both were killed). Best-effort and silent.
fn sweep_stale(tmp: &Path, run_as: &RunAs, pg_ctl: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for entry in entries.flatten() {
        let root = entry.path();
        if !entry.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
            continue;
        }
        // A directory without an owner is being set up right now; a live owner keeps its own.
        let Ok(owner) = std::fs::read_to_string(root.join(OWNER_FILE)) else { continue };
        let Ok(pid) = owner.trim().parse::<u32>() else { continue };
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        if root.join("data/postmaster.pid").exists() {
            let mut stop = run_as.command(pg_ctl);
            stop.current_dir("/").args(["stop", "-m", "immediate", "-w", "-D"]).arg(root.join("data"));
            let _ = stop.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}

/// `path` as a single-quoted `postgresql.conf` string.
fn quote(path: &Path) -> Result<String> {
    let text = path.to_str().with_context(|| format!("{} is not UTF-8", path.display()))?;
    Ok(format!("'{}'", text.replace('\'', "''")))
}

/// Percent-encodes everything but unreserved characters and `/`, for a URL query value.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}
