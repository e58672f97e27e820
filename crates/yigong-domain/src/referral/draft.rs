//! A referral as submitted by the sending clinician: the slip's content (WS 445.16), checked
//! field by field.

use chrono::NaiveDate;

use super::green::Centre;
use super::{CertificateClass, Direction, DownReason, Priority, UpReason};
use crate::facility::Tier;
use crate::ids::{DepartmentId, InstitutionId, PatientRecordId};
use crate::validation::{self, Invalid};

/// One test done before referral, with its result (from the shared record when linked).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlipTest {
    /// What was tested (血常规, 心电图).
    pub name: String,
    /// The result as reported.
    pub result: String,
    /// When.
    pub date: Option<NaiveDate>,
    /// The shared-record resource it comes from (`Observation/…`, `DiagnosticReport/…`).
    pub reference: Option<String>,
}

/// What a downward referral carries back to the township.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DownwardDetails {
    /// 治疗结果
    pub treatment_result: String,
    /// 出院小结
    pub discharge_summary: String,
    /// 康复建议
    pub rehabilitation_advice: Option<String>,
    /// 用药方案
    pub medication_plan: Option<String>,
    /// Day of discharge from the county (the follow-up is due from it).
    pub discharged_on: NaiveDate,
    /// High-risk patients are followed up sooner.
    pub high_risk: bool,
}

/// A referral as submitted (codes still as text).
#[derive(Debug, Clone, Default)]
pub struct ReferralDraft {
    /// A [`Direction`] identifier.
    pub direction: String,
    /// A [`Priority`] identifier.
    pub priority: String,
    /// The patient's record at the sending institution.
    pub patient_record_id: Option<PatientRecordId>,
    /// Sending department.
    pub from_department_id: Option<DepartmentId>,
    /// Target institution (in network).
    pub to_institution_id: Option<InstitutionId>,
    /// Target department.
    pub to_department_id: Option<DepartmentId>,
    /// The target is outside the consortium's network (a terminal hand-off).
    pub out_of_network: bool,
    /// The external institution's name when out of network.
    pub external_institution: Option<String>,
    /// An [`UpReason`] or [`DownReason`] identifier, by direction.
    pub reason: String,
    /// Free text beside the reason.
    pub reason_text: Option<String>,
    /// 主诉
    pub chief_complaint: Option<String>,
    /// 病情描述 (condition summary).
    pub condition: String,
    /// Diagnoses as ICD-10 codes with names (primary first).
    pub diagnoses: Vec<(String, String)>,
    /// Tests done with results.
    pub tests: Vec<SlipTest>,
    /// 已行治疗
    pub treatment: Option<String>,
    /// 注意事项
    pub precautions: Option<String>,
    /// A [`Centre`] identifier, required for green referrals.
    pub green_centre: Option<String>,
    /// County-to-county transfer.
    pub lateral: bool,
    /// Downward referrals only.
    pub downward: Option<DownwardDetails>,
    /// A [`CertificateClass`] identifier of the insurance referral certificate, if one was issued.
    pub certificate_class: Option<String>,
    /// Day the certificate was issued.
    pub certificate_issued: Option<NaiveDate>,
    /// Insurance certificate number.
    pub certificate_no: Option<String>,
    /// The patient consented to the referral and to sharing the record with the receiver.
    pub consent: bool,
    /// The up-referral a down-referral answers.
    pub parent_id: Option<uuid::Uuid>,
}

/// The reason of a validated referral, by direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Upward.
    Up(UpReason),
    /// Downward.
    Down(DownReason),
}

impl Reason {
    /// The stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up(r) => r.as_str(),
            Self::Down(r) => r.as_str(),
        }
    }
}

/// A validated referral draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidReferral {
    /// Direction.
    pub direction: Direction,
    /// Priority.
    pub priority: Priority,
    /// Patient record.
    pub patient_record_id: PatientRecordId,
    /// Sending department.
    pub from_department_id: Option<DepartmentId>,
    /// Target institution; `None` when out of network.
    pub to_institution_id: Option<InstitutionId>,
    /// Target department.
    pub to_department_id: Option<DepartmentId>,
    /// External institution (out of network).
    pub external_institution: Option<String>,
    /// Reason.
    pub reason: Reason,
    /// Free text.
    pub reason_text: Option<String>,
    /// 主诉
    pub chief_complaint: Option<String>,
    /// 病情描述
    pub condition: String,
    /// Diagnoses (ICD-10 code, name), primary first.
    pub diagnoses: Vec<(String, String)>,
    /// Tests.
    pub tests: Vec<SlipTest>,
    /// Treatment so far.
    pub treatment: Option<String>,
    /// Precautions.
    pub precautions: Option<String>,
    /// Green-channel centre.
    pub green_centre: Option<Centre>,
    /// Lateral.
    pub lateral: bool,
    /// Downward details.
    pub downward: Option<DownwardDetails>,
    /// Insurance certificate: class, issued, number.
    pub certificate: Option<(CertificateClass, NaiveDate, Option<String>)>,
    /// Consent recorded.
    pub consent: bool,
}

