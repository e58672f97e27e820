//! Identity numbers and administrative division codes: GB 11643 resident ID (and its
//! assessment at registration), the other person identifiers of the master patient index,
//! mainland phone numbers, GB/T 2260 county codes and NBS 12-digit statistical division codes,
//! and the sex code of GB/T 2261.1.

mod assessment;
mod division;
mod identifier;
mod phone;
mod resident_id;
mod sex;
mod text;

pub use assessment::{ResidentIdStatus, UNKNOWN_AREA, assess_resident_id};
pub use division::{CountyCode, DivisionCode, DivisionError, DivisionLevel};
pub use identifier::{Identifier, IdentifierError, IdentifierKind, MrnType, RESIDENT_ID_SYSTEM};
pub use phone::{Phone, PhoneError, PhoneKind};
pub use resident_id::{IdOrigin, ResidentId, ResidentIdError, check_char};
pub use sex::Sex;

#[cfg(test)]
mod tests;
