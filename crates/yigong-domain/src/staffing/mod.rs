//! The staff registry: practitioners, their practice registration, dated title history and
//! postings (the `practitioner_role` of DESIGN.md §2, FHIR PractitionerRole).

use chrono::{DateTime, NaiveDate, Utc};

use crate::facility::Institution;
use crate::identity::{ResidentId, Sex};
use crate::ids::{ConsortiumId, DepartmentId, InstitutionId, PostingId, StaffId};
use crate::validation::{self, Invalid};

mod vocab;
pub use vocab::{PostingSource, PracticeCategory, StaffCategory, TitleLevel};

#[cfg(test)]
mod tests;

/// A staff member of the consortium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// Key.
    pub id: StaffId,
    /// Tenant.
    pub consortium_id: ConsortiumId,
    /// Staff number unique in the consortium (工号).
    pub code: String,
    /// Name.
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Resident ID number, when known.
    pub resident_id: Option<ResidentId>,
    /// Professional category.
    pub category: StaffCategory,
    /// Current title level; `None` = unknown, which indicators list rather than count.
    pub title_level: Option<TitleLevel>,
    /// Title name as written (主治医师).
    pub title_name: Option<String>,
    /// Practice certificate number (执业证书编码).
    pub practice_certificate_no: Option<String>,
    /// Practice registration category (执业类别).
    pub practice_category: Option<PracticeCategory>,
    /// Practice scope (执业范围), e.g. 内科专业.
    pub practice_scope: Option<String>,
    /// Institution of first registration.
    pub registered_institution_id: Option<InstitutionId>,
    /// Registered for multi-site practice across the consortium (多机构执业).
    pub multi_site: bool,
    /// Employing institution (人事关系), apart from where the person works now.
    pub employer_institution_id: InstitutionId,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// One entry of the dated title history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleRecord {
    /// Level; `None` = unknown.
    pub level: Option<TitleLevel>,
    /// Name as written.
    pub name: Option<String>,
    /// From when the title is held.
    pub since: NaiveDate,
}

/// A staff member as submitted.
#[derive(Debug, Clone, Default)]
pub struct StaffDraft {
    /// Staff number.
    pub code: String,
    /// Name.
    pub name: String,
    /// A [`Sex`] identifier.
    pub sex: String,
    /// Resident ID number, optional.
    pub resident_id: Option<String>,
    /// A [`StaffCategory`] identifier.
    pub category: String,
    /// A [`TitleLevel`] identifier; absent or `unknown` = unknown.
    pub title_level: Option<String>,
    /// Title name.
    pub title_name: Option<String>,
    /// Since when the title is held; defaults to the registration day.
    pub title_since: Option<NaiveDate>,
    /// Certificate number.
    pub practice_certificate_no: Option<String>,
    /// A [`PracticeCategory`] identifier.
    pub practice_category: Option<String>,
    /// Scope.
    pub practice_scope: Option<String>,
    /// Institution of first registration.
    pub registered_institution_id: Option<InstitutionId>,
    /// Multi-site practice.
    pub multi_site: bool,
    /// Employer.
    pub employer_institution_id: Option<InstitutionId>,
}

/// A validated staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    /// Staff number.
    pub code: String,
    /// Name.
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Resident ID.
    pub resident_id: Option<ResidentId>,
    /// Category.
    pub category: StaffCategory,
    /// Title as of `title.since`.
    pub title: TitleRecord,
    /// Certificate number.
    pub practice_certificate_no: Option<String>,
    /// Practice category.
    pub practice_category: Option<PracticeCategory>,
    /// Practice scope.
    pub practice_scope: Option<String>,
    /// Institution of first registration.
    pub registered_institution_id: Option<InstitutionId>,
    /// Multi-site practice.
    pub multi_site: bool,
    /// Employer.
    pub employer_institution_id: InstitutionId,
}

