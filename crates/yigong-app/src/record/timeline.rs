//! The patient's 360° view (全景视图, DESIGN §4): one timeline across every facility of the
//! consortium, newest first, each entry naming its institution, filtered by the basis of the
//! read and audited with it.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::Value;
use uuid::Uuid;
use yigong_domain::access::{Actor, Basis, Permission, Target};
use yigong_domain::ids::{InstitutionId, PersonId};
use yigong_fhir::resource::{Summary, summary};
use yigong_store::fhir::{self as store, TimelineFilter};

use super::{ms_to_time, patient_basis, patient_institutions};
use crate::access::authorize;
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// The kinds of entry the timeline shows, in the order of its filter.
pub const KINDS: &[&str] = &[
    "Encounter",
    "Condition",
    "Observation",
    "DiagnosticReport",
    "MedicationRequest",
    "AllergyIntolerance",
    "DocumentReference",
    "ServiceRequest",
    "Task",
];

/// Largest page of the timeline.
pub const MAX_ENTRIES: i64 = 500;

/// What to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineQuery {
    /// Only these kinds (all when empty).
    pub types: Vec<String>,
    /// Only these institutions (all when empty).
    pub institutions: Vec<InstitutionId>,
    /// From this day (China time).
    pub from: Option<NaiveDate>,
    /// Up to and including this day.
    pub to: Option<NaiveDate>,
    /// The cursor of the page to show (from [`Timeline::next_cursor`]).
    pub cursor: Option<String>,
    /// Page size.
    pub limit: i64,
}

/// One tile.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub id: String,
    /// When it happened.
    pub occurred: DateTime<Utc>,
    /// Where.
    pub institution_id: Option<InstitutionId>,
    /// The institution's name.
    pub institution_name: Option<String>,
    /// What.
    pub summary: Summary,
}

/// A page of one person's timeline.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// Whose.
    pub person: PersonId,
    /// Why the viewer may see it.
    pub basis: Basis,
    /// Kinds the basis lets the viewer see.
    pub visible_kinds: Vec<&'static str>,
    /// The entries, newest first.
    pub entries: Vec<TimelineEntry>,
    /// The cursor of the next (older) page.
    pub next_cursor: Option<String>,
    /// Every institution where the person has been seen, with its name.
    pub institutions: Vec<(InstitutionId, String)>,
    /// How many entries of each kind the record holds (all periods, all facilities).
    pub counts: Vec<(String, i64)>,
}

fn china_midnight_ms(day: NaiveDate) -> i64 {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    china
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

/// What a basis lets the viewer see (DESIGN §4: a reader sees results of the kind read; the
/// other relationships see the whole record).
fn kinds_for(basis: Basis) -> Vec<&'static str> {
    match basis {
        Basis::ReadingCentre => vec!["Observation", "DiagnosticReport", "ServiceRequest"],
        _ => KINDS.to_vec(),
    }
}

fn parse_cursor(cursor: &str) -> Option<(i64, String, String)> {
    let mut parts = cursor.splitn(3, '~');
    let at = parts.next()?.parse().ok()?;
    Some((at, parts.next()?.to_owned(), parts.next()?.to_owned()))
}

/// One person's timeline page, audited as a read of their record with its basis.
pub async fn timeline(
    ctx: &Ctx,
    actor: &Actor,
    person: PersonId,
    query: &TimelineQuery,
) -> Result<Timeline, AppError> {
    let consortium = actor.consortium_id;
    let event = || {
        let mut e = Event::on("read", "patient_record", person);
        e.patient_id = Some(person.as_uuid());
        e
    };
    if !yigong_domain::access::role_permits(actor.role, Permission::PatientRead) {
        // A role that never reads records is refused before anything is looked up.
        let target =
            Target { consortium_id: consortium, institution_id: None, patient: Some(person.as_uuid()) };
        authorize(ctx, actor, Permission::PatientRead, &target, event()).await?;
    }
    let mut tx = ctx.db.begin().await?;
    yigong_store::mpi::person(&mut tx, consortium, person)
        .await?
        .ok_or(AppError::NotFound { what: "person" })?;
    let basis = patient_basis(ctx, &mut tx, actor, person, Permission::PatientRead).await?;
    let Some(basis) = basis else {
        tx.commit().await?;
        let target =
            Target { consortium_id: consortium, institution_id: None, patient: Some(person.as_uuid()) };
        authorize(ctx, actor, Permission::PatientRead, &target, event()).await?;
        return Err(AppError::Forbidden { code: "out_of_scope" });
    };
    let visible = kinds_for(basis);
    let types: Vec<String> = if query.types.is_empty() {
        visible.iter().map(|s| (*s).to_owned()).collect()
    } else {
        query.types.iter().filter(|t| visible.contains(&t.as_str())).cloned().collect()
    };
    let (records, seen_at) = patient_institutions(&mut tx, consortium, person).await?;
    let filter = TimelineFilter {
        types,
        institutions: query.institutions.iter().map(|i| i.as_uuid()).collect(),
        from_ms: query.from.map(china_midnight_ms),
        to_ms: query.to.map(|d| china_midnight_ms(d + chrono::Duration::days(1))),
        before: query.cursor.as_deref().and_then(parse_cursor),
    };
    let limit = query.limit.clamp(1, MAX_ENTRIES);
    let rows = store::timeline(&mut tx, consortium, &records, &filter, limit + 1).await?;
    let counts = store::record_type_counts(&mut tx, consortium, &records)
        .await?
        .into_iter()
        .filter(|(t, _)| visible.contains(&t.as_str()))
        .collect();
    let mut names: HashMap<Uuid, String> = HashMap::new();
    for i in &seen_at {
        if let Some(inst) = yigong_store::institution::find(&mut tx, consortium, *i).await? {
            names.insert(i.as_uuid(), inst.name);
        }
    }
    tx.commit().await?;
    let more = rows.len() as i64 > limit;
    let entries: Vec<TimelineEntry> = rows
        .iter()
        .take(limit as usize)
        .map(|r| {
            let body: Value =
                r.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
            TimelineEntry {
                resource_type: r.resource_type.clone(),
                id: r.resource_id.clone(),
                occurred: ms_to_time(r.occurred_ms.unwrap_or(0)),
                institution_id: r.institution_id.map(InstitutionId::from_uuid),
                institution_name: r.institution_id.and_then(|i| names.get(&i).cloned()),
                summary: summary(&body),
            }
        })
        .collect();
    let next_cursor = more
        .then(|| {
            entries.last().map(|e| format!("{}~{}~{}", e.occurred.timestamp_millis(), e.resource_type, e.id))
        })
        .flatten();
    let mut event = event();
    event.detail = Some(format!("entries={} kinds={}", entries.len(), filter.types.join(",")));
    audit::record_read(ctx, actor, consortium, basis, event).await?;
    let mut institutions: Vec<(InstitutionId, String)> =
        seen_at.iter().filter_map(|i| names.get(&i.as_uuid()).map(|n| (*i, n.clone()))).collect();
    institutions.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(Timeline { person, basis, visible_kinds: visible, entries, next_cursor, institutions, counts })
}
