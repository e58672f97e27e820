//! Patients as facilities register them — the *source patients* of the master patient index —
//! and the survivorship rules that compute a golden person from them (DESIGN.md §3.4).
//!
//! A registration keeps what was entered; a malformed resident ID is kept as *unverified* with
//! its warning code, never taken for a valid one, and a missing one needs a documented reason.

use chrono::{DateTime, NaiveDate, Utc};

use crate::identity::{DivisionCode, Phone, ResidentIdStatus, Sex, assess_resident_id};
use crate::ids::PatientRecordId;
use crate::validation::{self, Invalid};

#[cfg(test)]
mod tests;

vocabulary! {
    /// Why a registration has no resident ID number.
    NoIdReason {
        /// 新生儿, not yet registered (links to the mother by birth certificate later).
        Newborn = "newborn",
        /// A child without an ID card yet.
        ChildWithoutId = "child_without_id",
        /// The patient did not bring the card and does not know the number.
        NotCarried = "not_carried",
        /// A foreign national (passport or other document).
        ForeignNational = "foreign_national",
        /// Unconscious or unable to answer (emergency).
        Unconscious = "unconscious",
        /// Declined to give it.
        Declined = "declined",
        /// Another reason, written in the record.
        Other = "other",
    }
}

vocabulary! {
    /// Something accepted but worth a second look.
    RegistrationWarning {
        /// The ID number fails the GB 11643 checks and is kept as unverified.
        ResidentIdUnverified = "resident_id_unverified",
        /// The entered birth date differs from the one the valid ID number encodes.
        BirthDateConflictsWithId = "birth_date_conflicts_with_id",
        /// The entered sex differs from the one the valid ID number encodes.
        SexConflictsWithId = "sex_conflicts_with_id",
    }
}

/// A registration as entered on the form or sent to the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationDraft {
    /// The registering facility's own patient number; generated when blank.
    pub local_id: Option<String>,
    /// Name.
    pub name: String,
    /// `male` / `female` (or the GB/T 2261.1 codes 1 / 2).
    pub sex: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// GB 11643 number, 18 or 15 characters.
    pub resident_id: Option<String>,
    /// Required when there is no ID number: a [`NoIdReason`] identifier.
    pub no_id_reason: Option<String>,
    /// Mobile or landline.
    pub phone: Option<String>,
    /// Twelve-digit village (residents' committee) code.
    pub village_code: Option<String>,
    /// Household number.
    pub household_id: Option<String>,
    /// E-health card number.
    pub e_health_card: Option<String>,
    /// Insurance number.
    pub insurance_number: Option<String>,
    /// Identity read from the ID card chip or the e-health card QR code.
    pub verified: bool,
}

/// A checked registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Facility patient number, if given.
    pub local_id: Option<String>,
    /// Name, trimmed.
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// ID number, valid or unverified.
    pub resident_id: Option<ResidentIdStatus>,
    /// Why there is none.
    pub no_id_reason: Option<NoIdReason>,
    /// Phone, canonical.
    pub phone: Option<Phone>,
    /// Village code.
    pub village_code: Option<DivisionCode>,
    /// Household number.
    pub household_id: Option<String>,
    /// E-health card number.
    pub e_health_card: Option<String>,
    /// Insurance number.
    pub insurance_number: Option<String>,
    /// Chip- or QR-read.
    pub verified: bool,
    /// Accepted, but worth a second look.
    pub warnings: Vec<RegistrationWarning>,
}