impl NewStaff {
    /// The stored record (and its current title entry) for a validated staff member.
    pub fn into_staff(
        self,
        id: StaffId,
        consortium_id: ConsortiumId,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> (Staff, TitleRecord) {
        let staff = Staff {
            id,
            consortium_id,
            code: self.code,
            name: self.name,
            sex: self.sex,
            resident_id: self.resident_id,
            category: self.category,
            title_level: self.title.level,
            title_name: self.title.name.clone(),
            practice_certificate_no: self.practice_certificate_no,
            practice_category: self.practice_category,
            practice_scope: self.practice_scope,
            registered_institution_id: self.registered_institution_id,
            multi_site: self.multi_site,
            employer_institution_id: self.employer_institution_id,
            created_at,
            updated_at,
        };
        (staff, self.title)
    }
}

/// Validates a staff draft. `employer_exists` and `registered_exists` say whether the named
/// institutions exist in the consortium (looked up by the caller); `today` bounds dates.
pub fn validate_staff(
    draft: &StaffDraft,
    employer_exists: bool,
    registered_exists: bool,
    today: NaiveDate,
) -> Result<NewStaff, Invalid> {
    let mut errors = Invalid::default();
    let code = draft.code.trim().to_owned();
    if !(1..=32).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        errors.push("code", "staff_code_invalid", "staff number has 1 to 32 letters, digits or '-'");
    }
    let name = validation::text(&mut errors, "name", &draft.name, 50);
    let sex = Sex::parse(draft.sex.trim());
    if sex.is_none() {
        errors.push("sex", "sex_unknown", "sex is male, female, unknown or unspecified");
    }
    let resident_id =
        match validation::optional_text(&mut errors, "resident_id", draft.resident_id.as_deref(), 24) {
            None => None,
            Some(raw) => match ResidentId::parse(&raw, today) {
                Ok(id) => Some(id),
                Err(e) => {
                    errors.push("resident_id", e.code(), e.to_string());
                    None
                }
            },
        };
    if let (Some(id), Some(sex)) = (&resident_id, sex)
        && matches!(sex, Sex::Male | Sex::Female)
        && id.sex() != sex
    {
        errors.push(
            "sex",
            "sex_conflicts_with_resident_id",
            "sex differs from the one in the resident ID number",
        );
    }
    let category = StaffCategory::parse(draft.category.trim());
    if category.is_none() {
        errors.push(
            "category",
            "staff_category_unknown",
            format!("unknown staff category {:?}", draft.category),
        );
    }
    let level = match draft.title_level.as_deref().map(str::trim) {
        None | Some("") | Some("unknown") => None,
        Some(l) => {
            let parsed = TitleLevel::parse(l);
            if parsed.is_none() {
                errors.push("title_level", "title_level_unknown", format!("unknown title level {l:?}"));
            }
            parsed
        }
    };
    let title_name = validation::optional_text(&mut errors, "title_name", draft.title_name.as_deref(), 30);
    let since = draft.title_since.unwrap_or(today);
    if since > today {
        errors.push("title_since", "date_in_future", "the title cannot start in the future");
    }
    let practice_certificate_no = validation::optional_text(
        &mut errors,
        "practice_certificate_no",
        draft.practice_certificate_no.as_deref(),
        40,
    );
    let practice_category = match draft.practice_category.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => {
            let parsed = PracticeCategory::parse(c);
            if parsed.is_none() {
                errors.push(
                    "practice_category",
                    "practice_category_unknown",
                    format!("unknown practice category {c:?}"),
                );
            }
            parsed
        }
    };
    let practice_scope =
        validation::optional_text(&mut errors, "practice_scope", draft.practice_scope.as_deref(), 60);
    if draft.registered_institution_id.is_some() && !registered_exists {
        errors.push(
            "registered_institution_id",
            "institution_not_found",
            "the registered institution does not exist",
        );
    }
    match draft.employer_institution_id {
        None => errors.push("employer_institution_id", "required", "employer_institution_id is required"),
        Some(_) if !employer_exists => errors.push(
            "employer_institution_id",
            "institution_not_found",
            "the employer institution does not exist",
        ),
        Some(_) => {}
    }
    errors.into_result(())?;
    Ok(NewStaff {
        code,
        name,
        sex: sex.expect("checked"),
        resident_id,
        category: category.expect("checked"),
        title: TitleRecord { level, name: title_name, since },
        practice_certificate_no,
        practice_category,
        practice_scope,
        registered_institution_id: draft.registered_institution_id,
        multi_site: draft.multi_site,
        employer_institution_id: draft.employer_institution_id.expect("checked"),
    })
}

