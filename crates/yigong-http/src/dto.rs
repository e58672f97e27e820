//! Request and response bodies of the registry API, and their conversion to domain drafts.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use yigong_domain::facility::Membership;
use yigong_domain::facility::{
    Consortium, ConsortiumDraft, Department, DepartmentDraft, Institution, InstitutionDraft, InstitutionKind,
};
use yigong_domain::ids::{DepartmentId, InstitutionId};
use yigong_domain::{Posting, PostingDraft, Staff, StaffDraft, TitleRecord};

/// A new consortium.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConsortium {
    /// Name.
    #[schema(example = "青岚县医疗卫生共同体")]
    pub name: String,
    /// GB/T 2260 six-digit county code.
    #[schema(example = "990121")]
    pub county_code: String,
    /// Founding date.
    pub founded_on: Option<NaiveDate>,
}

impl From<CreateConsortium> for ConsortiumDraft {
    fn from(b: CreateConsortium) -> Self {
        Self { name: b.name, county_code: b.county_code, founded_on: b.founded_on }
    }
}

/// A consortium.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsortiumView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// County code.
    pub county_code: String,
    /// Founding date.
    pub founded_on: NaiveDate,
    /// Lead hospital.
    pub lead_institution_id: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<&Consortium> for ConsortiumView {
    fn from(c: &Consortium) -> Self {
        Self {
            id: c.id.as_uuid(),
            name: c.name.clone(),
            county_code: c.county_code.as_str().to_owned(),
            founded_on: c.founded_on,
            lead_institution_id: c.lead_institution_id.map(|i| i.as_uuid()),
            created_at: c.created_at,
        }
    }
}

/// An institution to create, or the full new state of one to update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstitutionInput {
    /// Short code unique in the consortium (letters, digits, `-`, `_`).
    #[schema(example = "V101")]
    pub code: String,
    /// Name.
    #[schema(example = "上河村卫生室")]
    pub name: String,
    /// Tier of a member: county_general, county_tcm, county_mch, county_other, township_centre,
    /// community_centre, community_station, village_clinic, village_service_point, private_clinic.
    pub tier: Option<String>,
    /// Kind of an agency instead of a tier: health_bureau, cdc, insurance_bureau.
    pub agency_kind: Option<String>,
    /// Central township centre.
    #[serde(default)]
    pub is_central: bool,
    /// Twelve-digit statistical division code inside the consortium's county.
    #[schema(example = "990121101201")]
    pub division_code: String,
    /// Parent institution: the township centre of a village site (required for a service point).
    pub parent_id: Option<Uuid>,
    /// GB 32100 unified social credit code.
    pub credit_code: Option<String>,
    /// Practice licence number.
    pub licence_no: Option<String>,
    /// public (default) or private.
    pub ownership: Option<String>,
    /// Services offered (imaging_centre, ecg_centre, ...).
    #[serde(default)]
    pub services: Vec<String>,
    /// Approved beds.
    pub beds: Option<i64>,
    /// Street address below the village.
    pub address: Option<String>,
}

impl From<InstitutionInput> for InstitutionDraft {
    fn from(b: InstitutionInput) -> Self {
        Self {
            code: b.code,
            name: b.name,
            tier: b.tier,
            agency_kind: b.agency_kind,
            is_central: b.is_central,
            division_code: b.division_code,
            parent_id: b.parent_id.map(InstitutionId::from_uuid),
            credit_code: b.credit_code,
            licence_no: b.licence_no,
            ownership: b.ownership,
            services: b.services,
            beds: b.beds,
            address: b.address,
        }
    }
}

/// A membership period.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day, if it left.
    pub valid_to: Option<NaiveDate>,
    /// Reason.
    pub reason: String,
}

impl From<&Membership> for MembershipView {
    fn from(m: &Membership) -> Self {
        Self { valid_from: m.valid_from, valid_to: m.valid_to, reason: m.reason.clone() }
    }
}

