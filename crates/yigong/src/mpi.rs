//! `yigong mpi import` and `yigong mpi export-links`: loading a facility's patient list from
//! CSV through a mapping file, then matching across everything loaded; printing the pairs of
//! source records the index links.
//!
//! A file is read and checked whole before anything is written: a wrong encoding, a missing
//! mapped column or a broken row stops with the line number and loads nothing. Rows that are
//! readable but unusable (no local id, a repeated id, nothing to match on) are rejected one by
//! one with their reason and the rest is loaded.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use yigong_app::Ctx;
use yigong_app::mpi::Progress;
use yigong_app::mpi::file::{Mapping, read_csv};
use yigong_domain::ids::ConsortiumId;

/// Reads and checks a mapping file.
fn load_mapping(path: &Path) -> anyhow::Result<Mapping> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("read the mapping file {}", path.display()))?;
    Mapping::parse(&text).map_err(|e| anyhow::anyhow!("mapping file {}: {}", path.display(), e.message))
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

/// What `yigong mpi import` was given.
pub struct ImportArgs<'a> {
    /// Source name.
    pub source: &'a str,
    /// Mapping file.
    pub mapping: &'a Path,
    /// Id column override.
    pub id_column: Option<&'a str>,
    /// Matching configuration file.
    pub matching: Option<&'a Path>,
    /// Where to write rejected rows.
    pub rejects: Option<&'a Path>,
    /// The CSV file.
    pub file: &'a Path,
}

/// `yigong mpi import`.
pub async fn import(ctx: &Ctx, consortium: ConsortiumId, args: ImportArgs<'_>) -> anyhow::Result<()> {
    let ImportArgs { source, mapping, id_column, matching, rejects, file } = args;
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
    let mapping = load_mapping(mapping)?;
    let started = std::time::Instant::now();
    let bytes = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let (rows, rejected) = read_csv(&bytes, &mapping, id_column).map_err(|e| {
        anyhow::anyhow!("{}: line {}: {}; nothing was imported", file.display(), e.line, e.message)
    })?;
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
