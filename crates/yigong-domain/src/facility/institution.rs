//! Consortium and institution records, and the rules that admit a new or changed one.

use chrono::{DateTime, NaiveDate, Utc};

use super::{AgencyKind, Ownership, Service, Tier, valid_credit_code};
use crate::identity::{CountyCode, DivisionCode, DivisionError, DivisionLevel};
use crate::ids::{ConsortiumId, InstitutionId};
use crate::validation::{self, Invalid};

/// A close-knit county consortium (医共体): the tenant of every other record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consortium {
    /// Key and distribution key.
    pub id: ConsortiumId,
    /// Name, e.g. 青岚县医疗卫生共同体.
    pub name: String,
    /// GB/T 2260 code of its county; a county may run two consortia.
    pub county_code: CountyCode,
    /// Founding date.
    pub founded_on: NaiveDate,
    /// The lead hospital (牵头医院), once registered.
    pub lead_institution_id: Option<InstitutionId>,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
}

/// A consortium as submitted, before validation.
#[derive(Debug, Clone, Default)]
pub struct ConsortiumDraft {
    /// Name.
    pub name: String,
    /// Six-digit county code.
    pub county_code: String,
    /// Founding date.
    pub founded_on: Option<NaiveDate>,
}

/// A validated new consortium.
#[derive(Debug, Clone)]
pub struct NewConsortium {
    /// Name.
    pub name: String,
    /// County.
    pub county_code: CountyCode,
    /// Founding date.
    pub founded_on: NaiveDate,
}

/// Validates a consortium draft.
pub fn validate_consortium(draft: &ConsortiumDraft) -> Result<NewConsortium, Invalid> {
    let mut errors = Invalid::default();
    let name = validation::text(&mut errors, "name", &draft.name, 100);
    let county_code = CountyCode::parse(&draft.county_code)
        .map_err(|e| errors.push("county_code", e.code(), e.to_string()))
        .ok();
    if draft.founded_on.is_none() {
        errors.push("founded_on", "required", "founded_on is required");
    }
    errors.into_result(())?;
    Ok(NewConsortium {
        name,
        county_code: county_code.expect("checked"),
        founded_on: draft.founded_on.expect("checked"),
    })
}

/// Member of the consortium with a tier, or an agency of the county.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstitutionKind {
    /// A member institution.
    Member(Tier),
    /// A health bureau, CDC or insurance bureau: tied to the county, never a member.
    Agency(AgencyKind),
}

impl InstitutionKind {
    /// The tier, for members.
    pub fn tier(self) -> Option<Tier> {
        match self {
            Self::Member(t) => Some(t),
            Self::Agency(_) => None,
        }
    }
}

/// A registered institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    /// Key.
    pub id: InstitutionId,
    /// Tenant.
    pub consortium_id: ConsortiumId,
    /// Short code unique in the consortium (机构编码), used by people and the CLI.
    pub code: String,
    /// Name.
    pub name: String,
    /// Tier or agency kind.
    pub kind: InstitutionKind,
    /// Central township centre (中心卫生院).
    pub is_central: bool,
    /// Location to the 12-digit statistical division.
    pub division_code: DivisionCode,
    /// Township centre of a village clinic or service point; community centre of a station.
    pub parent_id: Option<InstitutionId>,
    /// GB 32100 unified social credit code.
    pub credit_code: Option<String>,
    /// Practice licence number (医疗机构执业许可证).
    pub licence_no: Option<String>,
    /// Public or private.
    pub ownership: Ownership,
    /// Services offered, sorted.
    pub services: Vec<Service>,
    /// Approved beds.
    pub beds: i64,
    /// Street address below the village.
    pub address: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// An institution as submitted (create or full update), before validation.
#[derive(Debug, Clone, Default)]
pub struct InstitutionDraft {
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// A [`Tier`] identifier, for members.
    pub tier: Option<String>,
    /// An [`AgencyKind`] identifier, for agencies.
    pub agency_kind: Option<String>,
    /// Central township centre.
    pub is_central: bool,
    /// Twelve-digit division code.
    pub division_code: String,
    /// Parent institution.
    pub parent_id: Option<InstitutionId>,
    /// Credit code.
    pub credit_code: Option<String>,
    /// Licence number.
    pub licence_no: Option<String>,
    /// An [`Ownership`] identifier; `public` when absent.
    pub ownership: Option<String>,
    /// [`Service`] identifiers.
    pub services: Vec<String>,
    /// Approved beds.
    pub beds: Option<i64>,
    /// Street address.
    pub address: Option<String>,
}

/// A validated institution, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInstitution {
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Tier or agency kind.
    pub kind: InstitutionKind,
    /// Central township centre.
    pub is_central: bool,
    /// Division.
    pub division_code: DivisionCode,
    /// Parent.
    pub parent_id: Option<InstitutionId>,
    /// Credit code.
    pub credit_code: Option<String>,
    /// Licence number.
    pub licence_no: Option<String>,
    /// Ownership.
    pub ownership: Ownership,
    /// Services, sorted and deduplicated.
    pub services: Vec<Service>,
    /// Beds.
    pub beds: i64,
    /// Street address.
    pub address: Option<String>,
}

