//! `yigong mpi import` and `yigong mpi export-links`: loading a facility's patient list from
//! CSV through a mapping file, then matching across everything loaded; printing the pairs of
//! source records the index links.
//!
//! A file is read and checked whole before anything is written: a wrong encoding, a missing
//! mapped column or a broken row stops with the line number and loads nothing. Rows that are
//! readable but unusable (no local id, a repeated id, nothing to match on) are rejected one by
//! one with their reason and the rest is loaded.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use yigong_app::Ctx;
use yigong_app::mpi::{ImportRow, Progress};
use yigong_domain::ids::ConsortiumId;
use yigong_mpi::Field;
use yigong_store::mpi::Values;

/// The text encodings a patient list may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8 (a byte-order mark is skipped).
    #[default]
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// GB 18030 (a superset of GBK and GB 2312), common in Chinese hospital systems.
    #[serde(rename = "gb18030", alias = "gbk")]
    Gb18030,
}

/// One MPI field's source: a column, or columns joined with one space.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    /// One column.
    One(String),
    /// Several, joined.
    Many(Vec<String>),
}

impl Columns {
    fn names(&self) -> Vec<&str> {
        match self {
            Self::One(c) => vec![c.as_str()],
            Self::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

/// A mapping file: which column holds the local id and which columns feed which MPI field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Text encoding of the file.
    #[serde(default)]
    pub encoding: Encoding,
    /// Field delimiter (default `,`).
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Column with the source's patient id.
    #[serde(default)]
    pub id_column: Option<String>,
    /// MPI field name → column(s).
    pub fields: BTreeMap<String, Columns>,
}

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("read the mapping file {}", path.display()))?;
        let mapping: Self =
            toml::from_str(&text).with_context(|| format!("mapping file {}", path.display()))?;
        for (field, columns) in &mapping.fields {
            if Field::parse(field).is_none() {
                let known: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
                bail!(
                    "mapping file {}: unknown MPI field `{field}` (known: {})",
                    path.display(),
                    known.join(", ")
                );
            }
            if columns.names().is_empty() {
                bail!("mapping file {}: field `{field}` names no column", path.display());
            }
        }
        if mapping.delimiter.is_some_and(|d| !d.is_ascii()) {
            bail!("mapping file {}: the delimiter must be one ASCII character", path.display());
        }
        Ok(mapping)
    }
}

/// A row left out, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Line in the file (1 = header).
    pub line: u64,
    /// Local id, if there was one.
    pub local_id: String,
    /// Why.
    pub reason: String,
}

/// Decodes the file, reporting the line of the first undecodable byte.
fn decode(bytes: &[u8], encoding: Encoding, path: &Path) -> anyhow::Result<String> {
    match encoding {
        Encoding::Utf8 => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            match std::str::from_utf8(bytes) {
                Ok(s) => Ok(s.to_owned()),
                Err(e) => bail!(
                    "{}: line {}: not UTF-8 text (is the file GB18030? set encoding = \"gb18030\" in the mapping); nothing was imported",
                    path.display(),
                    bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1,
                ),
            }
        }
        Encoding::Gb18030 => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                let line = text.lines().position(|l| l.contains('\u{FFFD}')).map_or(0, |i| i + 1);
                bail!("{}: line {line}: not GB18030 text; nothing was imported", path.display());
            }
            Ok(text.into_owned())
        }
    }
}

