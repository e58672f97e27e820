//! `yigong mpi import` and `export-links` on an empty database, as an operator runs them at
//! county rollout: mapping files, encodings, broken files, idempotent re-import, the export.

use std::path::Path;

use crate::cli::{text, yigong};

const MAPPING: &str = r#"
encoding = "utf-8"
id_column = "编号"
[fields]
name = "姓名"
sex = "性别"
birth_date = "出生日期"
resident_id = "身份证号"
phone = "电话"
address = ["乡镇", "村"]
"#;

/// A valid 18-character number for `body17`.
fn id(body17: &str) -> String {
    format!("{body17}{}", yigong_domain::identity::check_char(body17))
}

/// `n` synthetic people, one CSV row each: (row, resident ID).
fn people(n: usize, prefix: &str) -> Vec<String> {
    const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "欧阳", "诸葛"];
    const GIVEN: [&str; 10] = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "杰"];
    (0..n)
        .map(|i| {
            let year = 1940 + (i * 7) % 80;
            let month = 1 + (i * 5) % 12;
            let day = 1 + (i * 11) % 28;
            let male = i % 2 == 0;
            let seq = format!("{:02}{}", i % 100, if male { 1 } else { 2 });
            let rid = id(&format!("990121{year:04}{month:02}{day:02}{seq}"));
            let name = format!("{}{}{}", SURNAMES[i % 8], GIVEN[(i / 8) % 10], GIVEN[(i / 80) % 10]);
            format!(
                "{prefix}{i},{name},{},{year:04}-{month:02}-{day:02},{rid},139{:08},青岚镇,{}村",
                if male { "男" } else { "女" },
                i * 7919 % 100_000_000,
                i % 30
            )
        })
        .collect()
}

const HEADER: &str = "编号,姓名,性别,出生日期,身份证号,电话,乡镇,村";

fn write(dir: &Path, name: &str, rows: &[String]) {
    let mut csv = String::from(HEADER);
    csv.push('\n');
    for r in rows {
        csv.push_str(r);
        csv.push('\n');
    }
    std::fs::write(dir.join(name), csv).unwrap();
}

fn count(dir: &Path, sql: &str) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let url = format!("sqlite:{}", dir.join("d/yigong.db").display());
        let db = yigong_store::Db::connect(&url).await.unwrap();
        let yigong_store::Db::Sqlite(pool) = &db else { unreachable!() };
        let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await.unwrap();
        db.close().await;
        n
    })
}

#[test]
fn import_matches_across_sources_and_exports_the_links() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("mapping.toml"), MAPPING).unwrap();
    let hospital = people(600, "H");
    write(d, "hospital.csv", &hospital);
    // The township centre registered the first 40 of them again: its own numbers, dates written
    // as 19800305, and a homophone in every fourth name.
    let township: Vec<String> = hospital[..40]
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut f: Vec<String> = row.split(',').map(str::to_owned).collect();
            f[0] = format!("T{i}");
            f[3] = f[3].replace('-', "");
            if i % 4 == 0 {
                f[1] = f[1].replacen('伟', "卫", 1).replacen('芳', "方", 1);
            }
            f.join(",")
        })
        .collect();
    write(d, "township.csv", &township);

    let out = yigong(&["migrate", "--data", "d"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let import = |source: &str, file: &str| {
        yigong(&["mpi", "import", "--data", "d", "--source", source, "--mapping", "mapping.toml", file], d)
    };
    let out = import("H01", "hospital.csv");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("600 new"), "{}", text(&out.stderr));
    let out = import("T101", "township.csv");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(count(d, "SELECT COUNT(*) FROM mpi_record"), 640);
    assert_eq!(count(d, "SELECT COUNT(*) FROM mpi_person"), 600, "every township record found its person");

    // Re-importing the same file changes nothing.
    let out = import("T101", "township.csv");
    assert!(text(&out.stderr).contains("0 new, 0 updated, 40 unchanged"), "{}", text(&out.stderr));
    assert_eq!(count(d, "SELECT COUNT(*) FROM mpi_record"), 640);
    assert_eq!(count(d, "SELECT COUNT(*) FROM mpi_link"), 640);

    let out = yigong(&["mpi", "export-links", "--data", "d"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("id_1,id_2"));
    let mut pairs: Vec<(String, String)> = lines
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            let (a, b) = (a.to_owned(), b.to_owned());
            if a < b { (a, b) } else { (b, a) }
        })
        .collect();
    pairs.sort();
    let mut expected: Vec<(String, String)> = (0..40).map(|i| (format!("H{i}"), format!("T{i}"))).collect();
    expected.sort();
    assert_eq!(pairs, expected);

    // Limited to one source, no pair remains.
    let out = yigong(&["mpi", "export-links", "--data", "d", "--source", "H01"], d);
    assert_eq!(text(&out.stdout).trim(), "id_1,id_2");
}