/// Checks a registration: every wrong field at once.
pub fn validate_registration(draft: &RegistrationDraft, today: NaiveDate) -> Result<Registration, Invalid> {
    let mut errors = Invalid::default();
    let local_id = validation::optional_text(&mut errors, "local_id", draft.local_id.as_deref(), 40);
    if let Some(l) = &local_id
        && !l.chars().all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c))
    {
        errors.push(
            "local_id",
            "local_id_invalid",
            "the patient number has letters, digits and - _ / . only",
        );
    }
    let name = validation::text(&mut errors, "name", &draft.name, 50);
    let sex = match draft.sex.trim() {
        "male" | "1" | "男" => Some(Sex::Male),
        "female" | "2" | "女" => Some(Sex::Female),
        "" => {
            errors.push("sex", "required", "sex is required");
            None
        }
        _ => {
            errors.push("sex", "sex_invalid", "sex is male or female");
            None
        }
    };
    let birth_date = match NaiveDate::parse_from_str(draft.birth_date.trim(), "%Y-%m-%d") {
        Ok(d) if d > today => {
            errors.push("birth_date", "birth_date_in_future", "the birth date is after today");
            None
        }
        Ok(d) if d < NaiveDate::from_ymd_opt(1880, 1, 1).expect("valid date") => {
            errors.push("birth_date", "birth_date_too_early", "the birth date is before 1880");
            None
        }
        Ok(d) => Some(d),
        Err(_) if draft.birth_date.trim().is_empty() => {
            errors.push("birth_date", "required", "birth_date is required");
            None
        }
        Err(_) => {
            errors.push("birth_date", "birth_date_invalid", "the birth date is written YYYY-MM-DD");
            None
        }
    };
    let resident_id = draft.resident_id.as_deref().and_then(|raw| assess_resident_id(raw, today));
    let no_id_reason = match draft.no_id_reason.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => match NoIdReason::parse(raw) {
            Some(r) => Some(r),
            None => {
                errors.push("no_id_reason", "no_id_reason_invalid", "unknown reason for a missing ID number");
                None
            }
        },
        None => None,
    };
    if resident_id.is_none() && no_id_reason.is_none() {
        errors.push(
            "resident_id",
            "resident_id_or_reason_required",
            "give the resident ID number, or the reason there is none",
        );
    }
    let phone = match draft.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => match Phone::parse(raw) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push("phone", e.code(), "not a mainland mobile or landline number");
                None
            }
        },
        None => None,
    };
    let village_code = match draft.village_code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => match DivisionCode::parse(raw) {
            Ok(code) if code.as_str().len() == 12 => Some(code),
            _ => {
                errors.push("village_code", "village_code_invalid", "the village code has 12 digits");
                None
            }
        },
        None => None,
    };
    let household_id =
        validation::optional_text(&mut errors, "household_id", draft.household_id.as_deref(), 40);
    let e_health_card =
        validation::optional_text(&mut errors, "e_health_card", draft.e_health_card.as_deref(), 64);
    let insurance_number =
        validation::optional_text(&mut errors, "insurance_number", draft.insurance_number.as_deref(), 64);
    let (Some(sex), Some(birth_date)) = (sex, birth_date) else {
        return Err(errors);
    };
    let mut warnings = Vec::new();
    match &resident_id {
        Some(ResidentIdStatus::Valid(id)) => {
            if id.birth_date() != birth_date {
                warnings.push(RegistrationWarning::BirthDateConflictsWithId);
            }
            if id.sex() != sex {
                warnings.push(RegistrationWarning::SexConflictsWithId);
            }
        }
        Some(ResidentIdStatus::Unverified { .. }) => warnings.push(RegistrationWarning::ResidentIdUnverified),
        None => {}
    }
    errors.into_result(Registration {
        local_id,
        name,
        sex,
        birth_date,
        resident_id,
        no_id_reason,
        phone,
        village_code,
        household_id,
        e_health_card,
        insurance_number,
        verified: draft.verified,
        warnings,
    })
}

/// One linked record's demographics, normalised, as survivorship reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDemographics {
    /// The record.
    pub record: PatientRecordId,
    /// Normalised name.
    pub name: Option<String>,
    /// Entered sex.
    pub sex: Option<Sex>,
    /// Entered birth date.
    pub birth_date: Option<NaiveDate>,
    /// A *valid* resident ID (unverified numbers never survive): 18 characters, its birth date
    /// and sex.
    pub resident_id: Option<(String, NaiveDate, Sex)>,
    /// Canonical phone.
    pub phone: Option<String>,
    /// Village code.
    pub village_code: Option<String>,
    /// Street address (non-Chinese data).
    pub address: Option<String>,
    /// Chip- or QR-read identity.
    pub verified: bool,
    /// Registered (or last imported).
    pub registered_at: DateTime<Utc>,
}

