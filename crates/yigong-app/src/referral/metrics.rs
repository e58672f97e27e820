//! Referral metrics (DESIGN.md §7.3) over the referrals in the viewer's reach: a consortium or
//! county scope sees every institution, an institution scope the referrals it sent or received.
//! The drill-down lists the referrals behind a number, de-identified (slip numbers, institutions,
//! states and times; no patient).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use yigong_domain::access::{Actor, Permission, Scope, Target};
use yigong_domain::ids::InstitutionId;
use yigong_domain::referral::metrics::{Measure, Tally};
use yigong_store::referral::metrics::{GroupBy, Reach};
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

/// Authorises an aggregate read of referral metrics and returns the institutions of the actor's
/// reach (`None`: the whole consortium); the read is audited once done (`finish`).
pub(super) async fn reach_of(
    ctx: &Ctx,
    actor: &Actor,
) -> Result<(yigong_domain::access::Basis, Option<Vec<InstitutionId>>), AppError> {
    let basis = crate::access::authorize(
        ctx,
        actor,
        Permission::IndicatorRead,
        &Target::consortium(actor.consortium_id),
        Event::of("read", "referral_metrics"),
    )
    .await?;
    let set = match &actor.scope {
        Scope::Institutions(set) => Some(set.iter().copied().collect()),
        _ => None,
    };
    Ok((basis, set))
}

/// Audits an aggregate read authorised by [`reach_of`].
pub(super) async fn finish(
    ctx: &Ctx,
    actor: &Actor,
    basis: yigong_domain::access::Basis,
) -> Result<(), AppError> {
    audit::record_read(ctx, actor, actor.consortium_id, basis, Event::of("read", "referral_metrics")).await?;
    Ok(())
}

fn group_by(group: Group) -> GroupBy {
    match group {
        Group::Month => GroupBy::Month,
        Group::Receiving => GroupBy::Receiving,
        Group::Sending => GroupBy::Sending,
    }
}

/// Computes the metrics of a period (counted by the database). Overdue counts are "now",
/// whatever the period.
pub async fn metrics(ctx: &Ctx, actor: &Actor, q: &MetricsQuery) -> Result<MetricsReport, AppError> {
    let (from, to) = bounds(q)?;
    let (basis, set) = reach_of(ctx, actor).await?;
    let now = ctx.clock.now();
    let reach = Reach { from, to, now, institutions: set.as_deref() };
    let mut tx = ctx.db.begin().await?;
    let (counts, medians) =
        store::metrics::aggregate(&mut tx, actor.consortium_id, &reach, group_by(q.group)).await?;
    let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for c in counts {
        total.add(c.measure, c.direction, c.priority, c.n);
        if let Some(k) = c.key {
            groups.entry(k).or_default().add(c.measure, c.direction, c.priority, c.n);
        }
    }
    for m in medians {
        match (m.total, m.key) {
            (true, _) => {
                total.median_accept.insert(m.priority, m.minutes);
            }
            (false, Some(k)) => {
                groups.entry(k).or_default().median_accept.insert(m.priority, m.minutes);
            }
            (false, None) => {}
        }
    }
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    if q.group != Group::Month {
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
    drop(tx);
    finish(ctx, actor, basis).await?;
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
    let (basis, set) = reach_of(ctx, actor).await?;
    let reach = Reach { from, to, now: ctx.clock.now(), institutions: set.as_deref() };
    let mut tx = ctx.db.begin().await?;
    let group = group_key.map(|k| (group_by(q.group), k));
    let ids =
        store::metrics::ids(&mut tx, actor.consortium_id, &reach, measure, group, DRILL_MAX as i64).await?;
    let mut out = store::by_ids(&mut tx, actor.consortium_id, &ids).await?;
    drop(tx);
    finish(ctx, actor, basis).await?;
    out.sort_by_key(|r| (r.submitted_at, r.id));
    Ok(out)
}
