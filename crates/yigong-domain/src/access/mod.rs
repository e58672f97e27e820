//! Who may do what, where (DESIGN.md §5.1): role × scope, and relationship grants.
//!
//! An [`Actor`] is a user acting in one role at one institution, with the scope that role
//! resolves to (a set of institution ids, the consortium, or the county). [`decide`] allows an
//! action iff the role permits it **and** the target lies in scope **or** an active
//! [`Grant`] covers it; it names the [`Basis`] of an allowed access, which the audit records.
//! Later workflows (referral, reading, contract…) plug in by producing grants.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::ids::{ConsortiumId, InstitutionId, StaffId};

mod grants;
mod roles;

pub use grants::{BREAK_GLASS_HOURS, Grant, GrantSubject, break_glass, dispatch_grant};
pub use roles::{default_scope, role_permits};

#[cfg(test)]
mod tests;

vocabulary! {
    /// What a user does in the consortium; the only source of privileges with the scope.
    Role {
        /// 乡村医生
        VillageDoctor = "village_doctor",
        /// 乡镇卫生院医生
        TownshipDoctor = "township_doctor",
        /// 县级医院专科医生
        CountySpecialist = "county_specialist",
        /// 影像/心电/检验/病理诊断中心阅片医生
        Reader = "reader",
        /// 转诊中心协调员
        ReferralCoordinator = "referral_coordinator",
        /// 药师
        Pharmacist = "pharmacist",
        /// 医共体管理人员 (医务/运营/质控)
        ConsortiumManager = "consortium_manager",
        /// 卫生健康局 / 疾控 officer
        HealthBureau = "health_bureau",
        /// 机构管理员
        InstitutionAdmin = "institution_admin",
        /// 系统管理员
        SystemAdmin = "system_admin",
    }
}

vocabulary! {
    /// The extent of an actor's reach.
    ScopeKind {
        /// The acting institution only.
        Institution = "institution",
        /// A township centre with its village clinics and service points (乡镇组).
        TownshipGroup = "township_group",
        /// Every member of the consortium.
        Consortium = "consortium",
        /// Every consortium of the county (agency users).
        County = "county",
    }
}

vocabulary! {
    /// An action that needs authorisation.
    Permission {
        /// Read institutions and departments.
        RegistryRead = "registry_read",
        /// Create or change institutions and departments.
        RegistryWrite = "registry_write",
        /// Read the staff registry (personal data of staff).
        StaffRead = "staff_read",
        /// Create or change staff and postings.
        StaffWrite = "staff_write",
        /// Read user accounts.
        UserRead = "user_read",
        /// Create, disable and re-role user accounts.
        UserAdmin = "user_admin",
        /// Read the audit trail.
        AuditRead = "audit_read",
        /// Read a patient's record.
        PatientRead = "patient_read",
        /// Write to a patient's record.
        PatientWrite = "patient_write",
        /// Open one patient's record in an emergency (紧急授权访问).
        BreakGlass = "break_glass",
        /// Keep the master patient index: review candidate pairs, link, unlink, merge and
        /// unmerge persons (主索引管理员).
        MpiSteward = "mpi_steward",
        /// Read workflow metrics and indicators with de-identified drill-down (转诊统计, 监测指标).
        IndicatorRead = "indicator_read",
    }
}

vocabulary! {
    /// Why an access was allowed (or attempted), as the audit records it.
    Basis {
        /// The target belongs to the actor's institution or scope.
        OwnInstitution = "own_institution",
        /// Consortium- or county-wide scope of a management role.
        Jurisdiction = "jurisdiction",
        /// An active referral.
        Referral = "referral",
        /// A dispatch posting at the host institution.
        Dispatch = "dispatch",
        /// A reading-centre assignment.
        ReadingCentre = "reading_centre",
        /// Emergency break-glass with a stated reason.
        BreakGlass = "break_glass",
        /// Administration of the platform (accounts, registry).
        Administration = "administration",
        /// Nothing covered it (denied requests).
        None = "none",
    }
}

