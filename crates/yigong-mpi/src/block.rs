//! Blocking: candidate pairs from the union of the configured passes, deduplicated, without
//! ever comparing all pairs. A pass groups records by the values of its keys; a record with
//! several values (every pinyin reading, the entered and the ID-encoded birth date) joins
//! several blocks. A block over `max_block_size` records is split by one more key, and the split
//! is reported so the caller can log it (counts and key names only, never the values: they are
//! names, phone and ID numbers).

use std::collections::HashMap;

use crate::config::BlockingConfig;
use crate::record::{Field, Prepared};

yigong_domain::vocabulary! {
    /// A value records must share to be compared.
    BlockingKey {
        /// The 18-character resident ID.
        ResidentId = "resident_id",
        /// Birth date (entered and ID-encoded).
        BirthDate = "birth_date",
        /// Birth year (entered and ID-encoded).
        BirthYear = "birth_year",
        /// Sex (entered and ID-encoded).
        Sex = "sex",
        /// Every toneless pinyin variant of the name.
        NamePinyin = "name_pinyin",
        /// Every toneless pinyin variant of the surname.
        SurnamePinyin = "surname_pinyin",
        /// The mobile number.
        Mobile = "mobile",
        /// The village code.
        VillageCode = "village_code",
        /// The household number.
        HouseholdId = "household_id",
        /// The e-health card number.
        EHealthCard = "e_health_card",
        /// The insurance number.
        InsuranceNumber = "insurance_number",
        /// The Latin-script given name.
        GivenName = "given_name",
        /// The Latin-script family name.
        FamilyName = "family_name",
        /// Either name: the given name and the family name are both values, so a pass with it
        /// pairs records whose names were entered in swapped fields.
        EitherName = "either_name",
        /// The street address.
        Address = "address",
        /// The locality (suburb, town).
        Locality = "locality",
        /// The postal code.
        Postcode = "postcode",
        /// The region (state, province).
        Region = "region",
    }
}

/// Keys tried, in order, to split an oversized block: the first one the pass lacks is used.
const SPLIT_KEYS: &[BlockingKey] =
    &[BlockingKey::BirthYear, BlockingKey::Sex, BlockingKey::VillageCode, BlockingKey::BirthDate];

impl BlockingKey {
    /// The record's values for this key; empty when it has none.
    pub fn values(self, record: &Prepared) -> Vec<String> {
        let text = |field| record.text(field).map(str::to_owned).into_iter().collect();
        match self {
            Self::ResidentId => text(Field::ResidentId),
            Self::BirthDate => record.birth_dates().iter().map(|d| d.to_string()).collect(),
            Self::BirthYear => record.birth_years().iter().map(|y| y.to_string()).collect(),
            Self::Sex => record.sexes().iter().map(|s| s.as_str().to_owned()).collect(),
            Self::NamePinyin => record.name().map(|n| n.pinyin.clone()).unwrap_or_default(),
            Self::SurnamePinyin => record.name().map(|n| n.surname_pinyin.clone()).unwrap_or_default(),
            Self::Mobile => text(Field::Phone),
            Self::VillageCode => text(Field::VillageCode),
            Self::HouseholdId => text(Field::HouseholdId),
            Self::EHealthCard => text(Field::EHealthCard),
            Self::InsuranceNumber => text(Field::InsuranceNumber),
            Self::GivenName => text(Field::GivenName),
            Self::FamilyName => text(Field::FamilyName),
            Self::EitherName => {
                let mut out: Vec<String> =
                    [Field::GivenName, Field::FamilyName].into_iter().flat_map(text).collect();
                out.dedup();
                out
            }
            Self::Address => text(Field::Address),
            Self::Locality => text(Field::Locality),
            Self::Postcode => text(Field::Postcode),
            Self::Region => text(Field::Region),
        }
    }
}

