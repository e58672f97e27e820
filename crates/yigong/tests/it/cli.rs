//! The binary's commands, run as a user would.

use std::process::{Command, Output};

pub(crate) fn yigong(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yigong"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("run yigong")
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn print_config_shows_effective_values_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("yigong.toml"), "[server]\nlisten = \"127.0.0.1:9999\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_yigong"))
        .arg("print-config")
        .current_dir(dir.path())
        .env("YIGONG_STORAGE__DATABASE_URL", "postgres://yg:hunter2@localhost/yigong")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("listen = \"127.0.0.1:9999\""), "{shown}");
    assert!(shown.contains("postgres://yg:***@localhost/yigong"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn unknown_config_key_stops_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("yigong.toml"), "[server]\nlisten_address = \"127.0.0.1:1\"\n").unwrap();
    let out = yigong(&["print-config"], dir.path());
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("listen_address"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn unopenable_database_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = yigong(&["migrate", "--database", "mysql://nope"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with("yigong: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A file in place of the data folder.
    std::fs::write(dir.path().join("blocked"), "x").unwrap();
    let out = yigong(&["migrate", "--data", "blocked"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stderr).contains("panicked"));
}

#[test]
fn migrate_then_synth_small_county() {
    let dir = tempfile::tempdir().unwrap();
    let out = yigong(&["migrate", "--data", "d"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    // It names the newest migration of the folder.
    let newest = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/sqlite"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".sql").to_owned())
        .max()
        .unwrap();
    assert!(text(&out.stdout).contains(&newest), "{} should name {newest}", text(&out.stdout));
    let out = yigong(&["synth", "--data", "d", "--residents", "800"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Progress is reported as structured lines when not on a terminal.
    assert!(text(&out.stderr).contains("progress"), "{}", text(&out.stderr));
    // A second run refuses rather than doubling the county.
    let out = yigong(&["synth", "--data", "d", "--residents", "800"], dir.path());
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already holds"), "{}", text(&out.stderr));
}

fn run_with_stdin(args: &[&str], dir: &std::path::Path, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_yigong"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Edits and deletions in the audit trail are found by `yigong audit verify`, which names the
/// first broken row.
async fn audit_verify_detects_tampering(backend: yigong_testkit::Backend) {
    let Some(test_db) = yigong_testkit::db(backend).await else { return };
    let url = test_db.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let out = yigong(&["synth", "--database", &url, "--residents", "50"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (name, role, site) in [
        ("user1", "township_doctor", "T101"),
        ("user2", "village_doctor", "V101201"),
        ("user3", "consortium_manager", ""),
    ] {
        let mut args =
            vec!["user", "add", "--username", name, "--role", role, "--password-stdin", "--database", &url];
        if !site.is_empty() {
            args.extend(["--institution", site]);
        }
        let out = run_with_stdin(&args, dir.path(), "a-long-secret-77\n");
        assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    }
    // A weak password is refused with the field named, and nothing is created.
    let out = run_with_stdin(
        &[
            "user",
            "add",
            "--username",
            "user4",
            "--role",
            "pharmacist",
            "--password-stdin",
            "--database",
            &url,
        ],
        dir.path(),
        "short\n",
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("password"), "{}", text(&out.stderr));

    let verify = || yigong(&["audit", "verify", "--database", &url], dir.path());
    let out = verify();
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let db = &test_db.db;
    // The county's generation (its patient-index import) is audited too; count what is there.
    let rows: i64 = match db {
        yigong_store::Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_event").fetch_one(p).await
        }
        yigong_store::Db::Postgres(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_event").fetch_one(p).await
        }
    }
    .unwrap();
    assert!(rows >= 3, "three accounts were created, each audited");
    assert!(text(&out.stdout).contains(&format!("{rows} rows, chain intact")), "{}", text(&out.stdout));

    // Tamper with the second account's creation row: the last three rows are the accounts.
    let seq = rows - 1;
    let exec = |sql: String| async move {
        match db {
            yigong_store::Db::Sqlite(p) => sqlx::query(&sql).execute(p).await.map(drop),
            yigong_store::Db::Postgres(p) => sqlx::query(&sql).execute(p).await.map(drop),
        }
        .unwrap()
    };
    let original: Option<String> = match db {
        yigong_store::Db::Sqlite(p) => {
            sqlx::query_scalar(&format!("SELECT detail FROM audit_event WHERE seq = {seq}"))
                .fetch_one(p)
                .await
        }
        yigong_store::Db::Postgres(p) => {
            sqlx::query_scalar(&format!("SELECT detail FROM audit_event WHERE seq = {seq}"))
                .fetch_one(p)
                .await
        }
    }
    .unwrap();
    let original = original.expect("an account's creation row names its role");
    assert!(original.contains("village_doctor"), "{original}");
    exec(format!("UPDATE audit_event SET detail = 'role=system_admin' WHERE seq = {seq}")).await;
    let out = verify();
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out.stdout);
    assert!(shown.contains(&format!("BROKEN at seq {seq}")) && shown.contains("row_edited"), "{shown}");
    exec(format!("UPDATE audit_event SET detail = '{original}' WHERE seq = {seq}")).await;
    assert!(verify().status.success(), "restoring the row restores the chain");

    exec(format!("DELETE FROM audit_event WHERE seq = {seq}")).await;
    let shown = text(&verify().stdout);
    assert!(shown.contains(&format!("BROKEN at seq {seq}")) && shown.contains("row_missing"), "{shown}");
}

#[tokio::test]
async fn audit_verify_sqlite() {
    audit_verify_detects_tampering(yigong_testkit::Backend::Sqlite).await;
}

#[tokio::test]
async fn audit_verify_postgres() {
    audit_verify_detects_tampering(yigong_testkit::Backend::Postgres).await;
}
