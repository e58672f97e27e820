//! Green-channel cases: time stamps recorded against a green referral and the accreditation
//! metrics computed from them, per case and per month.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;
use yigong_domain::access::{Actor, Permission, Target};
use yigong_domain::referral::green::{
    self, CaseValue, Centre, Milestone, MonthValue, OutOfOrder, StampSource,
};
use yigong_store::Tx;
use yigong_store::referral::{self as store, Referral, Stamp};

use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// One green case: its stamps, metrics and warnings.
#[derive(Debug, Clone)]
pub struct GreenCase {
    /// The centre.
    pub centre: Centre,
    /// Stamps in chain order.
    pub stamps: Vec<Stamp>,
    /// Interval metrics.
    pub metrics: Vec<CaseValue>,
    /// Stamps out of the chain's order.
    pub out_of_order: Vec<OutOfOrder>,
}

pub(super) async fn case_of(tx: &mut Tx, r: &Referral) -> Result<GreenCase, AppError> {
    let centre = r.green_centre.ok_or(AppError::not_found("green_case"))?;
    let mut stamps: Vec<Stamp> =
        store::stamps(tx, r.consortium_id, &[r.id]).await?.into_iter().map(|(_, s)| s).collect();
    let order = |m: &Milestone| centre.chain().iter().position(|c| c == m).unwrap_or(usize::MAX);
    stamps.sort_by_key(|s| (order(&s.milestone), s.at));
    let map: BTreeMap<Milestone, DateTime<Utc>> = stamps.iter().map(|s| (s.milestone, s.at)).collect();
    Ok(GreenCase {
        centre,
        metrics: green::case_metrics(centre, &map),
        out_of_order: green::out_of_order(centre, &map),
        stamps,
    })
}

/// Records (or corrects) one time stamp of a green referral, by either side's staff.
pub async fn record_stamp(
    ctx: &Ctx,
    actor: &Actor,
    referral_id: Uuid,
    milestone: Milestone,
    at: DateTime<Utc>,
    source: StampSource,
) -> Result<GreenCase, AppError> {
    let consortium = actor.consortium_id;
    super::gate(ctx, actor, Permission::PatientWrite, Event::on("update", "green_stamp", referral_id))
        .await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    let r = store::find(&mut tx, consortium, referral_id).await?.ok_or(AppError::not_found("referral"))?;
    let Some(centre) = r.green_centre else {
        return Err(yigong_domain::Invalid::one(
            "referral",
            "not_green",
            "only green referrals have a time chain",
        )
        .into());
    };
    if !centre.chain().contains(&milestone) {
        return Err(yigong_domain::Invalid::one(
            "milestone",
            "milestone_not_in_chain",
            "this centre's chain has no such milestone",
        )
        .into());
    }
    if at > now + chrono::Duration::minutes(5) {
        return Err(
            yigong_domain::Invalid::one("at", "in_future", "a time stamp cannot be in the future").into()
        );
    }
    if super::parties(actor, &r).is_empty() {
        drop(tx);
        return Err(super::refuse(ctx, actor, &r, "update").await);
    }
    let person = yigong_store::mpi::person_of(&mut tx, consortium, r.patient_record_id).await?;
    let stamp = Stamp {
        milestone,
        at,
        source,
        institution_id: actor.institution_id,
        recorded_by: Some(actor.user_id),
        recorded_at: now,
    };
    store::put_stamp(&mut tx, consortium, referral_id, &stamp).await?;
    let target = Target {
        consortium_id: consortium,
        institution_id: actor.institution_id,
        patient: person.map(|p| p.as_uuid()),
    };
    let basis = yigong_domain::access::decide(actor, Permission::PatientWrite, &target, now)
        .unwrap_or(yigong_domain::access::Basis::Referral);
    audit::record(
        ctx,
        &mut tx,
        actor,
        consortium,
        basis,
        Event {
            patient_id: person.map(|p| p.as_uuid()),
            ..Event::on("update", "green_stamp", referral_id).with_detail(format!("milestone={milestone}"))
        },
    )
    .await?;
    let case = case_of(&mut tx, &r).await?;
    tx.commit().await?;
    Ok(case)
}

/// A month of one centre's cases received by institutions in the viewer's reach.
pub async fn green_month(
    ctx: &Ctx,
    actor: &Actor,
    centre: Centre,
    month: &str,
) -> Result<(Vec<MonthValue>, usize), AppError> {
    let (from, to) = month_range(month)?;
    let (basis, set) = super::metrics::reach_of(ctx, actor).await?;
    let reach = store::metrics::Reach { from, to, now: ctx.clock.now(), institutions: set.as_deref() };
    let mut tx = ctx.db.begin().await?;
    let ids = store::metrics::green_ids(&mut tx, actor.consortium_id, centre, &reach).await?;
    let stamps = store::stamps(&mut tx, actor.consortium_id, &ids).await?;
    drop(tx);
    super::metrics::finish(ctx, actor, basis).await?;
    let mut by_case: BTreeMap<Uuid, BTreeMap<Milestone, DateTime<Utc>>> =
        ids.iter().map(|i| (*i, BTreeMap::new())).collect();
    for (id, s) in stamps {
        by_case.entry(id).or_default().insert(s.milestone, s.at);
    }
    let cases: Vec<Vec<CaseValue>> = by_case.values().map(|m| green::case_metrics(centre, m)).collect();
    Ok((green::summarise(centre, &cases), ids.len()))
}

/// `[first instant, first instant of next month)` of a `YYYY-MM` month in China time.
pub(super) fn month_range(month: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let bad = || yigong_domain::Invalid::one("month", "month_invalid", "month is YYYY-MM");
    let day = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| bad())?;
    let next = day.checked_add_months(chrono::Months::new(1)).ok_or_else(bad)?;
    Ok((china(day), china(next)))
}

pub(super) fn china(day: chrono::NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - chrono::Duration::hours(8)
}
