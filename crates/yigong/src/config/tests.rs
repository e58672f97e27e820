#![allow(clippy::result_large_err, reason = "figment::Jail fixes the error type of its closure")]

use figment::Jail;

use super::*;

fn load(jail_env: &[(&str, &str)], toml: Option<&str>) -> Result<Config, String> {
    let mut result = Err(String::new());
    Jail::expect_with(|jail| {
        for (k, v) in jail_env {
            jail.set_env(k, v);
        }
        if let Some(t) = toml {
            jail.create_file("yigong.toml", t)?;
        }
        result = Config::load(None, Config::env(), &Overrides::default()).map_err(|e| e.to_string());
        Ok(())
    });
    result
}

#[test]
fn defaults() {
    let c = load(&[], None).unwrap();
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.database_url(), "sqlite:yigong-data/yigong.db");
}

#[test]
fn file_then_env() {
    let c = load(
        &[("YIGONG_SERVER__LISTEN", "0.0.0.0:9000")],
        Some("[server]\nlisten = \"127.0.0.1:7000\"\n[synth]\nresidents = 5\n"),
    )
    .unwrap();
    assert_eq!(c.server.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(c.synth.residents, 5);
}

#[test]
fn unknown_key_in_file_is_named() {
    let e = load(&[], Some("[server]\nlisen = \"127.0.0.1:7000\"\n")).unwrap_err();
    assert!(e.contains("lisen"), "{e}");
}

#[test]
fn unknown_env_key_is_named() {
    let e = load(&[("YIGONG_SERVER__PORT", "1")], None).unwrap_err();
    assert!(e.contains("port"), "{e}");
}

#[test]
fn unrelated_variables_are_ignored() {
    assert!(load(&[("YIGONG_PG_BIN", "/x")], None).is_ok());
}

#[test]
fn password_never_shown() {
    let c =
        load(&[("YIGONG_STORAGE__DATABASE_URL", "postgres://yg:s3cret@db.example/yigong")], None).unwrap();
    assert!(!format!("{c:?}").contains("s3cret"));
    let shown = c.to_redacted_toml().unwrap();
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("postgres://yg:***@db.example/yigong"), "{shown}");
    assert_eq!(c.database_url(), "postgres://yg:s3cret@db.example/yigong");
}