/// An institution.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionView {
    /// Id.
    pub id: Uuid,
    /// Consortium.
    pub consortium_id: Uuid,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// `member` or `agency`.
    pub kind: &'static str,
    /// Tier (members).
    pub tier: Option<&'static str>,
    /// Agency kind (agencies).
    pub agency_kind: Option<&'static str>,
    /// Grassroots (基层) member.
    pub grassroots: bool,
    /// Central township centre.
    pub is_central: bool,
    /// Division code.
    pub division_code: String,
    /// Township code (twelve digits), for sites below the county level.
    pub township_code: Option<String>,
    /// Parent.
    pub parent_id: Option<Uuid>,
    /// Credit code.
    pub credit_code: Option<String>,
    /// Licence number.
    pub licence_no: Option<String>,
    /// Ownership.
    pub ownership: &'static str,
    /// Services.
    pub services: Vec<&'static str>,
    /// Beds.
    pub beds: i64,
    /// Address.
    pub address: Option<String>,
    /// Membership history (on single reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memberships: Option<Vec<MembershipView>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&Institution> for InstitutionView {
    fn from(i: &Institution) -> Self {
        let (kind, tier, agency_kind) = match i.kind {
            InstitutionKind::Member(t) => ("member", Some(t.as_str()), None),
            InstitutionKind::Agency(a) => ("agency", None, Some(a.as_str())),
        };
        Self {
            id: i.id.as_uuid(),
            consortium_id: i.consortium_id.as_uuid(),
            code: i.code.clone(),
            name: i.name.clone(),
            kind,
            tier,
            agency_kind,
            grassroots: i.kind.tier().is_some_and(|t| t.is_grassroots()),
            is_central: i.is_central,
            division_code: i.division_code.as_str().to_owned(),
            township_code: i.division_code.township(),
            parent_id: i.parent_id.map(|p| p.as_uuid()),
            credit_code: i.credit_code.clone(),
            licence_no: i.licence_no.clone(),
            ownership: i.ownership.as_str(),
            services: i.services.iter().map(|s| s.as_str()).collect(),
            beds: i.beds,
            address: i.address.clone(),
            memberships: None,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// A department to create or update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    /// 诊疗科目 code, `NN` or `NN.NN`.
    #[schema(example = "03.01")]
    pub subject_code: Option<String>,
    /// Name.
    #[schema(example = "呼吸内科")]
    pub name: String,
    /// clinical, medical_technology, reading_centre, pharmacy or admin.
    pub kind: String,
}

impl From<DepartmentInput> for DepartmentDraft {
    fn from(b: DepartmentInput) -> Self {
        Self { subject_code: b.subject_code, name: b.name, kind: b.kind }
    }
}

/// A department.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentView {
    /// Id.
    pub id: Uuid,
    /// Institution.
    pub institution_id: Uuid,
    /// Subject code.
    pub subject_code: Option<String>,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: &'static str,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<&Department> for DepartmentView {
    fn from(d: &Department) -> Self {
        Self {
            id: d.id.as_uuid(),
            institution_id: d.institution_id.as_uuid(),
            subject_code: d.subject_code.clone(),
            name: d.name.clone(),
            kind: d.kind.as_str(),
            created_at: d.created_at,
        }
    }
}

/// A staff member to create, or the full new state of one to update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffInput {
    /// Staff number unique in the consortium.
    #[schema(example = "S09001")]
    pub code: String,
    /// Name.
    pub name: String,
    /// male, female, unknown or unspecified.
    pub sex: String,
    /// GB 11643 resident ID number (18 characters, or 15 digits).
    pub resident_id: Option<String>,
    /// physician, assistant_physician, village_doctor, nurse, pharmacist, technician, public_health, admin.
    pub category: String,
    /// junior, intermediate, associate_senior, senior, or unknown.
    pub title_level: Option<String>,
    /// Title as written, e.g. 主治医师.
    pub title_name: Option<String>,
    /// Since when the title is held (default today).
    pub title_since: Option<NaiveDate>,
    /// Practice certificate number.
    pub practice_certificate_no: Option<String>,
    /// clinical, tcm, dental or public_health.
    pub practice_category: Option<String>,
    /// Practice scope, e.g. 内科专业.
    pub practice_scope: Option<String>,
    /// Institution of first registration.
    pub registered_institution_id: Option<Uuid>,
    /// Multi-site practice registered.
    #[serde(default)]
    pub multi_site: bool,
    /// Employing institution.
    pub employer_institution_id: Option<Uuid>,
}

impl From<StaffInput> for StaffDraft {
    fn from(b: StaffInput) -> Self {
        Self {
            code: b.code,
            name: b.name,
            sex: b.sex,
            resident_id: b.resident_id,
            category: b.category,
            title_level: b.title_level,
            title_name: b.title_name,
            title_since: b.title_since,
            practice_certificate_no: b.practice_certificate_no,
            practice_category: b.practice_category,
            practice_scope: b.practice_scope,
            registered_institution_id: b.registered_institution_id.map(InstitutionId::from_uuid),
            multi_site: b.multi_site,
            employer_institution_id: b.employer_institution_id.map(InstitutionId::from_uuid),
        }
    }
}

