//! Generates the synthetic county and loads it through the application, with progress shown
//! as a bar on a terminal and as structured log lines otherwise.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use yigong_app::Ctx;
use yigong_app::seed::{self, OrganisationSeed};
use yigong_synth::SynthConfig;

use crate::config::Config;

/// Reports `done / total` of one phase.
pub struct Progress {
    phase: &'static str,
    bar: Option<ProgressBar>,
    total: u64,
    last_logged_percent: u64,
}

impl Progress {
    /// A bar on a terminal, log lines every 10% otherwise.
    pub fn new(phase: &'static str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} ({eta})")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(phase);
            bar
        });
        Self { phase, bar, total, last_logged_percent: 0 }
    }

    /// Records progress.
    pub fn set(&mut self, done: u64) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None => {
                let percent = (done * 100).checked_div(self.total).unwrap_or(100);
                if percent >= self.last_logged_percent + 10 || done == self.total {
                    self.last_logged_percent = percent;
                    tracing::info!(phase = self.phase, done, total = self.total, percent, "progress");
                }
            }
        }
    }

    /// Ends the phase.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish();
        }
    }
}

/// Generates the configured county into `ctx`'s (empty) database.
pub async fn synthetic_county(ctx: &Ctx, config: &Config) -> anyhow::Result<yigong_synth::Organisation> {
    let started = Instant::now();
    let cfg =
        SynthConfig { seed: config.synth.seed, residents: config.synth.residents, ..SynthConfig::demo() };
    let org = yigong_synth::organisation(&cfg);
    let organisation = OrganisationSeed {
        consortium: &org.consortium,
        divisions: &org.divisions,
        institutions: &org.institutions,
        departments: &org.departments,
        staff: &org.staff,
        postings: &org.postings,
    };
    let rows = (org.divisions.len()
        + org.institutions.len()
        + org.departments.len()
        + org.staff.len()
        + org.postings.len()) as u64;
    let mut progress = Progress::new("organisation", rows);
    seed::load_organisation(ctx, organisation, |done, _| progress.set(done)).await?;
    progress.finish();

    let mut progress = Progress::new("residents", u64::from(cfg.residents));
    let mut loaded = 0u64;
    // One transaction per batch of villages keeps each commit large enough to be fast and
    // small enough that progress moves; the demo's done-marker covers an interrupted run.
    let mut households = Vec::new();
    let mut records = Vec::new();
    for village in yigong_synth::residents(&cfg, &org) {
        households.extend(village.households);
        records.extend(village.records);
        if records.len() >= 20_000 {
            seed::load_residents(ctx, &households, &records).await?;
            loaded += records.len() as u64;
            progress.set(loaded.min(u64::from(cfg.residents)));
            households.clear();
            records.clear();
        }
    }
    seed::load_residents(ctx, &households, &records).await?;
    loaded += records.len() as u64;
    progress.set(loaded.min(u64::from(cfg.residents)));
    progress.finish();
    tracing::info!(
        institutions = org.institutions.len(),
        staff = org.staff.len(),
        residents = loaded,
        seconds = started.elapsed().as_secs_f64(),
        "synthetic county generated"
    );
    Ok(org)
}
