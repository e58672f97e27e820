//! Route modules, one per domain, each with `router() -> OpenApiRouter<AppState>`.

pub mod audit;
pub mod auth;
pub mod consortia;
pub mod dicomweb;
pub mod exams;
pub mod fhir;
pub mod institutions;
pub mod mpi;
pub mod record;
pub mod referrals;
pub mod staff;
pub mod system;
pub mod users;
