//! Bulk loading of prepared registry data (the synthetic county, later imports). The records
//! arrive built and validated by their producer; loading is all-or-nothing per call.

use tracing::instrument;
use yigong_domain::facility::Membership;
use yigong_domain::facility::{Consortium, Department, Institution, InstitutionKind};
use yigong_domain::population::{Division, HealthRecord, Household};
use yigong_domain::{Posting, Staff, TitleRecord};
use yigong_store::{consortium as consortia, department, institution, population, staff};

use crate::{AppError, Ctx};

/// A consortium's organisation, ready to load.
#[derive(Debug, Clone, Copy)]
pub struct OrganisationSeed<'a> {
    /// The consortium; its `lead_institution_id` must be among `institutions`.
    pub consortium: &'a Consortium,
    /// Reference divisions of the county (skipped where already loaded).
    pub divisions: &'a [Division],
    /// Institutions, parents before children.
    pub institutions: &'a [Institution],
    /// Departments.
    pub departments: &'a [Department],
    /// Staff with their title history, oldest first.
    pub staff: &'a [(Staff, Vec<TitleRecord>)],
    /// Postings.
    pub postings: &'a [Posting],
}

/// Whether any consortium is registered: the demo seeds only an empty database.
pub async fn is_empty(ctx: &Ctx) -> Result<bool, AppError> {
    let mut tx = ctx.db.begin().await?;
    Ok(consortia::list(&mut tx).await?.is_empty())
}

/// Loads an organisation in one transaction. `progress` is called with (done, total) rows.
#[instrument(skip_all, fields(consortium.id = %seed.consortium.id))]
pub async fn load_organisation(
    ctx: &Ctx,
    seed: OrganisationSeed<'_>,
    mut progress: impl FnMut(u64, u64),
) -> Result<(), AppError> {
    let total = (seed.divisions.len()
        + seed.institutions.len()
        + seed.departments.len()
        + seed.staff.len()
        + seed.postings.len()) as u64;
    let mut done = 0u64;
    let mut tick = |n: usize, progress: &mut dyn FnMut(u64, u64)| {
        done += n as u64;
        if done.is_multiple_of(250) || done == total {
            progress(done, total);
        }
    };
    let c = seed.consortium;
    let year = c.created_at.date_naive().format("%Y").to_string().parse::<i32>().unwrap_or(2026);
    let mut tx = ctx.db.begin_write().await?;
    let new = yigong_domain::facility::NewConsortium {
        name: c.name.clone(),
        county_code: c.county_code.clone(),
        founded_on: c.founded_on,
    };
    consortia::insert(&mut tx, c.id, &new, c.created_at).await?;
    for d in seed.divisions {
        if !population::division_exists(&mut tx, &d.code, d.valid_from).await? {
            population::insert_division(&mut tx, d, year).await?;
        }
        tick(1, &mut progress);
    }
    for i in seed.institutions {
        institution::insert(&mut tx, i).await?;
        if matches!(i.kind, InstitutionKind::Member(_)) {
            let joined =
                Membership { valid_from: c.founded_on, valid_to: None, reason: "founding_member".into() };
            institution::insert_membership(&mut tx, c.id, i.id, &joined).await?;
        }
        tick(1, &mut progress);
    }
    if let Some(lead) = c.lead_institution_id {
        consortia::set_lead(&mut tx, c.id, lead).await?;
    }
    for d in seed.departments {
        department::insert(&mut tx, d).await?;
        tick(1, &mut progress);
    }
    for (s, titles) in seed.staff {
        staff::insert(&mut tx, s).await?;
        for t in titles {
            staff::insert_title(&mut tx, c.id, s.id, t).await?;
        }
        tick(1, &mut progress);
    }
    for p in seed.postings {
        staff::insert_posting(&mut tx, p).await?;
        tick(1, &mut progress);
    }
    // The registry as FHIR Organization / Practitioner / PractitionerRole.
    use crate::record::registry::{Mirror, mirror_all};
    let mirrors: Vec<Mirror<'_>> = seed
        .institutions
        .iter()
        .map(Mirror::Institution)
        .chain(seed.departments.iter().map(Mirror::Department))
        .chain(seed.staff.iter().map(|(s, _)| Mirror::Staff(s)))
        .chain(seed.postings.iter().map(Mirror::Posting))
        .collect();
    mirror_all(&mut tx, c.id, &mirrors, c.created_at).await?;
    tx.commit().await?;
    Ok(())
}

/// Loads households and their members' health records in one transaction.
pub async fn load_residents(
    ctx: &Ctx,
    households: &[Household],
    records: &[HealthRecord],
) -> Result<(), AppError> {
    let mut tx = ctx.db.begin_write().await?;
    population::insert_households(&mut tx, households).await?;
    population::insert_health_records(&mut tx, records).await?;
    tx.commit().await?;
    Ok(())
}
