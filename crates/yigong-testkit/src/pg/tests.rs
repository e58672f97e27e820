use std::path::Path;

use super::{find_bin, percent_encode};

/// Builds a fake `/usr/lib/postgresql` and a fake `PATH` directory from `layout` (paths of
/// empty files relative to a temp root, e.g. `lib/15/bin/initdb`), then checks which
/// directory `find_bin` picks, relative to the root.
fn check(layout: &[&str], override_dir: Option<&str>, expect: Option<&str>) {
    let root = tempfile::tempdir().unwrap();
    for file in layout {
        let path = root.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }
    let path_var = std::env::join_paths([root.path().join("empty"), root.path().join("usr/bin")]).unwrap();
    let found = find_bin(
        override_dir.map(|dir| root.path().join(dir).into()),
        &root.path().join("lib"),
        Some(path_var),
    );
    let found = found.map(|dir| dir.strip_prefix(root.path()).unwrap().to_owned());
    assert_eq!(found.as_deref(), expect.map(Path::new), "layout: {layout:?}, override: {override_dir:?}");
}

const V15: [&str; 2] = ["lib/15/bin/initdb", "lib/15/bin/pg_ctl"];
const V9_6: [&str; 2] = ["lib/9.6/bin/initdb", "lib/9.6/bin/pg_ctl"];
const ON_PATH: [&str; 2] = ["usr/bin/initdb", "usr/bin/pg_ctl"];

#[test]
fn nothing() {
    check(&[], None, None)
}
#[test]
fn debian_dir() {
    check(&V15, None, Some("lib/15/bin"))
}
#[test]
fn newest_by_number_not_text() {
    check(&[V9_6, V15].concat(), None, Some("lib/15/bin"))
}
#[test]
fn newest_complete_one() {
    check(&[&V15[..], &["lib/16/bin/initdb"]].concat(), None, Some("lib/15/bin"))
}
#[test]
fn not_a_version() {
    check(&["lib/common/bin/initdb", "lib/common/bin/pg_ctl"], None, None)
}
#[test]
fn debian_before_path() {
    check(&[V15, ON_PATH].concat(), None, Some("lib/15/bin"))
}
#[test]
fn path() {
    check(&ON_PATH, None, Some("usr/bin"))
}
#[test]
fn path_needs_both() {
    check(&["usr/bin/initdb"], None, None)
}
#[test]
fn override_wins() {
    check(&[&V15[..], &["mine/initdb", "mine/pg_ctl"]].concat(), Some("mine"), Some("mine"))
}
#[test]
fn override_missing_does_not_fall_back() {
    check(&[V15, ON_PATH].concat(), Some("nonexistent"), None)
}

#[test]
fn socket_paths_are_encoded() {
    assert_eq!(percent_encode("/tmp/yigong-pg-aB3_~.x/socket"), "/tmp/yigong-pg-aB3_~.x/socket");
    assert_eq!(percent_encode("/a b/c&d=e?%"), "/a%20b/c%26d%3De%3F%25");
}