/// One entry of a title history.
#[derive(Debug, Serialize, ToSchema)]
pub struct TitleView {
    /// Level, absent when unknown.
    pub level: Option<&'static str>,
    /// Name.
    pub name: Option<String>,
    /// Held since.
    pub since: NaiveDate,
}

impl From<&TitleRecord> for TitleView {
    fn from(t: &TitleRecord) -> Self {
        Self { level: t.level.map(|l| l.as_str()), name: t.name.clone(), since: t.since }
    }
}

/// A staff member. The resident ID number is shown masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffView {
    /// Id.
    pub id: Uuid,
    /// Staff number.
    pub code: String,
    /// Name.
    pub name: String,
    /// Sex.
    pub sex: &'static str,
    /// Resident ID, masked (`990121********123X`).
    pub resident_id_masked: Option<String>,
    /// Category.
    pub category: &'static str,
    /// Title level; absent = unknown.
    pub title_level: Option<&'static str>,
    /// Title name.
    pub title_name: Option<String>,
    /// Certificate number.
    pub practice_certificate_no: Option<String>,
    /// Practice category.
    pub practice_category: Option<&'static str>,
    /// Practice scope.
    pub practice_scope: Option<String>,
    /// Institution of first registration.
    pub registered_institution_id: Option<Uuid>,
    /// Multi-site practice.
    pub multi_site: bool,
    /// Employer.
    pub employer_institution_id: Uuid,
    /// Title history, oldest first (single reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub titles: Option<Vec<TitleView>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&Staff> for StaffView {
    fn from(s: &Staff) -> Self {
        Self {
            id: s.id.as_uuid(),
            code: s.code.clone(),
            name: s.name.clone(),
            sex: s.sex.as_str(),
            resident_id_masked: s.resident_id.as_ref().map(|r| r.masked()),
            category: s.category.as_str(),
            title_level: s.title_level.map(|t| t.as_str()),
            title_name: s.title_name.clone(),
            practice_certificate_no: s.practice_certificate_no.clone(),
            practice_category: s.practice_category.map(|c| c.as_str()),
            practice_scope: s.practice_scope.clone(),
            registered_institution_id: s.registered_institution_id.map(|i| i.as_uuid()),
            multi_site: s.multi_site,
            employer_institution_id: s.employer_institution_id.as_uuid(),
            titles: None,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A posting to create, or the full new state of one to update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostingInput {
    /// Institution.
    pub institution_id: Option<Uuid>,
    /// Department of that institution.
    pub department_id: Option<Uuid>,
    /// Position, e.g. 内科医师.
    pub position: Option<String>,
    /// employment (default), dispatch, multi_site or teleconsultation.
    pub source: Option<String>,
    /// First day.
    pub valid_from: Option<NaiveDate>,
    /// Last day (inclusive); absent = open-ended.
    pub valid_to: Option<NaiveDate>,
}

impl From<PostingInput> for PostingDraft {
    fn from(b: PostingInput) -> Self {
        Self {
            institution_id: b.institution_id.map(InstitutionId::from_uuid),
            department_id: b.department_id.map(DepartmentId::from_uuid),
            position: b.position,
            source: b.source,
            valid_from: b.valid_from,
            valid_to: b.valid_to,
        }
    }
}

/// A posting.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostingView {
    /// Id.
    pub id: Uuid,
    /// Staff member.
    pub staff_id: Uuid,
    /// Institution.
    pub institution_id: Uuid,
    /// Department.
    pub department_id: Option<Uuid>,
    /// Position.
    pub position: Option<String>,
    /// Basis.
    pub source: &'static str,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day.
    pub valid_to: Option<NaiveDate>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<&Posting> for PostingView {
    fn from(p: &Posting) -> Self {
        Self {
            id: p.id.as_uuid(),
            staff_id: p.staff_id.as_uuid(),
            institution_id: p.institution_id.as_uuid(),
            department_id: p.department_id.map(|d| d.as_uuid()),
            position: p.position.clone(),
            source: p.source.as_str(),
            valid_from: p.valid_from,
            valid_to: p.valid_to,
            created_at: p.created_at,
        }
    }
}
