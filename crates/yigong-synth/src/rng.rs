//! Deterministic randomness: one ChaCha8 stream per part of the county, UUIDv7 keys drawn from
//! those streams, weighted choice and date arithmetic shared by the generators.

use chrono::{DateTime, Days, NaiveDate, Utc};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// The generator used everywhere: fast, portable and stable across platforms and rand releases.
pub(crate) type SynthRng = ChaCha8Rng;

/// Stream numbers. Each part of the county draws from its own stream, so that a change in how
/// staff are drawn does not move every village's residents, and each village can be generated
/// on its own.
pub(crate) mod stream {
    /// Townships, villages, names and populations.
    pub const GEOGRAPHY: u64 = 1;
    /// Institutions, credit codes, departments.
    pub const INSTITUTIONS: u64 = 2;
    /// Staff, titles and employment postings.
    pub const STAFF: u64 = 3;
    /// Dispatch postings.
    pub const DISPATCH: u64 = 4;
    /// The same-name, same-birth-date strangers planted among the residents.
    pub const DOUBLES: u64 = 5;
    /// How each registering facility's system exports (date and sex formats, local ids).
    pub const SOURCES: u64 = 6;
    /// Residents of village `i` use stream `VILLAGE_BASE + i`.
    pub const VILLAGE_BASE: u64 = 1 << 32;
    /// Registrations of the residents of village `i` use stream `REGISTRATION_BASE + i`.
    pub const REGISTRATION_BASE: u64 = 2 << 32;
    /// The clinical year of the residents of village `i` uses stream `CLINICAL_BASE + i`.
    pub const CLINICAL_BASE: u64 = 3 << 32;
}

/// The stream `stream` of the seed `seed`.
pub(crate) fn rng(seed: u64, stream: u64) -> SynthRng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// Time-ordered UUIDv7 keys without the clock: the timestamp starts at a fixed instant and
/// advances one millisecond per key, the random part comes from the caller's stream. Keys are
/// therefore unique, reproducible and insert in index order.
pub(crate) struct IdGen {
    next_ms: u64,
}

impl IdGen {
    /// Keys stamped from `start` on.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self { next_ms: u64::try_from(start.timestamp_millis()).unwrap_or(0) }
    }

    /// The next key.
    pub fn next(&mut self, rng: &mut impl RngCore) -> Uuid {
        let mut random = [0u8; 10];
        rng.fill_bytes(&mut random);
        let id = uuid::Builder::from_unix_timestamp_millis(self.next_ms, &random).into_uuid();
        self.next_ms += 1;
        id
    }
}

/// SplitMix64's finaliser: a stateless mix for values fixed per person (card numbers), which
/// must not depend on how many draws came before.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A fixed table of weighted choices, sampled by binary search over cumulative weights.
pub(crate) struct Weighted {
    cumulative: Vec<u32>,
}

impl Weighted {
    /// A table from the weights, in order; at least one weight must be positive.
    pub fn new(weights: impl IntoIterator<Item = u32>) -> Self {
        let mut total = 0;
        let cumulative: Vec<u32> = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        assert!(total > 0, "weights must not all be zero");
        Self { cumulative }
    }

    /// The index of one draw.
    pub fn sample(&self, rng: &mut impl Rng) -> usize {
        let total = *self.cumulative.last().expect("non-empty");
        let x = rng.random_range(0..total);
        self.cumulative.partition_point(|&c| c <= x)
    }
}

/// One index of `weights`, drawn once (for small tables used a few times).
pub(crate) fn pick_weighted(rng: &mut impl Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.random_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    unreachable!("x < total")
}

/// Splits `total` into parts proportional to `weights` that add up exactly (largest remainder;
/// ties go to the earlier index so the split is reproducible).
pub(crate) fn apportion(total: u32, weights: &[u32]) -> Vec<u32> {
    let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<u64> = weights.iter().map(|&w| u64::from(total) * u64::from(w)).collect();
    let mut parts: Vec<u32> = exact.iter().map(|&e| u32::try_from(e / sum).expect("≤ total")).collect();
    let mut left = total - parts.iter().sum::<u32>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(exact[i] % sum));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// A day `age_years` years (and a random part of a year) before `today`: a birth date giving
/// exactly that age in whole years on `today`.
pub(crate) fn birth_date_for_age(rng: &mut impl Rng, today: NaiveDate, age_years: u32) -> NaiveDate {
    let latest = today.checked_sub_months(chrono::Months::new(12 * age_years)).expect("in range");
    let earliest = today.checked_sub_months(chrono::Months::new(12 * (age_years + 1))).expect("in range");
    let span = (latest - earliest).num_days() - 1; // the day `earliest` would already be one year older
    latest - Days::new(rng.random_range(0..=span.max(0)) as u64)
}

/// `date` plus `days`.
pub(crate) fn plus_days(date: NaiveDate, days: u64) -> NaiveDate {
    date + Days::new(days)
}

/// A date `years` calendar years after `date` (29 February becomes 28 February).
pub(crate) fn plus_years(date: NaiveDate, years: u32) -> NaiveDate {
    date.checked_add_months(chrono::Months::new(12 * years)).expect("in range")
}
