//! Temp-file SQLite test databases.

use anyhow::{Context as _, Result};
use yigong_store::Db;

use crate::{Guard, TestDb};

/// A migrated, empty SQLite database in a temp file, removed when the [`TestDb`] is dropped.
///
/// # Panics
///
/// If the file cannot be created, opened or migrated.
pub async fn sqlite() -> TestDb {
    open().await.unwrap_or_else(|e| panic!("yigong-testkit: cannot make a test SQLite database: {e:#}"))
}

async fn open() -> Result<TestDb> {
    let dir = tempfile::Builder::new()
        .prefix("yigong-sqlite-")
        .tempdir()
        .context("creating a temporary directory")?;
    let url = format!("sqlite:{}", dir.path().join("test.db").display());
    let db = Db::connect(&url).await.with_context(|| format!("opening {url}"))?;
    db.migrate().await.with_context(|| format!("migrating {url}"))?;
    Ok(TestDb { db, url, _guard: Guard::Sqlite(dir) })
}