/// A golden value and the record it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// The record that supplied it.
    pub from: PatientRecordId,
}

/// A golden person's demographics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Golden {
    /// Resident ID.
    pub resident_id: Option<Sourced<String>>,
    /// Name.
    pub name: Option<Sourced<String>>,
    /// Sex.
    pub sex: Option<Sourced<Sex>>,
    /// Birth date.
    pub birth_date: Option<Sourced<NaiveDate>>,
    /// Phone.
    pub phone: Option<Sourced<String>>,
    /// Village code.
    pub village_code: Option<Sourced<String>>,
    /// Address.
    pub address: Option<Sourced<String>>,
}

/// The survivorship rules of DESIGN.md §3.4, in order of trust:
///
/// 1. **Resident ID**: from a chip- or QR-read (verified) record with a valid number; else the
///    valid number most records carry. Unverified numbers never survive.
/// 2. **Name**: the most frequent among verified records; else the most frequent overall.
/// 3. **Sex and birth date**: encoded in the surviving ID number; else the most frequent entered.
/// 4. **Phone, village, address**: from the most recently registered record that has one.
///
/// Ties go to the most recently registered record. Every value names its record, and every
/// source value stays on its record.
pub fn golden(sources: &[SourceDemographics]) -> Golden {
    // Newest first: the first of equally frequent values is then the most recent.
    let mut newest: Vec<&SourceDemographics> = sources.iter().collect();
    newest.sort_by(|a, b| b.registered_at.cmp(&a.registered_at).then(b.record.cmp(&a.record)));

    let id_of = |s: &SourceDemographics| s.resident_id.as_ref().map(|(id, _, _)| id.clone());
    let verified: Vec<&SourceDemographics> = newest.iter().copied().filter(|s| s.verified).collect();
    let resident_id = most_frequent(&verified, id_of).or_else(|| most_frequent(&newest, id_of));
    let surviving_id = resident_id
        .as_ref()
        .and_then(|rid| newest.iter().find(|s| s.record == rid.from).and_then(|s| s.resident_id.clone()));
    let name_of = |s: &SourceDemographics| s.name.clone();
    let name = most_frequent(&verified, name_of).or_else(|| most_frequent(&newest, name_of));
    let (sex, birth_date) = match (&resident_id, surviving_id) {
        (Some(rid), Some((_, born, sex))) => {
            (Some(Sourced { value: sex, from: rid.from }), Some(Sourced { value: born, from: rid.from }))
        }
        _ => (most_frequent(&newest, |s| s.sex), most_frequent(&newest, |s| s.birth_date)),
    };
    let latest = |f: fn(&SourceDemographics) -> Option<String>| {
        newest.iter().find_map(|s| f(s).map(|value| Sourced { value, from: s.record }))
    };
    Golden {
        resident_id,
        name,
        sex,
        birth_date,
        phone: latest(|s| s.phone.clone()),
        village_code: latest(|s| s.village_code.clone()),
        address: latest(|s| s.address.clone()),
    }
}

/// The most frequent value among `sources` (newest first), ties to the newest.
fn most_frequent<T: Clone + PartialEq>(
    sources: &[&SourceDemographics],
    value: impl Fn(&SourceDemographics) -> Option<T>,
) -> Option<Sourced<T>> {
    let mut counts: Vec<(T, usize, PatientRecordId)> = Vec::new();
    for s in sources {
        if let Some(v) = value(s) {
            match counts.iter_mut().find(|(x, _, _)| *x == v) {
                Some(entry) => entry.1 += 1,
                None => counts.push((v, 1, s.record)),
            }
        }
    }
    // `max_by_key` keeps the last maximum; iterate reversed so the newest wins ties.
    counts.into_iter().rev().max_by_key(|(_, n, _)| *n).map(|(value, _, from)| Sourced { value, from })
}
