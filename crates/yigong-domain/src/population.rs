//! The county's population as the registry knows it: divisions with their populations,
//! households (户) and residents' health records (居民健康档案, WS 365).

use chrono::{DateTime, NaiveDate, Utc};

use crate::identity::{DivisionCode, ResidentId, Sex};
use crate::ids::{ConsortiumId, HealthRecordId, HouseholdId, InstitutionId};

/// A division of the reference table: GB/T 2260 (6 digits) or NBS statistical (12 digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    /// Code, 6 or 12 digits.
    pub code: String,
    /// `province`, `prefecture`, `county`, `township` or `village`.
    pub level: &'static str,
    /// Name, e.g. 青岚县, 东关镇, 上河村委会.
    pub name: String,
    /// Code of the enclosing division.
    pub parent_code: Option<String>,
    /// First day the code is valid.
    pub valid_from: NaiveDate,
    /// NBS urban-rural class (城乡分类代码, e.g. `220` = village), villages only.
    pub urban_rural_class: Option<String>,
    /// Resident population in the reference year, villages only.
    pub population: Option<i64>,
}

/// A household (户).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household {
    /// Key.
    pub id: HouseholdId,
    /// Tenant.
    pub consortium_id: ConsortiumId,
    /// Village.
    pub village_code: DivisionCode,
    /// Address below the village, e.g. 3组12号.
    pub address: String,
}

/// A resident's health record, kept by the managing grassroots institution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthRecord {
    /// Key.
    pub id: HealthRecordId,
    /// Tenant.
    pub consortium_id: ConsortiumId,
    /// 健康档案编号: the 12-digit village code and a 5-digit serial.
    pub record_no: String,
    /// Household, if recorded.
    pub household_id: Option<HouseholdId>,
    /// Relation to the household head, GB/T 4761 code (`02` head, `10` spouse, `20` son...).
    pub household_relation: Option<String>,
    /// Name as registered.
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Resident ID number, when the person has one (newborns may not).
    pub resident_id: Option<ResidentId>,
    /// Mobile number, 11 digits.
    pub phone: Option<String>,
    /// Village of residence.
    pub village_code: DivisionCode,
    /// Address below the village.
    pub address: String,
    /// Managing institution (village clinic or township centre).
    pub managing_institution_id: InstitutionId,
    /// Created.
    pub created_at: DateTime<Utc>,
}
