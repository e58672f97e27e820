//! Storage on SQLite (the embedded default) and PostgreSQL, with sqlx's concrete drivers.
//!
//! One [`Db`] chosen by URL scheme; store functions take a [`Tx`] that the caller in
//! `yigong-app` opens and commits, so a use case's writes are all-or-nothing. Queries are
//! written once where the two dialects agree and branch per backend only where they differ.

pub mod account;
pub mod audit;
mod bind;
pub mod consortium;
mod db;
pub mod department;
mod error;
pub mod fhir;
pub mod imaging;
pub mod institution;
pub mod mpi;
pub mod population;
pub mod reading;
pub mod referral;
pub mod staff;

pub use db::{Backend, Db, Tx};
pub use error::{StoreError, classify};

/// Tenant tables: every one carries `consortium_id`, the future distribution key, as the
/// first column of its primary key. The schema lint test checks the migrations against this
/// list and [`REFERENCE_TABLES`], so a new table must be placed in one of the two.
pub const TENANT_TABLES: &[&str] = &[
    "consortium",
    "institution",
    "institution_membership",
    "department",
    "staff",
    "staff_title",
    "posting",
    "household",
    "health_record",
    "user_role",
    "break_glass",
    "audit_event",
    "audit_seal",
    "mpi_source",
    "mpi_person",
    "mpi_record",
    "mpi_link",
    "mpi_operation",
    "mpi_candidate",
    "mpi_model",
    "mpi_block_key",
    "fhir_resource",
    "fhir_history",
    "fhir_token",
    "fhir_string",
    "fhir_date",
    "fhir_reference",
    "referral",
    "referral_event",
    "follow_up_task",
    "green_stamp",
    "notification",
    "dicom_node",
    "exam_order",
    "exam_event",
    "dicom_study",
    "dicom_series",
    "dicom_instance",
    "exam_item",
    "recognition_qc",
    "exam_report",
    "specimen_event",
    "critical_value",
    "recognition_decision",
];

/// The account directory: global because a login name is resolved before any consortium is
/// known. Small, referenced by tenant rows, referencing none.
pub const DIRECTORY_TABLES: &[&str] = &["user_account", "auth_token"];

/// Global reference tables, read-only to tenants and replicated to every node.
pub const REFERENCE_TABLES: &[&str] = &["division", "division_population"];
