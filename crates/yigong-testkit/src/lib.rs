//! Test databases: a migrated, empty database per test, on either backend.
//!
//! [`sqlite`] opens a temp-file SQLite database. [`postgres`] clones a fresh database from a
//! migrated template on a throwaway PostgreSQL cluster that the test process starts the first
//! time it is asked for one (`initdb` in a temp directory, Unix socket only, `fsync=off`) and
//! that a watchdog process stops and deletes when the test process exits. Without PostgreSQL
//! server binaries [`postgres`] skips with one line on stderr, unless [`ci_strict`] says the
//! environment demands every suite run, in which case it panics.
//!
//! ```no_run
//! # async fn suite(db: &yigong_store::Db) {}
//! # async fn example() {
//! for backend in [yigong_testkit::Backend::Sqlite, yigong_testkit::Backend::Postgres] {
//!     let Some(test_db) = yigong_testkit::db(backend).await else { continue };
//!     suite(&test_db.db).await;
//! }
//! # }
//! ```
//!
//! Run the tests with `cargo test` (one process per test binary, so one cluster per binary),
//! not with a runner that starts a process per test: each process would `initdb` its own
//! cluster.

pub mod browser;
mod pg;
mod sqlite;

pub use yigong_store::Backend;

pub use browser::{Browser, chromium};

pub use pg::postgres;
pub use sqlite::sqlite;

/// A migrated, empty database for one test; dropping it releases it (the SQLite temp file is
/// removed, the PostgreSQL database dropped, both best-effort).
#[derive(Debug)]
pub struct TestDb {
    /// The open pool.
    pub db: yigong_store::Db,
    /// The URL it was opened with, for code that connects on its own (e.g. a server under test).
    pub url: String,
    /// Dropped after `db`, so the pool handle goes first.
    _guard: Guard,
}

/// What a [`TestDb`] releases when dropped.
#[derive(Debug)]
enum Guard {
    /// The directory holding the SQLite file.
    Sqlite(#[allow(dead_code, reason = "held for its Drop")] tempfile::TempDir),
    /// The PostgreSQL database to drop.
    Postgres(#[allow(dead_code, reason = "held for its Drop")] pg::DropDatabase),
}

/// A migrated, empty database on `backend`; `None` only where [`postgres`] skips.
pub async fn db(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => Some(sqlite().await),
        Backend::Postgres => postgres().await,
    }
}

/// Whether the environment demands every suite run: `CI` is `true` (or `1`), as CI services
/// set it. Then a missing PostgreSQL fails the test instead of skipping it.
pub fn ci_strict() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// The public DICOM sample files (from the pydicom wheel) that `scripts/dicom-samples` fetches
/// and `scripts/test` names in `YIGONG_DICOM_SAMPLES`: the directory holding `test_files/` and
/// `charset_files/`. `None` (the caller skips, saying so) when absent, unless [`ci_strict`].
pub fn dicom_samples() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("YIGONG_DICOM_SAMPLES").map(std::path::PathBuf::from);
    match dir {
        Some(d) if d.join("test_files").is_dir() => Some(d),
        other => {
            let why = match other {
                Some(d) => format!("YIGONG_DICOM_SAMPLES={} holds no test_files", d.display()),
                None => "YIGONG_DICOM_SAMPLES is not set".to_owned(),
            };
            assert!(!ci_strict(), "the DICOM samples are needed under CI: {why} (run scripts/dicom-samples)");
            eprintln!("skipped: {why} (run scripts/dicom-samples)");
            None
        }
    }
}

/// The unpacked official FHIR R4 package (`hl7.fhir.r4.examples` 4.0.1) that
/// `scripts/fhir-package` fetches and `scripts/test` names in `YIGONG_FHIR_PACKAGE`.
/// `None` (the caller skips, saying so) when it is not there, unless [`ci_strict`]: then the
/// test fails.
pub fn fhir_package() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("YIGONG_FHIR_PACKAGE").map(std::path::PathBuf::from);
    match dir {
        Some(d) if d.join("package.json").is_file() => Some(d),
        other => {
            let why = match other {
                Some(d) => format!("YIGONG_FHIR_PACKAGE={} holds no package.json", d.display()),
                None => "YIGONG_FHIR_PACKAGE is not set".to_owned(),
            };
            assert!(!ci_strict(), "the FHIR R4 package is needed under CI: {why} (run scripts/fhir-package)");
            eprintln!("skipped: {why} (run scripts/fhir-package)");
            None
        }
    }
}
