//! The role × permission matrix and each role's default scope.

use super::{Permission, Role, ScopeKind};

/// Whether `role` may ever perform `permission` (scope decides where).
pub fn role_permits(role: Role, permission: Permission) -> bool {
    use Permission as P;
    use Role as R;
    match permission {
        // The registry of institutions and the staff directory are read by everyone who
        // works in the consortium; writing them is administration.
        P::RegistryRead | P::StaffRead => true,
        P::RegistryWrite => matches!(role, R::SystemAdmin | R::InstitutionAdmin | R::ConsortiumManager),
        P::StaffWrite => matches!(role, R::SystemAdmin | R::InstitutionAdmin),
        P::UserRead | P::UserAdmin => matches!(role, R::SystemAdmin | R::InstitutionAdmin),
        P::AuditRead => matches!(role, R::SystemAdmin | R::ConsortiumManager | R::HealthBureau),
        // Identity data quality is a consortium function (医务/信息科), never a platform admin's:
        // stewards see the demographics of the pairs they decide, not clinical records.
        P::MpiSteward => matches!(role, R::ConsortiumManager),
        // Aggregates for those who run the consortium and its referral centres; no clinical rows.
        P::IndicatorRead => {
            matches!(
                role,
                R::ConsortiumManager | R::HealthBureau | R::ReferralCoordinator | R::InstitutionAdmin
            )
        }
        // Clinical data: clinicians only; admins never, managers only de-identified aggregates.
        P::PatientRead | P::PatientWrite | P::BreakGlass => matches!(
            role,
            R::VillageDoctor | R::TownshipDoctor | R::CountySpecialist | R::Reader | R::ReferralCoordinator
        ),
    }
}

/// The scope a role gets unless granted otherwise.
pub fn default_scope(role: Role) -> ScopeKind {
    match role {
        Role::VillageDoctor | Role::CountySpecialist | Role::ReferralCoordinator | Role::InstitutionAdmin => {
            ScopeKind::Institution
        }
        Role::TownshipDoctor => ScopeKind::TownshipGroup,
        Role::Reader | Role::Pharmacist | Role::ConsortiumManager | Role::SystemAdmin => {
            ScopeKind::Consortium
        }
        Role::HealthBureau => ScopeKind::County,
    }
}
