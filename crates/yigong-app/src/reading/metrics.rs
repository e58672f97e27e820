//! Reading-centre metrics (DESIGN.md §6.2, §7): remote reports by centre and origin tier,
//! turnaround against the limits (median, share on time), overdue now, critical-value
//! acknowledgement times, and the recognition rate and avoided cost by institution and month.
//! Aggregates only: no patient appears.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use yigong_domain::access::{Actor, Permission, Target};
use yigong_domain::facility::Tier;
use yigong_domain::ids::InstitutionId;
use yigong_domain::page::PageRequest;
use yigong_domain::reading::recognition::RecognitionTally;
use yigong_domain::reading::{Centre, CriticalState, ItemState};
use yigong_domain::referral::metrics::{Ratio, median};
use yigong_store::institution;
use yigong_store::reading as store;

use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// Turnaround of one centre for items from one origin level.
#[derive(Debug, Clone, Default)]
pub struct CentreTurnaround {
    /// Items received.
    pub received: u64,
    /// Of which the counted report is signed.
    pub reported: u64,
    /// Median minutes from receipt to the counted report.
    pub median_minutes: Option<f64>,
    /// Reported within the limit ÷ reported.
    pub on_time: Ratio,
}

/// Recognition at one institution in one month.
#[derive(Debug, Clone)]
pub struct RecognitionRow {
    /// Institution.
    pub institution_id: InstitutionId,
    /// Its name.
    pub institution_name: String,
    /// `YYYY-MM` (China time).
    pub month: String,
    /// The tally.
    pub tally: RecognitionTally,
}

/// Everything the metrics page shows for a period.
#[derive(Debug, Clone, Default)]
pub struct ReadingMetrics {
    /// (centre, origin is grassroots) → turnaround.
    pub turnaround: BTreeMap<(Centre, bool), CentreTurnaround>,
    /// Items received per centre and month (China time), for the chart.
    pub monthly: BTreeMap<(String, Centre), u64>,
    /// Open and past the deadline now, per centre.
    pub overdue_now: BTreeMap<Centre, i64>,
    /// Critical values identified in the period.
    pub critical_count: u64,
    /// Of which still open now.
    pub critical_open: u64,
    /// Median minutes from identification to acknowledgement.
    pub critical_median_ack: Option<f64>,
    /// Acknowledged within the limit ÷ acknowledged.
    pub critical_ack_on_time: Ratio,
    /// Recognition by institution and month.
    pub recognition: Vec<RecognitionRow>,
    /// Recognition over the whole period.
    pub recognition_total: RecognitionTally,
}

fn month(at: DateTime<Utc>) -> String {
    let china = at.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("valid offset"));
    format!("{:04}-{:02}", china.year(), china.month())
}

/// Turnaround by centre and whether the origin is a grassroots site.
pub type Turnaround = BTreeMap<(Centre, bool), CentreTurnaround>;
/// Items received by China-time month (`YYYY-MM`) and centre.
pub type Monthly = BTreeMap<(String, Centre), u64>;

/// Turnaround by centre and origin level from the database's counts (medians from the counts).
pub fn turnaround_of_counts(counts: &[store::TurnaroundCount]) -> BTreeMap<(Centre, bool), CentreTurnaround> {
    let mut out: BTreeMap<(Centre, bool), CentreTurnaround> = BTreeMap::new();
    let mut histograms: BTreeMap<(Centre, bool), BTreeMap<i64, u64>> = BTreeMap::new();
    for c in counts {
        let key = (c.centre, c.grassroots);
        let n = c.count as u64;
        let t = out.entry(key).or_default();
        t.received += n;
        if let Some(m) = c.minutes {
            t.reported += n;
            t.on_time.den += n;
            if c.on_time {
                t.on_time.num += n;
            }
            *histograms.entry(key).or_default().entry(m).or_default() += n;
        }
    }
    for (key, h) in histograms {
        if let Some(t) = out.get_mut(&key) {
            t.median_minutes = median_of_counts(&h);
        }
    }
    out
}

/// The median of values given as value → how many.
fn median_of_counts(h: &BTreeMap<i64, u64>) -> Option<f64> {
    let n: u64 = h.values().sum();
    if n == 0 {
        return None;
    }
    let at = |k: u64| {
        let mut seen = 0;
        for (v, c) in h {
            seen += c;
            if k < seen {
                return *v;
            }
        }
        unreachable!("k < n")
    };
    Some(if n % 2 == 1 { at(n / 2) as f64 } else { (at(n / 2 - 1) + at(n / 2)) as f64 / 2.0 })
}