/// Alias kept short for callers.
pub type Validated = ValidReferral;

/// The care level of a tier, for the direction check: village 0, township/community 1, county 2.
fn level(tier: Tier) -> u8 {
    match tier {
        Tier::VillageClinic | Tier::VillageServicePoint | Tier::PrivateClinic | Tier::CommunityStation => 0,
        Tier::TownshipCentre | Tier::CommunityCentre => 1,
        Tier::CountyGeneral | Tier::CountyTcm | Tier::CountyMch | Tier::CountyOther => 2,
    }
}

const TEXT_MAX: usize = 2000;
const SHORT_MAX: usize = 200;

/// Checks a draft. `tiers` are the sending and (in-network) target institutions' tiers, when
/// the target is known. Every wrong field is reported at once.
pub fn validate_referral(
    draft: &ReferralDraft,
    from_tier: Tier,
    to_tier: Option<Tier>,
) -> Result<ValidReferral, Invalid> {
    let mut e = Invalid::default();
    let direction = Direction::parse(&draft.direction);
    if direction.is_none() {
        e.push("direction", "direction_invalid", "direction is upward or downward");
    }
    let priority = Priority::parse(&draft.priority);
    if priority.is_none() {
        e.push("priority", "priority_invalid", "priority is routine, urgent or green");
    }
    if draft.patient_record_id.is_none() {
        e.push("patient_record_id", "required", "patient_record_id is required");
    }
    let reason = match direction {
        Some(Direction::Upward) => UpReason::parse(&draft.reason).map(Reason::Up),
        Some(Direction::Downward) => DownReason::parse(&draft.reason).map(Reason::Down),
        None => None,
    };
    if reason.is_none() && direction.is_some() {
        e.push("reason", "reason_invalid", "reason is not a code of this direction's list");
    }
    let reason_text =
        validation::optional_text(&mut e, "reason_text", draft.reason_text.as_deref(), SHORT_MAX);
    let other =
        reason == Some(Reason::Up(UpReason::Other)) || reason == Some(Reason::Down(DownReason::Other));
    if other && reason_text.is_none() {
        e.push("reason_text", "required", "reason_text explains the reason 'other'");
    }
    // Out of network: an external name and no in-network target; in network: a target.
    let external = validation::optional_text(
        &mut e,
        "external_institution",
        draft.external_institution.as_deref(),
        SHORT_MAX,
    );
    if draft.out_of_network {
        if external.is_none() {
            e.push(
                "external_institution",
                "required",
                "an out-of-network referral names the external institution",
            );
        }
        if draft.to_institution_id.is_some() {
            e.push(
                "to_institution_id",
                "out_of_network_target",
                "an out-of-network referral has no in-network target",
            );
        }
    } else if draft.to_institution_id.is_none() {
        e.push("to_institution_id", "required", "to_institution_id is required");
    } else if let (Some(dir), Some(to)) = (direction, to_tier) {
        let (from, to) = (level(from_tier), level(to));
        let ok = match dir {
            Direction::Upward => to > from || (draft.lateral && to == from && to == 2),
            Direction::Downward => to < from,
        };
        if !ok {
            let message = match dir {
                Direction::Upward => {
                    "an upward referral goes to a higher tier (or county to county, lateral)"
                }
                Direction::Downward => "a downward referral goes to a lower tier",
            };
            e.push("to_institution_id", "direction_mismatch", message);
        }
    }
    if draft.lateral && direction == Some(Direction::Downward) {
        e.push("lateral", "lateral_downward", "only upward referrals are lateral");
    }
    let chief_complaint =
        validation::optional_text(&mut e, "chief_complaint", draft.chief_complaint.as_deref(), SHORT_MAX);
    let condition = validation::text(&mut e, "condition", &draft.condition, TEXT_MAX);
    let mut diagnoses = Vec::new();
    for (code, name) in &draft.diagnoses {
        let (code, name) = (code.trim(), name.trim());
        if code.is_empty() && name.is_empty() {
            continue;
        }
        if !is_icd10_code(code) {
            e.push("diagnoses", "icd10_invalid", format!("'{code}' is not an ICD-10 code (e.g. I21.9)"));
        } else if name.is_empty() || name.chars().count() > SHORT_MAX {
            e.push("diagnoses", "diagnosis_name_required", format!("diagnosis {code} needs a name"));
        }
        diagnoses.push((code.to_owned(), name.to_owned()));
    }
    let mut tests = Vec::new();
    for t in &draft.tests {
        if t.name.trim().is_empty() && t.result.trim().is_empty() {
            continue;
        }
        if t.name.trim().is_empty() || t.result.trim().is_empty() {
            e.push("tests", "test_incomplete", "each test has a name and a result");
        }
        if t.name.chars().count() > SHORT_MAX || t.result.chars().count() > TEXT_MAX {
            e.push("tests", "too_long", "a test name has at most 200 characters, a result 2000");
        }
        tests.push(SlipTest {
            name: t.name.trim().to_owned(),
            result: t.result.trim().to_owned(),
            date: t.date,
            reference: t.reference.clone().filter(|r| !r.trim().is_empty()),
        });
    }
    let treatment = validation::optional_text(&mut e, "treatment", draft.treatment.as_deref(), TEXT_MAX);
    let precautions =
        validation::optional_text(&mut e, "precautions", draft.precautions.as_deref(), TEXT_MAX);
    let green_centre = match (priority, draft.green_centre.as_deref().filter(|c| !c.is_empty())) {
        (Some(Priority::Green), None) => {
            e.push("green_centre", "required", "a green referral names its centre (chest pain, stroke…)");
            None
        }
        (Some(Priority::Green), Some(c)) => {
            let centre = Centre::parse(c);
            if centre.is_none() {
                e.push("green_centre", "green_centre_invalid", "unknown green-channel centre");
            }
            centre
        }
        _ => None,
    };
    if priority == Some(Priority::Green) && direction == Some(Direction::Downward) {
        e.push("priority", "green_downward", "green channels are for upward referrals");
    }
    let downward = match (direction, &draft.downward) {
        (Some(Direction::Downward), Some(d)) => {
            let result = validation::text(&mut e, "treatment_result", &d.treatment_result, TEXT_MAX);
            let summary = validation::text(&mut e, "discharge_summary", &d.discharge_summary, TEXT_MAX * 4);
            let rehab = validation::optional_text(
                &mut e,
                "rehabilitation_advice",
                d.rehabilitation_advice.as_deref(),
                TEXT_MAX,
            );
            let meds =
                validation::optional_text(&mut e, "medication_plan", d.medication_plan.as_deref(), TEXT_MAX);
            Some(DownwardDetails {
                treatment_result: result,
                discharge_summary: summary,
                rehabilitation_advice: rehab,
                medication_plan: meds,
                discharged_on: d.discharged_on,
                high_risk: d.high_risk,
            })
        }
        (Some(Direction::Downward), None) => {
            e.push("discharge_summary", "required", "a downward referral carries the discharge summary");
            None
        }
        _ => None,
    };
    let certificate =
        match (draft.certificate_class.as_deref().filter(|c| !c.is_empty()), draft.certificate_issued) {
            (None, None) => None,
            (Some(c), issued) => {
                let class = CertificateClass::parse(c);
                if class.is_none() {
                    e.push("certificate_class", "certificate_class_invalid", "unknown certificate class");
                }
                if issued.is_none() {
                    e.push("certificate_issued", "required", "a certificate has an issue date");
                }
                let no =
                    validation::optional_text(&mut e, "certificate_no", draft.certificate_no.as_deref(), 64);
                class.zip(issued).map(|(c, i)| (c, i, no))
            }
            (None, Some(_)) => {
                e.push("certificate_class", "required", "a certificate has a class");
                None
            }
        };
    if !draft.consent {
        e.push("consent", "consent_required", "the patient's consent to the referral is recorded first");
    }
    let (Some(direction), Some(priority), Some(patient_record_id), Some(reason)) =
        (direction, priority, draft.patient_record_id, reason)
    else {
        return Err(e);
    };
    e.into_result(ValidReferral {
        direction,
        priority,
        patient_record_id,
        from_department_id: draft.from_department_id,
        to_institution_id: if draft.out_of_network { None } else { draft.to_institution_id },
        to_department_id: draft.to_department_id,
        external_institution: external.filter(|_| draft.out_of_network),
        reason,
        reason_text,
        chief_complaint,
        condition,
        diagnoses,
        tests,
        treatment,
        precautions,
        green_centre,
        lateral: draft.lateral,
        downward,
        certificate,
        consent: draft.consent,
    })
}

/// An ICD-10 code as written in the national clinical edition: a letter, two digits, then
/// optionally a dot and up to four more characters (I21.9, E11.900, S72.001).
pub fn is_icd10_code(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_uppercase() || !b[1].is_ascii_digit() || !b[2].is_ascii_alphanumeric() {
        return false;
    }
    match &b[3..] {
        [] => true,
        [b'.', rest @ ..] => {
            (1..=4).contains(&rest.len()) && rest.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'x')
        }
        _ => false,
    }
}