/// Reads a patient list: every row checked before anything is loaded.
pub fn read_csv(
    path: &Path,
    mapping: &Mapping,
    id_column: Option<&str>,
) -> anyhow::Result<(Vec<ImportRow>, Vec<Rejected>)> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let text = decode(&bytes, mapping.encoding, path)?;
    let id_column = id_column
        .or(mapping.id_column.as_deref())
        .context("no id column: give --id-column or id_column in the mapping file")?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(mapping.delimiter.map_or(b',', |d| d as u8))
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: line 1: unreadable header; nothing was imported", path.display()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let position = |name: &str| header.iter().position(|h| h == name);
    let mut missing: Vec<&str> = Vec::new();
    let id_index = position(id_column);
    if id_index.is_none() {
        missing.push(id_column);
    }
    let mut fields: Vec<(Field, Vec<usize>)> = Vec::new();
    for (name, columns) in &mapping.fields {
        let field = Field::parse(name).expect("checked when the mapping was loaded");
        let mut indexes = Vec::new();
        for column in columns.names() {
            match position(column) {
                Some(i) => indexes.push(i),
                None => missing.push(column),
            }
        }
        fields.push((field, indexes));
    }
    if !missing.is_empty() {
        bail!(
            "{}: line 1: mapped columns missing from the header: {} (the header has: {}); nothing was imported",
            path.display(),
            missing.join(", "),
            header.join(", ")
        );
    }
    let id_index = id_index.expect("checked above");
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for result in reader.records() {
        let record = result.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            let what = match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                    format!("{len} fields where the header has {expected_len} (broken quoting or delimiter?)")
                }
                _ => e.to_string(),
            };
            anyhow::anyhow!("{}: line {line}: {what}; nothing was imported", path.display())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let local_id = record.get(id_index).unwrap_or_default().to_owned();
        let reject = |reason: &str| Rejected { line, local_id: local_id.clone(), reason: reason.to_owned() };
        if local_id.is_empty() {
            rejected.push(reject("no local id"));
            continue;
        }
        if let Some(first) = seen.get(&local_id) {
            rejected.push(reject(&format!("local id repeated (first on line {first})")));
            continue;
        }
        let mut raw = yigong_mpi::RawRecord::default();
        for (field, indexes) in &fields {
            let parts: Vec<&str> =
                indexes.iter().filter_map(|&i| record.get(i)).filter(|v| !v.is_empty()).collect();
            if !parts.is_empty() {
                *raw.field_mut(*field) = Some(parts.join(" "));
            }
        }
        let values = values_of(raw);
        let has_name = values.name.is_some() || values.given_name.is_some() || values.family_name.is_some();
        let has_identifier = values.resident_id.is_some()
            || values.e_health_card.is_some()
            || values.insurance_number.is_some()
            || values.phone.is_some();
        if !has_name && !has_identifier {
            rejected.push(reject("neither a name nor an identifier to match on"));
            continue;
        }
        seen.insert(local_id.clone(), line);
        rows.push(ImportRow { line, local_id, values });
    }
    Ok((rows, rejected))
}

fn values_of(raw: yigong_mpi::RawRecord) -> Values {
    Values {
        name: raw.name,
        sex: raw.sex,
        birth_date: raw.birth_date,
        resident_id: raw.resident_id,
        resident_id_status: None,
        no_id_reason: None,
        phone: raw.phone,
        village_code: raw.village_code,
        household_id: raw.household_id,
        e_health_card: raw.e_health_card,
        insurance_number: raw.insurance_number,
        given_name: raw.given_name,
        family_name: raw.family_name,
        address: raw.address,
        locality: raw.locality,
        postcode: raw.postcode,
        region: raw.region,
    }
}

/// The consortium to load into: the one given, the only one, or (empty database) a new one.
pub async fn consortium(ctx: &Ctx, given: Option<uuid::Uuid>, county: &str) -> anyhow::Result<ConsortiumId> {
    let all = yigong_app::registry::list_all_consortia(ctx).await?;
    if let Some(id) = given {
        return all
            .iter()
            .find(|c| c.id.as_uuid() == id)
            .map(|c| c.id)
            .with_context(|| format!("no consortium {id} in this database"));
    }
    match all.as_slice() {
        [only] => Ok(only.id),
        [] => {
            let console = yigong_app::access::console(ConsortiumId::from_uuid(uuid::Uuid::nil()));
            let draft = yigong_domain::facility::ConsortiumDraft {
                name: format!("{county} 主索引 / patient index"),
                county_code: county.to_owned(),
                founded_on: Some(ctx.clock.now().date_naive()),
            };
            let c = yigong_app::registry::create_consortium(ctx, &console, draft)
                .await
                .map_err(crate::accounts::describe)?;
            eprintln!("created consortium {} for county {county} (empty database)", c.id);
            Ok(c.id)
        }
        _ => bail!("this database holds {} consortia: choose one with --consortium", all.len()),
    }
}

