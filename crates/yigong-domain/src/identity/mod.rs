//! Identity numbers and administrative division codes: GB 11643 resident ID, GB/T 2260 county
//! codes and NBS 12-digit statistical division codes, and the sex code of GB/T 2261.1.

mod division;
mod resident_id;
mod sex;

pub use division::{CountyCode, DivisionCode, DivisionError, DivisionLevel};
pub use resident_id::{IdOrigin, ResidentId, ResidentIdError, check_char};
pub use sex::Sex;

#[cfg(test)]
mod tests;
