//! GB 11643-1999 公民身份号码 (and the 15-digit numbers of GB 11643-1989).

use chrono::NaiveDate;

use super::Sex;
use super::text::compact;

/// Weights of ISO 7064 MOD 11-2 for positions 1..=17: W_k = 2^(18-k) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder r = S mod 11.
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Why a string is not a resident ID number. Each variant has a stable `code()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    /// Neither 18 characters (17 digits and a check digit or `X`) nor 15 digits.
    #[error("a resident ID number has 18 characters (or 15 digits for an old number)")]
    Length,
    /// A character other than a digit, or an `X` anywhere but last.
    #[error("a resident ID number has only digits, with X allowed as the check character")]
    Character,
    /// The embedded birth date is not a calendar date.
    #[error("the birth date inside the resident ID number is not a real date")]
    BirthDate,
    /// The embedded birth date lies after the reference day.
    #[error("the birth date inside the resident ID number is in the future")]
    FutureBirthDate,
    /// The 18th character does not match the MOD 11-2 check.
    #[error("the check character of the resident ID number does not match (mistyped digit?)")]
    CheckDigit,
}

impl ResidentIdError {
    /// Stable snake_case code, used by the API and the UI catalogue.
    pub fn code(self) -> &'static str {
        match self {
            Self::Length => "resident_id_length",
            Self::Character => "resident_id_character",
            Self::BirthDate => "resident_id_birth_date",
            Self::FutureBirthDate => "resident_id_future_birth_date",
            Self::CheckDigit => "resident_id_check_digit",
        }
    }

    /// The outcome code of DESIGN §3.1 for a number kept as unverified: `invalid_length`,
    /// `invalid_characters` (not in DESIGN's list: letters or symbols other than a final `X`),
    /// `invalid_date`, `future_birth_date` or `invalid_checksum`.
    pub fn warning_code(self) -> &'static str {
        match self {
            Self::Length => "invalid_length",
            Self::Character => "invalid_characters",
            Self::BirthDate => "invalid_date",
            Self::FutureBirthDate => "future_birth_date",
            Self::CheckDigit => "invalid_checksum",
        }
    }
}

/// Where an 18-character number came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdOrigin {
    /// Entered or read as 18 characters.
    Entered18,
    /// Converted from a 15-digit GB 11643-1989 number.
    DerivedFrom15,
}

/// A GB 11643 resident ID number, valid by construction and always held in its 18-character
/// form. No `Display`: the number is personal data; `Debug` masks it. Use [`ResidentId::as_str`]
/// where the full number is really needed (storage, matching).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId {
    number: String,
    origin: IdOrigin,
}

impl std::fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

/// The MOD 11-2 check character for the first 17 digits. Panics if `first17` is not 17 ASCII
/// digits: callers build the digits themselves (the synthetic county, the 15→18 conversion).
pub fn check_char(first17: &str) -> char {
    assert!(first17.len() == 17 && first17.bytes().all(|b| b.is_ascii_digit()), "17 digits expected");
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

/// Full-width ASCII to ASCII, `x` to `X`, spaces and dashes dropped (numbers are often typed
/// in groups: `110105 19491231 002X`, `110105-19491231-002X`).
pub(crate) fn normalise(raw: &str) -> String {
    compact(raw).chars().map(|c| if c == 'x' { 'X' } else { c }).collect()
}

fn parse_date(yyyymmdd: &str) -> Result<NaiveDate, ResidentIdError> {
    NaiveDate::parse_from_str(yyyymmdd, "%Y%m%d").map_err(|_| ResidentIdError::BirthDate)
}

impl ResidentId {
    /// Parses an 18-character or 15-digit number, checking shape, birth date (not after
    /// `today`) and check character. A 15-digit number is converted to 18 characters.
    /// Full-width characters, `x`, spaces and dashes are normalised first. The address code is
    /// not checked: codes are retired and reissued, so an unknown one is only a warning
    /// ([`super::ResidentIdStatus::unknown_area`]).
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, ResidentIdError> {
        let id = normalise(raw);
        if !id.chars().all(|c| c.is_ascii_digit() || c == 'X') {
            return Err(ResidentIdError::Character);
        }
        let (number, origin) = match id.len() {
            18 => {
                let (body, last) = id.split_at(17);
                let last_ok = last == "X" || (last.len() == 1 && last.as_bytes()[0].is_ascii_digit());
                if !body.bytes().all(|b| b.is_ascii_digit()) || !last_ok {
                    return Err(ResidentIdError::Character);
                }
                (id, IdOrigin::Entered18)
            }
            15 => {
                if !id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ResidentIdError::Character);
                }
                let body = format!("{}19{}", &id[..6], &id[6..]);
                let check = check_char(&body);
                (format!("{body}{check}"), IdOrigin::DerivedFrom15)
            }
            _ => return Err(ResidentIdError::Length),
        };
        let birth = parse_date(&number[6..14])?;
        if birth > today {
            return Err(ResidentIdError::FutureBirthDate);
        }
        if origin == IdOrigin::Entered18 && !number.ends_with(check_char(&number[..17])) {
            return Err(ResidentIdError::CheckDigit);
        }
        Ok(Self { number, origin })
    }

    /// The 18-character number.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// Whether the number was converted from a 15-digit one.
    pub fn origin(&self) -> IdOrigin {
        self.origin
    }

    /// The 15-digit GB 11643-1989 number this one was converted from (the century `19` and
    /// the check character removed), or `None` for a number entered with 18 characters.
    pub fn original_15(&self) -> Option<String> {
        (self.origin == IdOrigin::DerivedFrom15)
            .then(|| format!("{}{}", &self.number[..6], &self.number[8..17]))
    }

    /// The six-digit address code of first issue (not necessarily current residence).
    pub fn area_code(&self) -> &str {
        &self.number[..6]
    }

    /// Birth date encoded in the number.
    pub fn birth_date(&self) -> NaiveDate {
        parse_date(&self.number[6..14]).expect("checked at parse")
    }

    /// Sex encoded by the 17th digit: odd male, even female.
    pub fn sex(&self) -> Sex {
        if (self.number.as_bytes()[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// The number with its middle hidden, for screens and logs: `990121********002X`.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.number[..6], &self.number[14..])
    }
}
