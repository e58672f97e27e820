//! Resident ID numbers at registration: a valid number, or a malformed one kept as unverified
//! with its warning (DESIGN §3.1). A clerk may register a patient whose card is misprinted or
//! whose number was mistyped on paper; the number is kept, never silently taken as valid.

use chrono::NaiveDate;

use super::resident_id::normalise;
use super::text::mask;
use super::{ResidentId, ResidentIdError};

/// Warning code for a valid number whose address code the caller does not know (DESIGN §3.1).
pub const UNKNOWN_AREA: &str = "unknown_area";

/// What registration learns from a resident ID number as entered.
#[derive(Clone, PartialEq, Eq)]
pub enum ResidentIdStatus {
    /// The number passed [`ResidentId::parse`] (a 15-digit one converted to 18 characters).
    Valid(ResidentId),
    /// The number failed a check; it is kept as normalised, never used as a valid number.
    Unverified {
        /// The number after normalisation (full-width to ASCII, `x` to `X`, spaces and dashes
        /// dropped); a 15-digit number is not widened since its date or shape is in doubt.
        normalised: String,
        /// The first check that failed.
        warning: ResidentIdError,
    },
}

/// Assesses a resident ID number as entered at registration; `None` when nothing but spaces
/// and dashes was entered. Valid exactly when [`ResidentId::parse`] accepts `raw`.
pub fn assess_resident_id(raw: &str, today: NaiveDate) -> Option<ResidentIdStatus> {
    let normalised = normalise(raw);
    if normalised.is_empty() {
        return None;
    }
    Some(match ResidentId::parse(&normalised, today) {
        Ok(id) => ResidentIdStatus::Valid(id),
        Err(warning) => ResidentIdStatus::Unverified { normalised, warning },
    })
}

impl ResidentIdStatus {
    /// `valid`, `derived_from_15`, or the warning of [`ResidentIdError::warning_code`].
    pub fn status_code(&self) -> &'static str {
        match self {
            Self::Valid(id) if id.original_15().is_some() => "derived_from_15",
            Self::Valid(_) => "valid",
            Self::Unverified { warning, .. } => warning.warning_code(),
        }
    }

    /// Whether the number passed every check.
    pub fn is_valid(&self) -> bool {
        matches!(self, Self::Valid(_))
    }

    /// The parsed number when it is valid.
    pub fn valid(&self) -> Option<&ResidentId> {
        match self {
            Self::Valid(id) => Some(id),
            Self::Unverified { .. } => None,
        }
    }

    /// The warning when the number is unverified.
    pub fn warning(&self) -> Option<ResidentIdError> {
        match self {
            Self::Valid(_) => None,
            Self::Unverified { warning, .. } => Some(*warning),
        }
    }

    /// The full number to store: 18 characters when valid, the normalised input otherwise.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Valid(id) => id.as_str(),
            Self::Unverified { normalised, .. } => normalised,
        }
    }

    /// The number with its middle hidden, for screens and logs. A valid number shows as
    /// [`ResidentId::masked`]; an unverified one keeps its length visible with at most its
    /// first 6 and last 4 characters (an 18-character one looks the same as a valid one).
    pub fn masked(&self) -> String {
        match self {
            Self::Valid(id) => id.masked(),
            Self::Unverified { normalised, .. } => mask(normalised),
        }
    }

    /// Whether a valid number's address code is unknown to `is_known_area`, which the caller
    /// builds from its division table (the domain holds no code list; retired GB/T 2260 codes
    /// stay valid on old cards, so that table should keep them). An unknown area is a warning
    /// ([`UNKNOWN_AREA`]) and never makes the number unverified. Always `false` for an
    /// unverified number, whose address code means nothing.
    pub fn unknown_area(&self, is_known_area: impl FnOnce(&str) -> bool) -> bool {
        match self {
            Self::Valid(id) => !is_known_area(id.area_code()),
            Self::Unverified { .. } => false,
        }
    }
}

impl std::fmt::Debug for ResidentIdStatus {
    /// Masked: ID numbers are personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Valid(id) => write!(f, "Valid({id:?})"),
            Self::Unverified { normalised, warning } => {
                write!(f, "Unverified({}, {})", mask(normalised), warning.warning_code())
            }
        }
    }
}
