//! Sex as coded by GB/T 2261.1-2003.

use serde::{Deserialize, Serialize};

/// Sex, GB/T 2261.1 (OID 2.16.156.10011.2.3.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 0 未知的性别
    Unknown,
    /// 1 男
    Male,
    /// 2 女
    Female,
    /// 9 未说明的性别
    Unspecified,
}

impl Sex {
    /// The GB/T 2261.1 code.
    pub fn gb_code(self) -> &'static str {
        match self {
            Self::Unknown => "0",
            Self::Male => "1",
            Self::Female => "2",
            Self::Unspecified => "9",
        }
    }

    /// Identifier used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Male => "male",
            Self::Female => "female",
            Self::Unspecified => "unspecified",
        }
    }

    /// Parses the identifier of [`Sex::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Unknown, Self::Male, Self::Female, Self::Unspecified].into_iter().find(|x| x.as_str() == s)
    }
}