/// The definition the database's counts are held to: turnaround and monthly volumes folded
/// from the items themselves (`grassroots` says whether an institution is a grassroots site).
pub fn turnaround_of_rows(
    rows: &[store::TurnaroundRow],
    grassroots: impl Fn(InstitutionId) -> bool,
) -> (Turnaround, Monthly) {
    let mut out: BTreeMap<(Centre, bool), CentreTurnaround> = BTreeMap::new();
    let mut monthly = BTreeMap::new();
    let mut minutes: BTreeMap<(Centre, bool), Vec<i64>> = BTreeMap::new();
    for r in rows {
        let key = (r.centre, grassroots(r.ordering_institution_id));
        let t = out.entry(key).or_default();
        t.received += 1;
        *monthly.entry((month(r.received_at), r.centre)).or_default() += 1;
        let counted =
            if r.urgency.due_at_preliminary() { r.preliminary_at.or(r.final_at) } else { r.final_at };
        if let Some(at) =
            counted.filter(|_| !matches!(r.state, ItemState::Cancelled | ItemState::RejectedQuality))
        {
            t.reported += 1;
            t.on_time.den += 1;
            if r.due_at.is_some_and(|due| at <= due) {
                t.on_time.num += 1;
            }
            minutes.entry(key).or_default().push((at - r.received_at).num_minutes());
        }
    }
    for (key, mut m) in minutes {
        m.sort_unstable();
        if let Some(t) = out.get_mut(&key) {
            t.median_minutes = median(&m);
        }
    }
    (out, monthly)
}

/// The metrics of `[from, to)` for managers, the bureau and reading centres' coordinators.
pub async fn metrics(
    ctx: &Ctx,
    actor: &Actor,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<ReadingMetrics, AppError> {
    let consortium = actor.consortium_id;
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::IndicatorRead,
        &Target::consortium(consortium),
        Event::of("read", "reading_metrics"),
    )
    .await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let mut tiers: BTreeMap<InstitutionId, (Option<Tier>, String)> = BTreeMap::new();
    let mut page = PageRequest { size: 500, after: None };
    loop {
        let found = institution::list(&mut tx, consortium, &institution::Filter::default(), &page).await?;
        for i in &found.items {
            tiers.insert(i.id, (i.kind.tier(), i.name.clone()));
        }
        match found.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    let county: Vec<&str> = Tier::ALL.iter().filter(|t| t.is_county_level()).map(|t| t.as_str()).collect();
    let counts = store::turnaround_counts(&mut tx, consortium, from, to, &county).await?;
    let monthly = store::monthly_counts(&mut tx, consortium, from, to).await?;
    let criticals = store::criticals_between(&mut tx, consortium, from, to).await?;
    let decisions = store::decisions_between(&mut tx, consortium, from, to).await?;
    let overdue = store::overdue_now(&mut tx, consortium, now).await?;
    drop(tx);

    let mut out = ReadingMetrics { turnaround: turnaround_of_counts(&counts), ..ReadingMetrics::default() };
    let received: u64 = counts.iter().map(|c| c.count as u64).sum();
    for (month, centre, n) in monthly {
        out.monthly.insert((month, centre), n as u64);
    }
    out.overdue_now = overdue.into_iter().collect();
    let mut ack = Vec::new();
    for c in &criticals {
        out.critical_count += 1;
        if c.state != CriticalState::Closed {
            out.critical_open += 1;
        }
        if let Some(at) = c.acknowledged_at {
            let m = (at - c.identified_at).num_minutes();
            ack.push(m);
            out.critical_ack_on_time.den += 1;
            if at - c.notified_at.unwrap_or(c.identified_at) <= ctx.critical.acknowledge_within {
                out.critical_ack_on_time.num += 1;
            }
        }
    }
    ack.sort_unstable();
    out.critical_median_ack = median(&ack);
    let mut by: BTreeMap<(String, InstitutionId), RecognitionTally> = BTreeMap::new();
    for (institution, at, recognised, price) in decisions {
        by.entry((month(at), institution)).or_default().add(recognised, price);
        out.recognition_total.add(recognised, price);
    }
    out.recognition = by
        .into_iter()
        .map(|((month, institution_id), tally)| RecognitionRow {
            institution_name: tiers.get(&institution_id).map(|t| t.1.clone()).unwrap_or_default(),
            institution_id,
            month,
            tally,
        })
        .collect();
    audit::record_read(
        ctx,
        actor,
        consortium,
        basis,
        Event {
            detail: Some(format!("received={received} criticals={}", criticals.len())),
            ..Event::of("read", "reading_metrics")
        },
    )
    .await?;
    Ok(out)
}