fn progress_bar() -> Progress {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:8} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    Progress::new(move |phase, done, total| {
        bar.set_message(phase.to_owned());
        bar.set_length(total);
        bar.set_position(done);
        if phase == "write" && done == total {
            bar.finish_and_clear();
        }
    })
}

/// `yigong mpi import`.
pub async fn import(
    ctx: &Ctx,
    consortium: ConsortiumId,
    source: &str,
    mapping: &Path,
    id_column: Option<&str>,
    matching: Option<&Path>,
    rejects: Option<&Path>,
    file: &Path,
) -> anyhow::Result<()> {
    let source = source.trim();
    if source.is_empty() || source.chars().count() > 40 {
        bail!("--source: give the source a name of 1 to 40 characters");
    }
    let config = matching
        .map(|p| -> anyhow::Result<yigong_mpi::Config> {
            let text = std::fs::read_to_string(p).with_context(|| format!("read {}", p.display()))?;
            yigong_mpi::Config::from_toml(&text)
                .with_context(|| format!("matching configuration {}", p.display()))
        })
        .transpose()?;
    let mapping = Mapping::load(mapping)?;
    let started = std::time::Instant::now();
    let (rows, rejected) = read_csv(file, &mapping, id_column)?;
    let progress = progress_bar();
    let report = yigong_app::mpi::import_rows(ctx, consortium, source, rows, &progress)
        .await
        .map_err(crate::accounts::describe)?;
    eprintln!(
        "{}: {} new, {} updated, {} unchanged, {} rejected, {} resident IDs unverified ({:.1} s)",
        file.display(),
        report.inserted,
        report.updated,
        report.unchanged,
        rejected.len(),
        report.unverified_ids,
        started.elapsed().as_secs_f64()
    );
    if !rejected.is_empty() {
        match rejects {
            Some(path) => {
                let mut out =
                    std::fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
                writeln!(out, "line,local_id,reason")?;
                for r in &rejected {
                    writeln!(out, "{},{},{}", r.line, csv_field(&r.local_id), csv_field(&r.reason))?;
                }
                eprintln!("rejected rows and their reasons: {}", path.display());
            }
            None => {
                for r in rejected.iter().take(20) {
                    eprintln!("  line {}: {} ({})", r.line, r.reason, r.local_id);
                }
                if rejected.len() > 20 {
                    eprintln!("  … {} more (write them all with --rejects FILE)", rejected.len() - 20);
                }
            }
        }
    }
    let matching = yigong_app::mpi::rematch(ctx, consortium, config, &progress_bar())
        .await
        .map_err(crate::accounts::describe)?;
    eprintln!(
        "matched {} records ({} new): {} candidate pairs, {} auto-link, {} review; {} persons created, {} records linked automatically, {} pairs queued for review; EM {} iterations{}; model {} ({:.1} s read, {:.1} s match, {:.1} s write)",
        matching.records,
        matching.unlinked,
        matching.candidate_pairs,
        matching.auto_pairs,
        matching.review_pairs,
        matching.persons_created,
        matching.auto_linked,
        matching.queued,
        matching.em_iterations,
        if matching.em_converged { "" } else { " (not converged)" },
        matching.model_version,
        matching.seconds[0],
        matching.seconds[1],
        matching.seconds[2],
    );
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// `yigong mpi export-links`: `id_1,id_2` for every pair of records the index linked to one
/// person automatically, optionally only between the given sources.
pub async fn export_links(ctx: &Ctx, consortium: ConsortiumId, sources: &[String]) -> anyhow::Result<()> {
    let pairs =
        yigong_app::mpi::linked_pairs(ctx, consortium, sources).await.map_err(crate::accounts::describe)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    writeln!(out, "id_1,id_2")?;
    for ((_, a), (_, b)) in pairs {
        writeln!(out, "{},{}", csv_field(&a), csv_field(&b))?;
    }
    out.flush()?;
    Ok(())
}
