//! Referral lists: the receiving referral centre's worklist (new, overdue, to schedule,
//! expected, in care) and the sender's lists (sent, drafts), in worklist order.

use std::collections::BTreeMap;

use yigong_domain::access::{Actor, Permission, Scope, Target};
use yigong_domain::ids::InstitutionId;
use yigong_domain::page::{Page, PageRequest};
use yigong_domain::referral::{self as domain, Escalation, Priority, State};
use yigong_store::referral::{self as store, Filter, Referral, Side};
use yigong_store::{institution, mpi};

use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// A worklist tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Submitted, waiting for an answer.
    New,
    /// Waiting on the receiver past the SLA.
    Overdue,
    /// Accepted, to book a slot or bed.
    ToSchedule,
    /// Scheduled, expected to arrive.
    Expected,
    /// Arrived or in care.
    InCare,
    /// Completed, waiting for the loop to close.
    Completed,
    /// Sent by the viewer's institutions, still open.
    Sent,
    /// Drafts of the viewer's institutions.
    Drafts,
}

impl Tab {
    /// Every tab in display order.
    pub const ALL: &'static [Tab] = &[
        Tab::New,
        Tab::Overdue,
        Tab::ToSchedule,
        Tab::Expected,
        Tab::InCare,
        Tab::Completed,
        Tab::Sent,
        Tab::Drafts,
    ];

    /// Stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Tab::New => "new",
            Tab::Overdue => "overdue",
            Tab::ToSchedule => "to_schedule",
            Tab::Expected => "expected",
            Tab::InCare => "in_care",
            Tab::Completed => "completed",
            Tab::Sent => "sent",
            Tab::Drafts => "drafts",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s)
    }
}

/// One line of a worklist.
#[derive(Debug, Clone)]
pub struct WorklistItem {
    /// The referral.
    pub referral: Referral,
    /// Patient name as registered.
    pub patient_name: Option<String>,
    /// Sex code as registered.
    pub patient_sex: Option<String>,
    /// Birth date as registered.
    pub patient_birth_date: Option<String>,
    /// Sending institution's name.
    pub from_name: String,
    /// Receiving institution's name (or the external one).
    pub to_name: String,
    /// Who must look at it now.
    pub escalation: Escalation,
}

/// A worklist page with the counts of every tab.
#[derive(Debug, Clone)]
pub struct Worklist {
    /// The page.
    pub page: Page<WorklistItem>,
    /// Count per tab.
    pub counts: BTreeMap<&'static str, i64>,
}

/// The institutions whose referrals the actor works on.
pub(super) fn institutions(actor: &Actor) -> Vec<InstitutionId> {
    match &actor.scope {
        Scope::Institutions(set) => set.iter().copied().collect(),
        _ => actor.institution_id.into_iter().collect(),
    }
}

/// One page of a tab, for clinicians and referral coordinators. The list shows patients'
/// names, so it is audited as a search with the patients it returned.
pub async fn worklist(
    ctx: &Ctx,
    actor: &Actor,
    tab: Tab,
    priority: Option<Priority>,
    page: &PageRequest,
) -> Result<Worklist, AppError> {
    let consortium = actor.consortium_id;
    let home =
        actor.institution_id.map_or(Target::consortium(consortium), |i| Target::institution(consortium, i));
    let basis =
        crate::access::authorize(ctx, actor, Permission::PatientRead, &home, Event::of("search", "referral"))
            .await?;
    let institutions = institutions(actor);
    let now = ctx.clock.now();
    let (side, states, due_before) = match tab {
        Tab::New => (Side::Receiving, vec![State::Submitted], None),
        Tab::Overdue => (Side::Receiving, vec![State::Submitted, State::Accepted], Some(now)),
        Tab::ToSchedule => (Side::Receiving, vec![State::Accepted], None),
        Tab::Expected => (Side::Receiving, vec![State::Scheduled], None),
        Tab::InCare => (Side::Receiving, vec![State::Arrived, State::InCare], None),
        Tab::Completed => (Side::Receiving, vec![State::Completed], None),
        Tab::Sent => (
            Side::Sending,
            vec![
                State::Submitted,
                State::Accepted,
                State::Scheduled,
                State::Arrived,
                State::InCare,
                State::Completed,
            ],
            None,
        ),
        Tab::Drafts => (Side::Sending, vec![State::Draft], None),
    };
    let filter = Filter { states, priority, direction: None, due_before };
    let mut tx = ctx.db.begin().await?;
    let found = store::list(&mut tx, consortium, side, &institutions, &filter, page).await?;
    let mut counts: BTreeMap<&'static str, i64> = Tab::ALL.iter().map(|t| (t.as_str(), 0)).collect();
    for (state, _, overdue, n) in store::inbox_counts(&mut tx, consortium, &institutions, now).await? {
        let tab = match state {
            State::Submitted => Tab::New,
            State::Accepted => Tab::ToSchedule,
            State::Scheduled => Tab::Expected,
            State::Arrived | State::InCare => Tab::InCare,
            _ => continue,
        };
        *counts.entry(tab.as_str()).or_default() += n;
        if overdue {
            *counts.entry(Tab::Overdue.as_str()).or_default() += n;
        }
    }
    let records: Vec<_> = found.items.iter().map(|r| r.patient_record_id).collect();
    let values: BTreeMap<_, _> = mpi::records_by_ids(&mut tx, consortium, &records)
        .await?
        .into_iter()
        .map(|r| (r.record_id, r.values))
        .collect();
    let mut names: BTreeMap<InstitutionId, String> = BTreeMap::new();
    for r in &found.items {
        for i in [Some(r.from_institution_id), r.to_institution_id].into_iter().flatten() {
            if let std::collections::btree_map::Entry::Vacant(e) = names.entry(i) {
                let name =
                    institution::find(&mut tx, consortium, i).await?.map(|i| i.name).unwrap_or_default();
                e.insert(name);
            }
        }
    }
    let mut persons = Vec::new();
    for r in &found.items {
        if let Some(p) = mpi::person_of(&mut tx, consortium, r.patient_record_id).await? {
            persons.push(p.to_string());
        }
    }
    drop(tx);
    audit::record_read(
        ctx,
        actor,
        consortium,
        basis,
        Event::of("search", "referral").with_detail(format!(
            "tab={} persons={}",
            tab.as_str(),
            persons.join(",")
        )),
    )
    .await?;
    let settings = ctx.referral.clone();
    let page = found.map(|r| {
        let v = values.get(&r.patient_record_id);
        WorklistItem {
            patient_name: v.and_then(|v| v.name.clone()),
            patient_sex: v.and_then(|v| v.sex.clone()),
            patient_birth_date: v.and_then(|v| v.birth_date.clone()),
            from_name: names.get(&r.from_institution_id).cloned().unwrap_or_default(),
            to_name: r
                .to_institution_id
                .and_then(|i| names.get(&i).cloned())
                .or_else(|| r.external_institution.clone())
                .unwrap_or_default(),
            escalation: domain::escalation(&r.facts(), &settings, now),
            referral: r,
        }
    });
    Ok(Worklist { page, counts })
}
