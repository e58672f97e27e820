//! Test helpers: records written as `key=value` strings, the way a test reads best.

use chrono::NaiveDate;

use crate::record::{Prepared, RawRecord, Record};

/// The reference day of the tests.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// A prepared record from `"name=张伟 sex=男 birth=1980-01-02 id=… phone=… village=… household=…
/// card=… insurance=… given=… family=… address=… locality=… postcode=… region=…"`; values
/// contain no spaces (write `_` for one).
pub fn record(spec: &str) -> Prepared {
    let mut raw = RawRecord::default();
    for part in spec.split_whitespace() {
        let (key, value) = part.split_once('=').unwrap_or_else(|| panic!("bad part {part:?}"));
        let value = Some(value.replace('_', " "));
        match key {
            "name" => raw.name = value,
            "sex" => raw.sex = value,
            "birth" => raw.birth_date = value,
            "id" => raw.resident_id = value,
            "phone" => raw.phone = value,
            "village" => raw.village_code = value,
            "household" => raw.household_id = value,
            "card" => raw.e_health_card = value,
            "insurance" => raw.insurance_number = value,
            "given" => raw.given_name = value,
            "family" => raw.family_name = value,
            "address" => raw.address = value,
            "locality" => raw.locality = value,
            "postcode" => raw.postcode = value,
            "region" => raw.region = value,
            other => panic!("unknown key {other}"),
        }
    }
    Prepared::new(&Record::from_raw(&raw, today()))
}
