//! Administrative division codes: GB/T 2260 six-digit codes (province 2 + prefecture 2 +
//! county 2) and the NBS twelve-digit statistical codes (county 6 + township 3 + village 3).

use serde::{Deserialize, Serialize};

/// Why a division code is not acceptable. Each variant has a stable `code()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DivisionError {
    /// Not six (county) or twelve (statistical) ASCII digits, or a zero part where one is needed.
    #[error("a division code has 6 digits (GB/T 2260 county) or 12 digits (township/village)")]
    Malformed,
    /// A twelve-digit code outside the consortium's county.
    #[error("the division code is not in the consortium's county")]
    OutsideCounty,
}

impl DivisionError {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Malformed => "division_code_invalid",
            Self::OutsideCounty => "division_code_outside_county",
        }
    }
}

/// A GB/T 2260 county-level code: six digits, province part 11..=99, county part not `00`.
/// (Province `99` is not a real province; the synthetic county uses it on purpose.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountyCode(String);

impl CountyCode {
    /// Parses a six-digit county-level code.
    pub fn parse(raw: &str) -> Result<Self, DivisionError> {
        let s = raw.trim();
        let digits = s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits || &s[..2] < "11" || &s[2..4] == "00" || &s[4..6] == "00" {
            return Err(DivisionError::Malformed);
        }
        Ok(Self(s.to_owned()))
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code of its province (`99` → `990000`).
    pub fn province(&self) -> String {
        format!("{}0000", &self.0[..2])
    }

    /// The code of its prefecture (`990121` → `990100`).
    pub fn prefecture(&self) -> String {
        format!("{}00", &self.0[..4])
    }
}

impl TryFrom<String> for CountyCode {
    type Error = DivisionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CountyCode> for String {
    fn from(c: CountyCode) -> Self {
        c.0
    }
}

/// Level of a twelve-digit statistical code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    /// The county itself (`990121000000`).
    County,
    /// A township, town or sub-district (`990121101000`).
    Township,
    /// A village or residents' committee (`990121101201`).
    Village,
}

impl DivisionLevel {
    /// Identifier used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::County => "county",
            Self::Township => "township",
            Self::Village => "village",
        }
    }
}

/// An NBS twelve-digit statistical division code (统计用区划代码) inside a known county.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

impl DivisionCode {
    /// Parses a twelve-digit code; its first six digits must form a county code.
    pub fn parse(raw: &str) -> Result<Self, DivisionError> {
        let s = raw.trim();
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DivisionError::Malformed);
        }
        CountyCode::parse(&s[..6])?;
        // A village part without a township part names nothing.
        if &s[6..9] == "000" && &s[9..] != "000" {
            return Err(DivisionError::Malformed);
        }
        Ok(Self(s.to_owned()))
    }

    /// Parses and checks that the code lies in `county`.
    pub fn parse_in(raw: &str, county: &CountyCode) -> Result<Self, DivisionError> {
        let code = Self::parse(raw)?;
        if code.county() != county.as_str() {
            return Err(DivisionError::OutsideCounty);
        }
        Ok(code)
    }

    /// The twelve digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The six-digit county part.
    pub fn county(&self) -> &str {
        &self.0[..6]
    }

    /// The twelve-digit code of the township this code lies in (itself for a township), or
    /// `None` for the county level.
    pub fn township(&self) -> Option<String> {
        match self.level() {
            DivisionLevel::County => None,
            _ => Some(format!("{}000", &self.0[..9])),
        }
    }

    /// Whether this is the county, a township or a village.
    pub fn level(&self) -> DivisionLevel {
        if &self.0[6..] == "000000" {
            DivisionLevel::County
        } else if &self.0[9..] == "000" {
            DivisionLevel::Township
        } else {
            DivisionLevel::Village
        }
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = DivisionError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DivisionCode> for String {
    fn from(c: DivisionCode) -> Self {
        c.0
    }
}
