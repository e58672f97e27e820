//! Departments (科室) with their national diagnosis-and-treatment subject code (诊疗科目).

use chrono::{DateTime, Utc};

use crate::ids::{ConsortiumId, DepartmentId, InstitutionId};
use crate::validation::{self, Invalid};

vocabulary! {
    /// What a department does.
    DepartmentKind {
        /// 临床科室
        Clinical = "clinical",
        /// 医技科室
        MedicalTechnology = "medical_technology",
        /// 诊断中心 (imaging, ECG, lab, pathology reading)
        ReadingCentre = "reading_centre",
        /// 药剂科
        Pharmacy = "pharmacy",
        /// 职能科室
        Admin = "admin",
    }
}

/// A department of an institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    /// Key.
    pub id: DepartmentId,
    /// Tenant.
    pub consortium_id: ConsortiumId,
    /// Owning institution.
    pub institution_id: InstitutionId,
    /// 诊疗科目 code: two digits, optionally `.` and two more (`03`, `03.01`).
    pub subject_code: Option<String>,
    /// Local name.
    pub name: String,
    /// Kind.
    pub kind: DepartmentKind,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A department as submitted.
#[derive(Debug, Clone, Default)]
pub struct DepartmentDraft {
    /// Subject code.
    pub subject_code: Option<String>,
    /// Name.
    pub name: String,
    /// A [`DepartmentKind`] identifier.
    pub kind: String,
}

/// A validated department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDepartment {
    /// Subject code.
    pub subject_code: Option<String>,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: DepartmentKind,
}

fn valid_subject_code(code: &str) -> bool {
    let b = code.as_bytes();
    let two = |s: &[u8]| s.len() == 2 && s.iter().all(u8::is_ascii_digit);
    match b.len() {
        2 => two(b),
        5 => two(&b[..2]) && b[2] == b'.' && two(&b[3..]),
        _ => false,
    }
}

/// Validates a department draft.
pub fn validate_department(draft: &DepartmentDraft) -> Result<NewDepartment, Invalid> {
    let mut errors = Invalid::default();
    let name = validation::text(&mut errors, "name", &draft.name, 60);
    let subject_code =
        validation::optional_text(&mut errors, "subject_code", draft.subject_code.as_deref(), 5);
    if let Some(c) = &subject_code
        && !valid_subject_code(c)
    {
        errors.push(
            "subject_code",
            "subject_code_invalid",
            "subject code is two digits, optionally .NN (e.g. 03.01)",
        );
    }
    let kind = DepartmentKind::parse(draft.kind.trim());
    if kind.is_none() {
        errors.push("kind", "department_kind_unknown", format!("unknown department kind {:?}", draft.kind));
    }
    errors.into_result(())?;
    Ok(NewDepartment { subject_code, name, kind: kind.expect("checked") })
}
