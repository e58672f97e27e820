//! Use cases: validate with the domain rules, read and write through the store in one
//! transaction, and return domain values. The HTTP layer, the CLI and jobs all come through
//! here, so a rule written once holds for every door.

pub mod access;
pub mod audit;
pub mod auth;
mod ctx;
mod error;
pub mod imaging;
pub mod mpi;
pub mod reading;
pub mod record;
pub mod referral;
pub mod registry;
pub mod seed;

pub use ctx::{Clock, Ctx, DEFAULT_FHIR_MAX_BODY, FixedClock, ManualClock, SystemClock};
pub use error::AppError;