#[test]
fn broken_files_stop_with_the_line_and_load_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("mapping.toml"), MAPPING).unwrap();
    assert!(yigong(&["migrate", "--data", "d"], d).status.success());
    let rows = people(5, "P");
    let import = |file: &str| {
        yigong(&["mpi", "import", "--data", "d", "--source", "S", "--mapping", "mapping.toml", file], d)
    };

    // GB18030 bytes read as UTF-8.
    let mut csv = format!("{HEADER}\n{}\n{}\n", rows[0], rows[1]);
    csv.push_str(&rows[2]);
    csv.push('\n');
    let (gb, _, _) = encoding_rs::GB18030.encode(&csv);
    std::fs::write(d.join("gb.csv"), &gb).unwrap();
    let out = import("gb.csv");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("line 1") && err.contains("not UTF-8") && err.contains("gb18030"), "{err}");

    // The same file with its encoding declared loads.
    std::fs::write(d.join("gb.toml"), MAPPING.replace("utf-8", "gb18030")).unwrap();
    let out =
        yigong(&["mpi", "import", "--data", "d", "--source", "GB", "--mapping", "gb.toml", "gb.csv"], d);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(count(d, "SELECT COUNT(*) FROM mpi_record"), 3);
    assert_eq!(
        count(d, "SELECT COUNT(*) FROM mpi_record WHERE name LIKE '王%'"),
        1,
        "decoded to the right characters"
    );

    // A row with an unclosed quote: the line is named and nothing of the file is loaded.
    let broken = format!("{HEADER}\n{}\n{}\n\"P9,王伟,男,1980-01-01\n{}\n", rows[3], rows[4], rows[0]);
    std::fs::write(d.join("broken.csv"), broken).unwrap();
    let out = import("broken.csv");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("line 4") && err.contains("nothing was imported"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // A mapped column missing from the header.
    std::fs::write(d.join("nocol.csv"), format!("编号,姓名\n{}\n", "X1,王伟")).unwrap();
    let out = import("nocol.csv");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("line 1") && err.contains("性别") && err.contains("身份证号"), "{err}");
    assert_eq!(count(d, "SELECT COUNT(*) FROM mpi_record"), 3, "no broken file loaded anything");

    // Readable rows that cannot be used are rejected one by one, with their reason.
    let partly = format!("{HEADER}\n{}\n,李四,男,1980-01-01,,,,\n{}\nQ1,,,,,,,\n", rows[3], rows[3]);
    std::fs::write(d.join("partly.csv"), partly).unwrap();
    let out = yigong(
        &[
            "mpi",
            "import",
            "--data",
            "d",
            "--source",
            "S",
            "--mapping",
            "mapping.toml",
            "--rejects",
            "rejects.csv",
            "partly.csv",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rejects = std::fs::read_to_string(d.join("rejects.csv")).unwrap();
    assert!(rejects.contains("3,,no local id"), "{rejects}");
    assert!(rejects.contains("local id repeated (first on line 2)"), "{rejects}");
    assert!(rejects.contains("neither a name nor an identifier"), "{rejects}");
    assert_eq!(count(d, "SELECT COUNT(*) FROM mpi_record"), 4);

    // An unknown field in the mapping names the field.
    std::fs::write(d.join("bad.toml"), MAPPING.replace("phone =", "mobile =")).unwrap();
    let out =
        yigong(&["mpi", "import", "--data", "d", "--source", "S", "--mapping", "bad.toml", "partly.csv"], d);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unknown MPI field `mobile`"), "{}", text(&out.stderr));
}
