//! Resident ID numbers (GB 11643) for staff and residents, unique per area, birth date and
//! sequence, built with the domain's check character and parsed back through `ResidentId`.

use std::collections::HashSet;
use std::fmt::Write;
use std::ops::Range;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use yigong_domain::identity::{ResidentId, Sex, check_char};

/// Address codes of first issue: the county itself and two fictitious neighbours (province 99
/// does not exist, so no number can be a real person's).
pub(crate) const AREAS: [&str; 3] = ["990121", "990122", "990102"];
/// Index of the county in [`AREAS`].
pub(crate) const HOME: usize = 0;

/// Sequence numbers (positions 15–17) handed to residents. Staff get the rest, 900–999, so
/// that a staff member never shares a number with a synthetic resident without needing one
/// set for both generators.
pub(crate) const RESIDENT_SEQUENCES: Range<u16> = 0..900;
/// Sequence numbers handed to staff.
pub(crate) const STAFF_SEQUENCES: Range<u16> = 900..1000;

/// Hands out numbers, remembering every (area, birth date, sequence) used.
pub(crate) struct IdNumbers {
    used: HashSet<u64>,
    today: NaiveDate,
}

impl IdNumbers {
    /// An empty register; `today` bounds the birth dates `ResidentId::parse` accepts.
    pub fn new(today: NaiveDate) -> Self {
        Self { used: HashSet::new(), today }
    }

    /// A new number for someone born on `birth` of `sex`, first issued in `AREAS[area]`, with a
    /// sequence from `sequences`. With `legacy_15` the number is recorded as an old 15-digit
    /// one (GB 11643-1989) and converted by `ResidentId::parse` (birth before 2000 only).
    pub fn issue(
        &mut self,
        rng: &mut impl Rng,
        area: usize,
        birth: NaiveDate,
        sex: Sex,
        sequences: Range<u16>,
        legacy_15: bool,
    ) -> ResidentId {
        // The 17th digit is odd for men and even for women.
        let parity = u16::from(sex == Sex::Male);
        let day = u64::try_from(birth.num_days_from_ce()).expect("birth after year 1");
        let mut attempts = 0;
        let sequence = loop {
            let s = rng.random_range(sequences.start / 2..sequences.end / 2) * 2 + parity;
            let key = (area as u64) << 40 | day << 10 | u64::from(s);
            if self.used.insert(key) {
                break s;
            }
            attempts += 1;
            assert!(attempts < 10_000, "no free sequence number left for one area and birth date");
        };
        let (y, m, d) = (birth.year(), birth.month(), birth.day());
        let mut number = String::with_capacity(18);
        number.push_str(AREAS[area]);
        let raw = if legacy_15 && (1900..2000).contains(&y) {
            write!(number, "{:02}{m:02}{d:02}{sequence:03}", y % 100).expect("write to string");
            number
        } else {
            write!(number, "{y:04}{m:02}{d:02}{sequence:03}").expect("write to string");
            let check = check_char(&number);
            number.push(check);
            number
        };
        ResidentId::parse(&raw, self.today).expect("synthetic numbers are valid by construction")
    }
}
