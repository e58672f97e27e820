//! The testkit's own tests: databases come migrated, PostgreSQL ones are independent, many
//! can be asked for at once from separate runtimes, and a missing PostgreSQL skips or fails.

use std::process::Command;

use sqlx::Row as _;
use yigong_store::Db;
use yigong_testkit::{Backend, TestDb};

/// Rows in `table` (a trusted name).
async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    match db {
        Db::Sqlite(pool) => sqlx::query(&sql).fetch_one(pool).await.unwrap().get(0),
        Db::Postgres(pool) => sqlx::query(&sql).fetch_one(pool).await.unwrap().get(0),
    }
}

/// Inserts 青岚县 into the reference table `division`.
async fn insert_division(db: &Db) {
    let valid_from = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let sql = "INSERT INTO division (code, valid_from, level, name) VALUES ($1, $2, 'county', '青岚县')";
    let inserted = match db {
        Db::Sqlite(pool) => {
            sqlx::query(sql).bind("990121").bind(valid_from).execute(pool).await.unwrap().rows_affected()
        }
        Db::Postgres(pool) => {
            sqlx::query(sql).bind("990121").bind(valid_from).execute(pool).await.unwrap().rows_affected()
        }
    };
    assert_eq!(inserted, 1);
}

/// Checks that `test_db` is migrated, empty and writable.
async fn check_fresh(test_db: &TestDb) {
    assert_eq!(count(&test_db.db, "institution").await, 0, "{}", test_db.url);
    assert_eq!(count(&test_db.db, "division").await, 0, "{}", test_db.url);
    insert_division(&test_db.db).await;
    assert_eq!(count(&test_db.db, "division").await, 1, "{}", test_db.url);
}

#[tokio::test]
async fn sqlite_is_migrated() {
    let test_db = yigong_testkit::sqlite().await;
    assert_eq!(test_db.db.backend(), Backend::Sqlite);
    check_fresh(&test_db).await;
}

#[tokio::test]
async fn sqlite_file_is_removed_on_drop() {
    let test_db = yigong_testkit::sqlite().await;
    let path = std::path::PathBuf::from(test_db.url.strip_prefix("sqlite:").unwrap());
    assert!(path.exists(), "{}", path.display());
    test_db.db.close().await;
    drop(test_db);
    assert!(!path.parent().unwrap().exists(), "{}", path.display());
}

#[tokio::test]
async fn db_dispatches_on_backend() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(test_db) = yigong_testkit::db(backend).await else { continue };
        assert_eq!(test_db.db.backend(), backend);
        check_fresh(&test_db).await;
    }
}

#[tokio::test]
async fn postgres_databases_are_independent() {
    let Some(a) = yigong_testkit::postgres().await else { return };
    let Some(b) = yigong_testkit::postgres().await else { return };
    assert_ne!(a.url, b.url);
    check_fresh(&a).await;
    assert_eq!(count(&b.db, "division").await, 0, "a row in {} shows in {}", a.url, b.url);
    check_fresh(&b).await;
}

#[tokio::test]
async fn postgres_database_is_dropped_on_drop() {
    let Some(gone) = yigong_testkit::postgres().await else { return };
    let Some(witness) = yigong_testkit::postgres().await else { return };
    let name = gone.url.split('/').nth(3).unwrap().split('?').next().unwrap().to_owned();
    let exists = |pool| {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(name.clone())
            .fetch_one(pool)
    };
    let Db::Postgres(pool) = &witness.db else { unreachable!() };
    assert_eq!(exists(pool).await.unwrap(), 1, "{name}");
    drop(gone);
    assert_eq!(exists(pool).await.unwrap(), 0, "{name}");
}

/// Eight tests asking at once, each on a runtime of its own (as `#[tokio::test]`s are).
#[test]
fn postgres_from_many_runtimes_at_once() {
    let start = std::sync::Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let start = start.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                start.wait();
                runtime.block_on(async {
                    let test_db = yigong_testkit::postgres().await?;
                    check_fresh(&test_db).await;
                    Some(test_db.url.clone())
                })
            })
        })
        .collect();
    let urls: Vec<_> = threads.into_iter().map(|thread| thread.join().unwrap()).collect();
    let distinct: std::collections::BTreeSet<_> = urls.iter().flatten().collect();
    assert!(distinct.len() == 8 || urls.iter().all(Option::is_none), "{urls:?}");
}

/// Eight concurrent requests on one multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_many_at_once_on_one_runtime() {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        tasks.spawn(async {
            let test_db = yigong_testkit::postgres().await?;
            check_fresh(&test_db).await;
            Some(test_db.url.clone())
        });
    }
    let urls = tasks.join_all().await;
    let distinct: std::collections::BTreeSet<_> = urls.iter().flatten().collect();
    assert!(distinct.len() == 8 || urls.iter().all(Option::is_none), "{urls:?}");
}

/// Runs [`probe`] in a child process of this test binary with PostgreSQL's binaries hidden.
fn probe_without_postgres(ci: Option<&str>) -> std::process::Output {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args(["probe", "--exact", "--ignored", "--nocapture", "--test-threads=1"]);
    child.env("YIGONG_PG_BIN", "/nonexistent").env("YIGONG_TESTKIT_PROBE", "1").env_remove("CI");
    if let Some(ci) = ci {
        child.env("CI", ci);
    }
    child.output().unwrap()
}

#[test]
fn missing_postgres_skips_with_one_line() {
    let output = probe_without_postgres(None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{output:?}");
    let lines: Vec<_> = stderr.lines().filter(|line| line.contains("yigong-testkit")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("skipping PostgreSQL (thread `probe`)"), "{stderr}");
    assert!(lines[0].contains("YIGONG_PG_BIN=/nonexistent"), "{stderr}");
}

#[test]
fn missing_postgres_fails_under_ci() {
    let output = probe_without_postgres(Some("true"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{output:?}");
    assert!(stderr.contains("CI=true forbids skipping PostgreSQL tests"), "{stderr}");
}

/// Asks for PostgreSQL, expecting none; run only by the two tests above.
#[tokio::test]
#[ignore = "run in a child process by missing_postgres_*"]
async fn probe() {
    assert_eq!(std::env::var("YIGONG_TESTKIT_PROBE").as_deref(), Ok("1"), "run by missing_postgres_*");
    assert!(yigong_testkit::postgres().await.is_none());
}