impl BlockingKey {
    /// The compared fields whose values this key is made of: a pass on it finds pairs that
    /// agree on them whether or not they are one person.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Self::ResidentId => &[Field::ResidentId],
            Self::BirthDate | Self::BirthYear => &[Field::BirthDate],
            Self::Sex => &[Field::Sex],
            Self::NamePinyin | Self::SurnamePinyin => &[Field::Name],
            Self::Mobile => &[Field::Phone],
            Self::VillageCode => &[Field::VillageCode],
            Self::HouseholdId => &[Field::HouseholdId],
            Self::EHealthCard => &[Field::EHealthCard],
            Self::InsuranceNumber => &[Field::InsuranceNumber],
            Self::GivenName => &[Field::GivenName],
            Self::FamilyName => &[Field::FamilyName],
            Self::EitherName => &[Field::GivenName, Field::FamilyName],
            Self::Address => &[Field::Address],
            Self::Locality => &[Field::Locality],
            Self::Postcode => &[Field::Postcode],
            Self::Region => &[Field::Region],
        }
    }
}

/// The candidate pairs and what blocking did.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocking {
    /// Pairs of indexes into the records, `a < b`, sorted, each once.
    pub pairs: Vec<(u32, u32)>,
    /// Counts for the log.
    pub report: BlockReport,
}

/// Counts of a blocking run, safe to log (no values).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BlockReport {
    /// Records blocked.
    pub records: usize,
    /// One report per pass, in configuration order.
    pub passes: Vec<PassReport>,
    /// Distinct pairs over all passes.
    pub distinct_pairs: usize,
}

/// Counts of one pass.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PassReport {
    /// The pass's keys.
    pub keys: Vec<BlockingKey>,
    /// Records with a value for every key.
    pub records: usize,
    /// Blocks with at least two records.
    pub blocks: usize,
    /// Pairs produced (before removing those other passes also produced).
    pub pairs: usize,
    /// The largest block (before splitting).
    pub largest_block: usize,
    /// The blocks that were split.
    pub splits: Vec<SplitReport>,
}

/// One oversized block and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitReport {
    /// Records in the block.
    pub size: usize,
    /// The key it was split by; `None` when the pass already used every split key.
    pub split_by: Option<BlockingKey>,
    /// Sub-blocks with at least two records.
    pub sub_blocks: usize,
    /// The largest sub-block.
    pub largest_sub_block: usize,
    /// Records left unpaired: their sub-block was still oversized, they had no value for the
    /// split key, or no split key remained.
    pub skipped_records: usize,
}

/// Every value combination of `keys` for a record (the cartesian product), each value written
/// as its length in bytes, `:` and itself, so that no two combinations read the same.
fn key_values(keys: &[BlockingKey], record: &Prepared) -> Vec<String> {
    let mut out = vec![String::new()];
    for key in keys {
        let values = key.values(record);
        if values.is_empty() {
            return Vec::new();
        }
        out = out
            .iter()
            .flat_map(|prefix| values.iter().map(move |v| format!("{prefix}{}:{v}", v.len())))
            .collect();
    }
    out.sort();
    out.dedup();
    out
}

/// FNV-1a, 64 bits: stable across platforms, releases and runs, unlike std's `DefaultHasher`,
/// because the keys are stored.
pub(crate) fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes
        .into_iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// The record's blocking keys for a lookup index: for each pass, every combination of its
