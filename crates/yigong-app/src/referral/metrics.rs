//! Referral metrics (DESIGN.md §7.3) over the referrals in the viewer's reach: a consortium or
//! county scope sees every institution, an institution scope the referrals it sent or received.
//! The drill-down lists the referrals behind a number, de-identified (slip numbers, institutions,
//! states and times; no patient).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use yigong_domain::access::{Actor, Permission, Scope, Target};
use yigong_domain::ids::InstitutionId;
use yigong_domain::referral::metrics::{self as m, Measure, Row, Tally, china_month};
use yigong_store::referral::{self as store, Referral};

use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// How to group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// By calendar month (China time) of the event counted.
    Month,
    /// By receiving institution.
    Receiving,
    /// By sending institution.
    Sending,
}

impl Group {
    /// Parses `month`, `receiving`, `sending`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "month" => Some(Self::Month),
            "receiving" => Some(Self::Receiving),
            "sending" => Some(Self::Sending),
            _ => None,
        }
    }

    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Receiving => "receiving",
            Self::Sending => "sending",
        }
    }
}

/// What to compute: the days `[from, to]` (China time) and the grouping.
#[derive(Debug, Clone)]
pub struct MetricsQuery {
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Grouping.
    pub group: Group,
}

/// The metrics of a period.
#[derive(Debug, Clone)]
pub struct MetricsReport {
    /// Per group: key (month or institution id), label, tally.
    pub groups: Vec<(String, String, Tally)>,
    /// Over the whole period.
    pub total: Tally,
    /// When computed.
    pub computed_at: DateTime<Utc>,
}

fn bounds(q: &MetricsQuery) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    if q.to < q.from {
        return Err(yigong_domain::Invalid::one("to", "before_from", "to is on or after from").into());
    }
    if (q.to - q.from).num_days() > 366 * 3 {
        return Err(
            yigong_domain::Invalid::one("to", "period_too_long", "at most three years at once").into()
        );
    }
    Ok((super::green::china(q.from), super::green::china(q.to + chrono::Duration::days(1))))
}

/// The metric rows of a period within the actor's reach (authorised and audited as an aggregate read).
pub(super) async fn metric_rows_in_reach(
    ctx: &Ctx,
    actor: &Actor,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<Row>, AppError> {
    let consortium = actor.consortium_id;
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::IndicatorRead,
        &Target::consortium(consortium),
        Event::of("read", "referral_metrics"),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    let mut rows = store::metric_rows(&mut tx, consortium, from, to).await?;
    drop(tx);
    if let Scope::Institutions(set) = &actor.scope {
        rows.retain(|r| {
            set.contains(&r.from_institution) || r.to_institution.is_some_and(|t| set.contains(&t))
        });
    }
    audit::record_read(ctx, actor, consortium, basis, Event::of("read", "referral_metrics")).await?;
    Ok(rows)
}

fn key(group: Group, r: &Row, at: DateTime<Utc>) -> Option<String> {
    match group {
        Group::Month => Some(china_month(at)),
        Group::Receiving => r.to_institution.map(|i| i.to_string()),
        Group::Sending => Some(r.from_institution.to_string()),
    }
}

/// Computes the metrics of a period. Overdue counts are "now", whatever the period.
pub async fn metrics(ctx: &Ctx, actor: &Actor, q: &MetricsQuery) -> Result<MetricsReport, AppError> {
    let (from, to) = bounds(q)?;
    let rows = metric_rows_in_reach(ctx, actor, (from, to)).await?;
    let now = ctx.clock.now();
    let in_period =
        |measure: Measure, at: DateTime<Utc>| measure == Measure::Overdue || (at >= from && at < to);
    let groups =
        m::tally(&rows, now, |r, measure, at| in_period(measure, at).then(|| key(q.group, r, at)).flatten());
    let total = m::tally(&rows, now, |_, measure, at| in_period(measure, at).then_some(()))
        .remove(&())
        .unwrap_or_default();
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    if q.group != Group::Month {
        let mut tx = ctx.db.begin().await?;
        for k in groups.keys() {
            let id = uuid::Uuid::parse_str(k).map(InstitutionId::from_uuid).ok();
            let name = match id {
                Some(i) => {
                    yigong_store::institution::find(&mut tx, actor.consortium_id, i).await?.map(|i| i.name)
                }
                None => None,
            };
            labels.insert(k.clone(), name.unwrap_or_else(|| k.clone()));
        }
    }
    let groups = groups
        .into_iter()
        .map(|(k, t)| {
            let label = labels.get(&k).cloned().unwrap_or_else(|| k.clone());
            (k, label, t)
        })
        .collect();
    Ok(MetricsReport { groups, total, computed_at: now })
}

/// At most this many referrals behind one number are listed.
pub const DRILL_MAX: usize = 1000;

/// The referrals behind one number: `measure` in the period, within one group key (or all).
pub async fn drill_down(
    ctx: &Ctx,
    actor: &Actor,
    q: &MetricsQuery,
    measure: Measure,
    group_key: Option<&str>,
) -> Result<Vec<Referral>, AppError> {
    let (from, to) = bounds(q)?;
    let rows = metric_rows_in_reach(ctx, actor, (from, to)).await?;
    let now = ctx.clock.now();
    let ids: Vec<uuid::Uuid> = rows
        .iter()
        .filter(|row| {
            measure.time(row, now).is_some_and(|at| {
                (measure == Measure::Overdue || (at >= from && at < to))
                    && group_key.is_none_or(|k| key(q.group, row, at).as_deref() == Some(k))
            })
        })
        .map(|r| r.id)
        .take(DRILL_MAX)
        .collect();
    let mut tx = ctx.db.begin().await?;
    let mut out = store::by_ids(&mut tx, actor.consortium_id, &ids).await?;
    out.sort_by_key(|r| (r.submitted_at, r.id));
    Ok(out)
}