fn valid_code(code: &str) -> bool {
    (2..=32).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Validates an institution draft for `consortium`. `parent` is the institution named by
/// `draft.parent_id`, looked up by the caller (`None` if absent or not found).
pub fn validate_institution(
    draft: &InstitutionDraft,
    consortium: &Consortium,
    parent: Option<&Institution>,
) -> Result<NewInstitution, Invalid> {
    let mut errors = Invalid::default();
    let code = draft.code.trim().to_owned();
    if !valid_code(&code) {
        errors.push("code", "institution_code_invalid", "code has 2 to 32 letters, digits, '-' or '_'");
    }
    let name = validation::text(&mut errors, "name", &draft.name, 100);

    let kind = match (draft.tier.as_deref(), draft.agency_kind.as_deref()) {
        (Some(t), None) => match Tier::parse(t) {
            Some(t) => Some(InstitutionKind::Member(t)),
            None => {
                errors.push("tier", "tier_unknown", format!("unknown tier {t:?}"));
                None
            }
        },
        (None, Some(a)) => match AgencyKind::parse(a) {
            Some(a) => Some(InstitutionKind::Agency(a)),
            None => {
                errors.push("agency_kind", "agency_kind_unknown", format!("unknown agency kind {a:?}"));
                None
            }
        },
        (Some(_), Some(_)) => {
            errors.push("tier", "tier_and_agency", "an institution has a tier or an agency kind, not both");
            None
        }
        (None, None) => {
            errors.push("tier", "required", "tier is required (or agency_kind for an agency)");
            None
        }
    };

    let division_code = match DivisionCode::parse_in(&draft.division_code, &consortium.county_code) {
        Ok(d) => Some(d),
        Err(e) => {
            let message = match e {
                DivisionError::OutsideCounty => {
                    format!("division_code must lie in county {}", consortium.county_code.as_str())
                }
                DivisionError::Malformed => e.to_string(),
            };
            errors.push("division_code", e.code(), message);
            None
        }
    };

    let tier = kind.and_then(InstitutionKind::tier);
    if let (Some(tier), Some(division)) = (tier, &division_code) {
        let needs_village =
            matches!(tier, Tier::VillageClinic | Tier::VillageServicePoint | Tier::CommunityStation);
        if needs_village && division.level() != DivisionLevel::Village {
            errors.push(
                "division_code",
                "division_level_village",
                "a village-level site needs a 12-digit village code",
            );
        }
        if tier == Tier::TownshipCentre && division.level() == DivisionLevel::County {
            errors.push(
                "division_code",
                "division_level_township",
                "a township centre needs a township or village code",
            );
        }
    }
    if draft.is_central && tier != Some(Tier::TownshipCentre) {
        errors.push("is_central", "central_only_township", "only a township centre can be central");
    }

    check_parent(&mut errors, draft, tier, parent, division_code.as_ref());

    let credit_code = validation::optional_text(&mut errors, "credit_code", draft.credit_code.as_deref(), 18)
        .map(|c| c.to_ascii_uppercase());
    if let Some(c) = &credit_code
        && !valid_credit_code(c)
    {
        errors.push("credit_code", "credit_code_invalid", "not a valid GB 32100 unified social credit code");
    }
    let licence_no = validation::optional_text(&mut errors, "licence_no", draft.licence_no.as_deref(), 64);
    let ownership = match draft.ownership.as_deref() {
        None | Some("") => Ownership::Public,
        Some(o) => Ownership::parse(o).unwrap_or_else(|| {
            errors.push("ownership", "ownership_unknown", format!("unknown ownership {o:?}"));
            Ownership::Public
        }),
    };
    let mut services = Vec::new();
    for s in &draft.services {
        match Service::parse(s) {
            Some(s) => services.push(s),
            None => errors.push("services", "service_unknown", format!("unknown service {s:?}")),
        }
    }
    services.sort();
    services.dedup();
    let beds = draft.beds.unwrap_or(0);
    if !(0..=100_000).contains(&beds) {
        errors.push("beds", "beds_out_of_range", "beds is between 0 and 100000");
    }
    let address = validation::optional_text(&mut errors, "address", draft.address.as_deref(), 200);

    errors.into_result(())?;
    Ok(NewInstitution {
        code,
        name,
        kind: kind.expect("checked"),
        is_central: draft.is_central,
        division_code: division_code.expect("checked"),
        parent_id: draft.parent_id,
        credit_code,
        licence_no,
        ownership,
        services,
        beds,
        address,
    })
}

fn check_parent(
    errors: &mut Invalid,
    draft: &InstitutionDraft,
    tier: Option<Tier>,
    parent: Option<&Institution>,
    division: Option<&DivisionCode>,
) {
    let Some(tier) = tier else {
        if draft.parent_id.is_some() {
            errors.push("parent_id", "parent_not_allowed", "an agency has no parent institution");
        }
        return;
    };
    match (draft.parent_id, parent) {
        (None, _) if tier.parent_required() => errors.push(
            "parent_id",
            "parent_required",
            "a village service point needs its township centre as parent",
        ),
        (None, _) => {}
        (Some(_), None) => {
            errors.push("parent_id", "parent_not_found", "the parent institution does not exist")
        }
        (Some(_), Some(parent)) => {
            let Some(wanted) = tier.parent_tier() else {
                errors.push("parent_id", "parent_not_allowed", format!("a {} has no parent", tier.as_str()));
                return;
            };
            if parent.kind != InstitutionKind::Member(wanted) {
                errors.push(
                    "parent_id",
                    "parent_tier_invalid",
                    format!("the parent must be a {}", wanted.as_str()),
                );
                return;
            }
            // A village site is served by the centre of its own township.
            if let Some(division) = division
                && division.township() != parent.division_code.township()
            {
                errors.push(
                    "parent_id",
                    "parent_township_mismatch",
                    "the parent centre lies in another township than the site",
                );
            }
        }
    }
}

/// One row of the membership history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// First day of membership.
    pub valid_from: NaiveDate,
    /// Last day, if the institution left.
    pub valid_to: Option<NaiveDate>,
    /// Why it joined (or left).
    pub reason: String,
}