/// A posting: where and when a staff member works, and on what basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// Key.
    pub id: PostingId,
    /// Tenant.
    pub consortium_id: ConsortiumId,
    /// Who.
    pub staff_id: StaffId,
    /// Where.
    pub institution_id: InstitutionId,
    /// Department, if any.
    pub department_id: Option<DepartmentId>,
    /// Position held (e.g. 内科医师), free text.
    pub position: Option<String>,
    /// Basis of the posting.
    pub source: PostingSource,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day, inclusive; `None` = open-ended.
    pub valid_to: Option<NaiveDate>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl Posting {
    /// Whether the posting covers `day`.
    pub fn active_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }
}

/// A posting as submitted.
#[derive(Debug, Clone, Default)]
pub struct PostingDraft {
    /// Where.
    pub institution_id: Option<InstitutionId>,
    /// Department.
    pub department_id: Option<DepartmentId>,
    /// Position.
    pub position: Option<String>,
    /// A [`PostingSource`] identifier; `employment` when absent.
    pub source: Option<String>,
    /// First day.
    pub valid_from: Option<NaiveDate>,
    /// Last day.
    pub valid_to: Option<NaiveDate>,
}

/// A validated posting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPosting {
    /// Where.
    pub institution_id: InstitutionId,
    /// Department.
    pub department_id: Option<DepartmentId>,
    /// Position.
    pub position: Option<String>,
    /// Basis.
    pub source: PostingSource,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day.
    pub valid_to: Option<NaiveDate>,
}

/// Validates a posting draft. `institution` is the named institution if it exists;
/// `department_institution` is the institution owning the named department, if it exists.
pub fn validate_posting(
    draft: &PostingDraft,
    institution: Option<&Institution>,
    department_institution: Option<InstitutionId>,
) -> Result<NewPosting, Invalid> {
    let mut errors = Invalid::default();
    match (draft.institution_id, institution) {
        (None, _) => errors.push("institution_id", "required", "institution_id is required"),
        (Some(_), None) => {
            errors.push("institution_id", "institution_not_found", "the institution does not exist")
        }
        (Some(_), Some(_)) => {}
    }
    if let Some(_dep) = draft.department_id {
        match department_institution {
            None => errors.push("department_id", "department_not_found", "the department does not exist"),
            Some(owner) if Some(owner) != draft.institution_id => errors.push(
                "department_id",
                "department_other_institution",
                "the department belongs to another institution",
            ),
            Some(_) => {}
        }
    }
    let position = validation::optional_text(&mut errors, "position", draft.position.as_deref(), 40);
    let source = match draft.source.as_deref().map(str::trim) {
        None | Some("") => Some(PostingSource::Employment),
        Some(s) => {
            let parsed = PostingSource::parse(s);
            if parsed.is_none() {
                errors.push("source", "posting_source_unknown", format!("unknown posting source {s:?}"));
            }
            parsed
        }
    };
    if draft.valid_from.is_none() {
        errors.push("valid_from", "required", "valid_from is required");
    }
    if let (Some(from), Some(to)) = (draft.valid_from, draft.valid_to)
        && to < from
    {
        errors.push("valid_to", "period_reversed", "valid_to is before valid_from");
    }
    errors.into_result(())?;
    Ok(NewPosting {
        institution_id: draft.institution_id.expect("checked"),
        department_id: draft.department_id,
        position,
        source: source.expect("checked"),
        valid_from: draft.valid_from.expect("checked"),
        valid_to: draft.valid_to,
    })
}
