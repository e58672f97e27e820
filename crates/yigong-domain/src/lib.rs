//! Pure types and rules of a county medical consortium: identity numbers, division codes, the
//! organisation and staff registries. No I/O, no clock reads: `now` and `today` are parameters.
#![warn(missing_docs)]

#[macro_use]
mod macros;
pub mod access;
pub mod facility;
pub mod identity;
pub mod ids;
pub mod page;
pub mod patient;
pub mod population;
pub mod reading;
pub mod referral;
pub mod staffing;
pub mod validation;

pub use staffing::{
    NewPosting, NewStaff, Posting, PostingDraft, Staff, StaffDraft, TitleRecord, validate_posting,
    validate_staff,
};
pub use validation::{FieldError, Invalid};
