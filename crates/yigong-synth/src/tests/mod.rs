//! Tests of the synthetic county: everything generated passes the domain's validators, the
//! output is deterministic, and counts and proportions are those of DESIGN.md §10.1.

mod clinical;
mod dispatch;
mod export;
mod mistakes;
mod organisation;
mod registrations;
mod residents;

use yigong_domain::facility::{Institution, InstitutionDraft, InstitutionKind};
use yigong_domain::staffing::StaffDraft;
use yigong_domain::{Staff, TitleRecord};

use crate::SynthConfig;
use crate::names::SURNAMES;

/// The small county used by most tests: the full organisation, 2 000 residents.
fn small() -> SynthConfig {
    SynthConfig { residents: 2_000, ..SynthConfig::demo() }
}

/// The surname of a full name (compound surnames included).
fn surname_of(name: &str) -> &str {
    SURNAMES
        .iter()
        .map(|&(s, _)| s)
        .filter(|s| s.chars().count() == 2)
        .find(|s| name.starts_with(s))
        .unwrap_or_else(|| &name[..name.chars().next().map_or(0, char::len_utf8)])
}

/// The draft a client would submit for `i`.
fn institution_draft(i: &Institution) -> InstitutionDraft {
    InstitutionDraft {
        code: i.code.clone(),
        name: i.name.clone(),
        tier: i.kind.tier().map(|t| t.as_str().to_owned()),
        agency_kind: match i.kind {
            InstitutionKind::Agency(a) => Some(a.as_str().to_owned()),
            InstitutionKind::Member(_) => None,
        },
        is_central: i.is_central,
        division_code: i.division_code.as_str().to_owned(),
        parent_id: i.parent_id,
        credit_code: i.credit_code.clone(),
        licence_no: i.licence_no.clone(),
        ownership: Some(i.ownership.as_str().to_owned()),
        services: i.services.iter().map(|s| s.as_str().to_owned()).collect(),
        beds: Some(i.beds),
        address: i.address.clone(),
    }
}

/// The draft a client would submit for `s`, with its latest title.
fn staff_draft(s: &Staff, titles: &[TitleRecord]) -> StaffDraft {
    StaffDraft {
        code: s.code.clone(),
        name: s.name.clone(),
        sex: s.sex.as_str().to_owned(),
        resident_id: s.resident_id.as_ref().map(|id| id.as_str().to_owned()),
        category: s.category.as_str().to_owned(),
        title_level: s.title_level.map(|l| l.as_str().to_owned()),
        title_name: s.title_name.clone(),
        title_since: titles.last().map(|t| t.since),
        practice_certificate_no: s.practice_certificate_no.clone(),
        practice_category: s.practice_category.map(|c| c.as_str().to_owned()),
        practice_scope: s.practice_scope.clone(),
        registered_institution_id: s.registered_institution_id,
        multi_site: s.multi_site,
        employer_institution_id: Some(s.employer_institution_id),
    }
}
