//! The allowed dependency edges between our crates (ARCHITECTURE.md): a boundary only
//! written down erodes one import at a time.

use std::collections::{BTreeMap, BTreeSet};

/// Normal (non-dev) dependencies each crate may have on the others.
const ALLOWED: &[(&str, &[&str])] = &[
    ("yigong-domain", &[]),
    ("yigong-store", &["yigong-domain"]),
    ("yigong-app", &["yigong-domain", "yigong-store", "yigong-mpi", "yigong-fhir", "yigong-dicom"]),
    ("yigong-http", &["yigong-domain", "yigong-app", "yigong-fhir", "yigong-dicom"]),
    ("yigong-synth", &["yigong-domain"]),
    ("yigong-mpi", &["yigong-domain"]),
    ("yigong-fhir", &[]),
    ("yigong-dicom", &["yigong-domain"]),
    ("yigong-testkit", &["yigong-domain", "yigong-store"]),
    (
        "yigong",
        &[
            "yigong-domain",
            "yigong-store",
            "yigong-app",
            "yigong-http",
            "yigong-synth",
            "yigong-mpi",
            "yigong-fhir",
            "yigong-dicom",
        ],
    ),
];

/// Crates the domain may use: no I/O, no runtime, no database, no HTTP.
const DOMAIN_EXTERNAL: &[&str] = &["chrono", "serde", "thiserror", "uuid"];

fn metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("metadata JSON")
}

#[test]
fn crate_edges_are_the_allowed_ones() {
    let meta = metadata();
    let mut actual: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut domain_external = BTreeSet::new();
    for package in meta["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap().to_owned();
        let entry = actual.entry(name.clone()).or_default();
        for dep in package["dependencies"].as_array().unwrap() {
            // Dev-dependencies (kind "dev") are for tests and may reach further.
            if dep["kind"].as_str() == Some("dev") {
                continue;
            }
            let dep_name = dep["name"].as_str().unwrap();
            if dep_name.starts_with("yigong") {
                entry.insert(dep_name.to_owned());
            } else if name == "yigong-domain" {
                domain_external.insert(dep_name.to_owned());
            }
        }
    }
    let allowed: BTreeMap<String, BTreeSet<String>> =
        ALLOWED.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect();
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        allowed.keys().collect::<Vec<_>>(),
        "every crate has a rule"
    );
    for (name, deps) in &actual {
        let extra: Vec<_> = deps.difference(&allowed[name]).collect();
        assert!(extra.is_empty(), "{name} must not depend on {extra:?}");
    }
    let allowed_external: BTreeSet<String> = DOMAIN_EXTERNAL.iter().map(|s| s.to_string()).collect();
    let extra: Vec<_> = domain_external.difference(&allowed_external).collect();
    assert!(extra.is_empty(), "yigong-domain must stay free of I/O crates, found {extra:?}");
}
