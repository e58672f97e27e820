//! Schema lint: every table is declared tenant or reference; tenant tables lead their primary
//! key, unique constraints and foreign keys with `consortium_id` (the distribution key); the
//! two migration folders hold the same file names.

use std::collections::BTreeSet;

use yigong_store::{DIRECTORY_TABLES, Db, REFERENCE_TABLES, TENANT_TABLES};

/// (table, primary key columns in order, unique constraints' columns, foreign keys' local columns)
struct TableShape {
    name: String,
    primary_key: Vec<String>,
    uniques: Vec<Vec<String>>,
    foreign_keys: Vec<(String, Vec<String>)>,
}

async fn shapes(db: &Db) -> Vec<TableShape> {
    match db {
        Db::Sqlite(pool) => {
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            let mut out = Vec::new();
            for (name,) in tables {
                let cols: Vec<(String, i64)> = sqlx::query_as(&format!(
                    "SELECT name, pk FROM pragma_table_info('{name}') WHERE pk > 0 ORDER BY pk"
                ))
                .fetch_all(pool)
                .await
                .unwrap();
                let indexes: Vec<(String,)> = sqlx::query_as(&format!(
                    "SELECT name FROM pragma_index_list('{name}') WHERE \"unique\" = 1 AND origin = 'u'"
                ))
                .fetch_all(pool)
                .await
                .unwrap();
                let mut uniques = Vec::new();
                for (index,) in indexes {
                    let c: Vec<(String,)> = sqlx::query_as(&format!(
                        "SELECT name FROM pragma_index_info('{index}') ORDER BY seqno"
                    ))
                    .fetch_all(pool)
                    .await
                    .unwrap();
                    uniques.push(c.into_iter().map(|(c,)| c).collect());
                }
                let fks: Vec<(i64, String, String)> = sqlx::query_as(&format!(
                    "SELECT id, \"table\", \"from\" FROM pragma_foreign_key_list('{name}') ORDER BY id, seq"
                ))
                .fetch_all(pool)
                .await
                .unwrap();
                let mut foreign_keys: Vec<(String, Vec<String>)> = Vec::new();
                let mut last = -1;
                for (id, target, from) in fks {
                    if id != last {
                        foreign_keys.push((target, Vec::new()));
                        last = id;
                    }
                    foreign_keys.last_mut().unwrap().1.push(from);
                }
                out.push(TableShape {
                    name,
                    primary_key: cols.into_iter().map(|(c, _)| c).collect(),
                    uniques,
                    foreign_keys,
                });
            }
            out
        }
        Db::Postgres(pool) => {
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' \
                 AND table_type = 'BASE TABLE' AND table_name NOT LIKE '_sqlx%'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            let mut out = Vec::new();
            for (name,) in tables {
                // Constraint columns in key order, per constraint type.
                let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
                    "SELECT c.conname::text, c.contype::text, a.attname::text, t.relname::text \
                     FROM pg_constraint c \
                     JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) ON true \
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
                     LEFT JOIN pg_class t ON t.oid = c.confrelid \
                     WHERE c.conrelid = $1::regclass AND c.contype IN ('p', 'u', 'f') ORDER BY c.conname, k.ord",
                )
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
                let mut shape = TableShape {
                    name: name.clone(),
                    primary_key: vec![],
                    uniques: vec![],
                    foreign_keys: vec![],
                };
                let mut current: Option<(String, String, Option<String>, Vec<String>)> = None;
                let flush = |c: Option<(String, String, Option<String>, Vec<String>)>,
                             shape: &mut TableShape| {
                    if let Some((_, kind, target, cols)) = c {
                        match kind.as_str() {
                            "p" => shape.primary_key = cols,
                            "u" => shape.uniques.push(cols),
                            _ => shape.foreign_keys.push((target.unwrap_or_default(), cols)),
                        }
                    }
                };
                for (conname, kind, col, target) in rows {
                    match &mut current {
                        Some((n, _, _, cols)) if *n == conname => cols.push(col),
                        _ => {
                            flush(current.take(), &mut shape);
                            current = Some((conname, kind, target, vec![col]));
                        }
                    }
                }
                flush(current.take(), &mut shape);
                out.push(shape);
            }
            out
        }
    }
}

pub async fn every_tenant_table_is_keyed_by_consortium(db: &Db) {
    let shapes = shapes(db).await;
    let names: BTreeSet<&str> = shapes.iter().map(|s| s.name.as_str()).collect();
    let declared: BTreeSet<&str> =
        TENANT_TABLES.iter().chain(REFERENCE_TABLES).chain(DIRECTORY_TABLES).copied().collect();
    assert_eq!(
        names, declared,
        "each table must be listed in TENANT_TABLES, REFERENCE_TABLES or DIRECTORY_TABLES"
    );
    for s in &shapes {
        if REFERENCE_TABLES.contains(&s.name.as_str()) {
            assert!(s.foreign_keys.is_empty(), "reference table {} must not reference tenant rows", s.name);
            continue;
        }
        if DIRECTORY_TABLES.contains(&s.name.as_str()) {
            for (target, _) in &s.foreign_keys {
                assert!(
                    DIRECTORY_TABLES.contains(&target.as_str()),
                    "directory table {} references tenant {target}",
                    s.name
                );
            }
            continue;
        }
        assert_eq!(
            s.primary_key.first().map(String::as_str),
            Some("consortium_id"),
            "primary key of {}",
            s.name
        );
        for u in &s.uniques {
            assert_eq!(u.first().map(String::as_str), Some("consortium_id"), "unique {:?} of {}", u, s.name);
        }
        for (target, cols) in &s.foreign_keys {
            if DIRECTORY_TABLES.contains(&target.as_str()) {
                continue; // accounts: a small global table every node holds
            }
            assert!(TENANT_TABLES.contains(&target.as_str()), "{} references non-tenant {target}", s.name);
            assert!(
                cols.iter().any(|c| c == "consortium_id"),
                "foreign key {cols:?} of {} lacks consortium_id",
                s.name
            );
        }
    }
}

#[test]
fn migration_folders_are_twins() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let list = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let sqlite = list("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, list("postgres"));
}
