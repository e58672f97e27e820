//! The organisation model: consortium, member institutions with their tier, agencies,
//! departments and membership history (DESIGN.md §2).

mod credit_code;
mod department;
mod institution;
mod vocab;

pub use credit_code::{credit_code_check_char, valid_credit_code};
pub use department::{Department, DepartmentDraft, DepartmentKind, NewDepartment, validate_department};
pub use institution::{
    Consortium, ConsortiumDraft, Institution, InstitutionDraft, InstitutionKind, Membership, NewConsortium,
    NewInstitution, validate_consortium, validate_institution,
};
pub use vocab::{AgencyKind, Ownership, Service, Tier};

#[cfg(test)]
mod tests;