/// values for the pass's keys, hashed with the pass's position (FNV-1a 64 over the position,
/// then each value's length and bytes), sorted and deduplicated. Two records are a candidate
/// pair of some pass exactly when they share a key (barring a 64-bit collision), so a table of
/// (key, record) answers "who might this new registration be?" without a scan. Oversized
/// blocks are not split here: [`candidate_pairs`] splits them by population counts that a
/// single record cannot know, so a lookup should cap what one key returns.
///
/// The keys change when the passes are reordered or edited: rebuild the index then.
pub fn record_keys(config: &BlockingConfig, record: &Prepared) -> Vec<i64> {
    let mut out: Vec<i64> = (0..config.passes.len())
        .flat_map(|pass| pass_hashes(config, pass, record))
        // A bit-for-bit reinterpretation: databases have signed 64-bit integers.
        .map(|hash| hash as i64)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The hashed keys of one pass (number `pass` in `config`), sorted.
fn pass_hashes(config: &BlockingConfig, pass: usize, record: &Prepared) -> Vec<u64> {
    let position = (pass as u32).to_le_bytes();
    let mut out: Vec<u64> = key_values(&config.passes[pass], record)
        .into_iter()
        .map(|combination| fnv1a(position.into_iter().chain(combination.into_bytes())))
        .collect();
    out.sort_unstable();
    out
}

/// The record's hashed keys for each pass, in pass order: two records are paired by pass `k`
/// when their `k`th lists share a value.
pub(crate) fn pass_keys(config: &BlockingConfig, record: &Prepared) -> Vec<Vec<u64>> {
    (0..config.passes.len()).map(|pass| pass_hashes(config, pass, record)).collect()
}

/// Groups record indexes by key value; only groups of two or more are kept.
fn group(members: &[u32], keys: &[BlockingKey], records: &[Prepared]) -> Vec<Vec<u32>> {
    let mut blocks: HashMap<String, Vec<u32>> = HashMap::new();
    for &i in members {
        for value in key_values(keys, &records[i as usize]) {
            blocks.entry(value).or_default().push(i);
        }
    }
    let mut out: Vec<Vec<u32>> = blocks.into_values().filter(|b| b.len() > 1).collect();
    // HashMap order is random; sort for reproducible reports.
    out.sort();
    out
}

fn push_pairs(block: &[u32], pairs: &mut Vec<(u32, u32)>) -> usize {
    for (n, &a) in block.iter().enumerate() {
        for &b in &block[n + 1..] {
            pairs.push((a.min(b), a.max(b)));
        }
    }
    block.len() * (block.len() - 1) / 2
}

/// Runs every pass and returns the distinct candidate pairs with the report.
pub fn candidate_pairs(config: &BlockingConfig, records: &[Prepared]) -> Blocking {
    let all: Vec<u32> = (0..records.len() as u32).collect();
    let mut pairs = Vec::new();
    let mut report = BlockReport { records: records.len(), ..BlockReport::default() };
    for keys in &config.passes {
        let mut pass = PassReport { keys: keys.clone(), ..PassReport::default() };
        pass.records = all.iter().filter(|&&i| !key_values(keys, &records[i as usize]).is_empty()).count();
        for block in group(&all, keys, records) {
            pass.blocks += 1;
            pass.largest_block = pass.largest_block.max(block.len());
            if block.len() <= config.max_block_size {
                pass.pairs += push_pairs(&block, &mut pairs);
                continue;
            }
            let split_by = SPLIT_KEYS.iter().copied().find(|k| !keys.contains(k));
            let mut split = SplitReport {
                size: block.len(),
                split_by,
                sub_blocks: 0,
                largest_sub_block: 0,
                skipped_records: 0,
            };
            let Some(split_key) = split_by else {
                split.skipped_records = block.len();
                pass.splits.push(split);
                continue;
            };
            // Members share the block's value already: group them by the split key alone.
            split.skipped_records =
                block.iter().filter(|&&i| split_key.values(&records[i as usize]).is_empty()).count();
            for sub in group(&block, &[split_key], records) {
                split.sub_blocks += 1;
                split.largest_sub_block = split.largest_sub_block.max(sub.len());
                if sub.len() <= config.max_block_size {
                    pass.pairs += push_pairs(&sub, &mut pairs);
                } else {
                    split.skipped_records += sub.len();
                }
            }
            pass.splits.push(split);
        }
        report.passes.push(pass);
    }
    pairs.sort_unstable();
    pairs.dedup();
    report.distinct_pairs = pairs.len();
    Blocking { pairs, report }
}

#[cfg(test)]
mod tests;