impl Permission {
    /// Whether the permission only reads.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Self::RegistryRead
                | Self::StaffRead
                | Self::UserRead
                | Self::AuditRead
                | Self::PatientRead
                | Self::IndicatorRead
        )
    }
}

/// The resolved reach of an actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// These institutions of the actor's consortium (institution or township group).
    Institutions(BTreeSet<InstitutionId>),
    /// The whole consortium.
    Consortium,
    /// These consortia (the county's).
    County(BTreeSet<ConsortiumId>),
}

/// A user acting in one role at one institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The account.
    pub user_id: uuid::Uuid,
    /// The staff record behind the account, if any (service accounts have none).
    pub staff_id: Option<StaffId>,
    /// Home consortium of the account.
    pub consortium_id: ConsortiumId,
    /// Role in effect.
    pub role: Role,
    /// Acting institution.
    pub institution_id: Option<InstitutionId>,
    /// Kind of scope, as granted.
    pub scope_kind: ScopeKind,
    /// Resolved scope.
    pub scope: Scope,
    /// Active relationship grants.
    pub grants: Vec<Grant>,
    /// The request this actor acts in, for the audit trail.
    pub request_id: Option<String>,
}

/// What an action touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Consortium of the resource.
    pub consortium_id: ConsortiumId,
    /// Institution the resource belongs to; `None` for consortium-level resources.
    pub institution_id: Option<InstitutionId>,
    /// The patient concerned, for personal and clinical data.
    pub patient: Option<uuid::Uuid>,
}

impl Target {
    /// A consortium-level resource.
    pub fn consortium(consortium_id: ConsortiumId) -> Self {
        Self { consortium_id, institution_id: None, patient: None }
    }

    /// A resource of one institution.
    pub fn institution(consortium_id: ConsortiumId, institution_id: InstitutionId) -> Self {
        Self { consortium_id, institution_id: Some(institution_id), patient: None }
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The role never permits this action.
    RoleLacksPermission,
    /// The role permits it, but not on this target.
    OutOfScope,
}

impl Denial {
    /// Stable code for the API.
    pub fn code(self) -> &'static str {
        match self {
            Self::RoleLacksPermission => "forbidden",
            Self::OutOfScope => "out_of_scope",
        }
    }
}

/// Decides one action at `now`. Pure: the same inputs always give the same answer.
pub fn decide(
    actor: &Actor,
    permission: Permission,
    target: &Target,
    now: DateTime<Utc>,
) -> Result<Basis, Denial> {
    if !role_permits(actor.role, permission) {
        return Err(Denial::RoleLacksPermission);
    }
    if let Some(basis) = scope_basis(actor, permission, target) {
        return Ok(basis);
    }
    // Relationship grants reach beyond the scope, for the data the relationship is about.
    if matches!(
        permission,
        Permission::PatientRead | Permission::PatientWrite | Permission::RegistryRead | Permission::StaffRead
    ) && let Some(g) = actor.grants.iter().find(|g| g.covers(target, now))
    {
        return Ok(g.basis);
    }
    Err(Denial::OutOfScope)
}

fn scope_basis(actor: &Actor, permission: Permission, target: &Target) -> Option<Basis> {
    let administrative = matches!(actor.role, Role::SystemAdmin | Role::InstitutionAdmin);
    let own = if administrative { Basis::Administration } else { Basis::OwnInstitution };
    match &actor.scope {
        Scope::County(consortia) => consortia.contains(&target.consortium_id).then_some(Basis::Jurisdiction),
        _ if target.consortium_id != actor.consortium_id => None,
        Scope::Consortium => Some(if administrative { Basis::Administration } else { Basis::Jurisdiction }),
        Scope::Institutions(set) => match target.institution_id {
            Some(i) => set.contains(&i).then_some(own),
            // Consortium-level resources (the registry lists) are read by every member's
            // staff; writing them needs a consortium scope, which a set scope is not.
            None => (permission.is_read() && permission != Permission::PatientRead).then_some(own),
        },
    }
}
