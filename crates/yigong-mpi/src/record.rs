//! The record the engine compares: one facility registration (a *source patient*) with its
//! demographics as plain owned values, built from raw strings by [`crate::normalise`], and
//! [`Prepared`], the same record with the derived values the comparators and blocking need.

use chrono::{Datelike, NaiveDate};
use yigong_domain::identity::{DivisionCode, Sex};

use crate::name::NameKey;
use crate::normalise::{self, IdNumber};

yigong_domain::vocabulary! {
    /// A field of [`Record`] that a comparator can compare.
    Field {
        /// The person's name (characters, pinyin, surname).
        Name = "name",
        /// Sex as entered, else as encoded in a valid resident ID.
        Sex = "sex",
        /// Birth date as entered, else as encoded in a valid resident ID.
        BirthDate = "birth_date",
        /// The resident ID number (valid or not).
        ResidentId = "resident_id",
        /// The 11-digit mobile number.
        Phone = "phone",
        /// The 12-digit village code.
        VillageCode = "village_code",
        /// The household number.
        HouseholdId = "household_id",
        /// The e-health card number (电子健康卡).
        EHealthCard = "e_health_card",
        /// The medical insurance number (or another national number, such as FEBRL's
        /// social security number).
        InsuranceNumber = "insurance_number",
        /// Given (first) name in Latin script, for sources outside China.
        GivenName = "given_name",
        /// Family name (surname) in Latin script.
        FamilyName = "family_name",
        /// Street address: number, street, building, as one text.
        Address = "address",
        /// Locality: suburb, town or village name.
        Locality = "locality",
        /// Postal code.
        Postcode = "postcode",
        /// Region: state or province.
        Region = "region",
    }
}

/// Which system a record came from and its identifier there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SourceRef {
    /// The source system (a facility's HIS, the public-health system, the insurance import).
    pub system: String,
    /// The record's identifier in that system.
    pub local_id: String,
}

/// Demographics of one source patient, normalised. Every field may be missing. `Debug` shows
/// names and phone numbers: never log a record (the ID number alone is masked).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// Where the record came from.
    pub source: SourceRef,
    /// Name after [`normalise::name`].
    pub name: Option<String>,
    /// Entered sex (unknown and unspecified are `None`).
    pub sex: Option<Sex>,
    /// Entered birth date.
    pub birth_date: Option<NaiveDate>,
    /// Resident ID, valid or not.
    pub resident_id: Option<IdNumber>,
    /// 11-digit mobile number.
    pub phone: Option<String>,
    /// 12-digit village code.
    pub village_code: Option<DivisionCode>,
    /// Household number.
    pub household_id: Option<String>,
    /// E-health card number.
    pub e_health_card: Option<String>,
    /// Medical insurance number.
    pub insurance_number: Option<String>,
    /// Given name after [`normalise::text`].
    pub given_name: Option<String>,
    /// Family name after [`normalise::text`].
    pub family_name: Option<String>,
    /// Street address after [`normalise::text`].
    pub address: Option<String>,
    /// Locality after [`normalise::text`].
    pub locality: Option<String>,
    /// Postal code after [`normalise::text`].
    pub postcode: Option<String>,
    /// Region after [`normalise::text`].
    pub region: Option<String>,
}

/// A record as it arrives: strings in whatever form the source system keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawRecord {
    /// Where the record came from.
    pub source: SourceRef,
    /// Name.
    pub name: Option<String>,
    /// Sex: 男/女, 1/2, M/F, male/female.
    pub sex: Option<String>,
    /// Birth date in one of the forms [`normalise::birth_date`] reads.
    pub birth_date: Option<String>,
    /// Resident ID, 18 or 15 characters.
    pub resident_id: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Village code.
    pub village_code: Option<String>,
    /// Household number.
    pub household_id: Option<String>,
    /// E-health card number.
    pub e_health_card: Option<String>,
    /// Medical insurance number.
    pub insurance_number: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Locality (suburb, town).
    pub locality: Option<String>,
    /// Postal code.
    pub postcode: Option<String>,
    /// Region (state, province).
    pub region: Option<String>,
}

impl RawRecord {
    /// The slot of a field, for importers that map columns to fields by name
    /// ([`Field::parse`] on `given_name`, `birth_date`, …).
    pub fn field_mut(&mut self, field: Field) -> &mut Option<String> {
        match field {
            Field::Name => &mut self.name,
            Field::Sex => &mut self.sex,
            Field::BirthDate => &mut self.birth_date,
            Field::ResidentId => &mut self.resident_id,
            Field::Phone => &mut self.phone,
            Field::VillageCode => &mut self.village_code,
            Field::HouseholdId => &mut self.household_id,
            Field::EHealthCard => &mut self.e_health_card,
            Field::InsuranceNumber => &mut self.insurance_number,
            Field::GivenName => &mut self.given_name,
            Field::FamilyName => &mut self.family_name,
            Field::Address => &mut self.address,
            Field::Locality => &mut self.locality,
            Field::Postcode => &mut self.postcode,
            Field::Region => &mut self.region,
        }
    }
}

impl Record {
    /// Normalises a raw record. `today` bounds resident-ID birth dates (no clock is read here).
    pub fn from_raw(raw: &RawRecord, today: NaiveDate) -> Self {
        fn text(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        Self {
            source: raw.source.clone(),
            name: text(&raw.name).and_then(normalise::name),
            sex: text(&raw.sex).and_then(normalise::sex),
            birth_date: text(&raw.birth_date).and_then(normalise::birth_date),
            resident_id: text(&raw.resident_id).and_then(|s| normalise::resident_id(s, today)),
            phone: text(&raw.phone).and_then(normalise::mobile),
            village_code: text(&raw.village_code).and_then(normalise::village_code),
            household_id: text(&raw.household_id).and_then(normalise::identifier),
            e_health_card: text(&raw.e_health_card).and_then(normalise::identifier),
            insurance_number: text(&raw.insurance_number).and_then(normalise::identifier),
            given_name: text(&raw.given_name).and_then(normalise::text),
            family_name: text(&raw.family_name).and_then(normalise::text),
            address: text(&raw.address).and_then(normalise::text),
            locality: text(&raw.locality).and_then(normalise::text),
            postcode: text(&raw.postcode).and_then(normalise::text),
            region: text(&raw.region).and_then(normalise::text),
        }
    }
}

/// A record with what comparison and blocking derive from it, computed once per record.
#[derive(Debug, Clone)]
pub struct Prepared {
    name: Option<NameKey>,
    sex: Option<Sex>,
    birth_date: Option<NaiveDate>,
    resident_id: Option<IdNumber>,
    id_sex: Option<Sex>,
    id_birth_date: Option<NaiveDate>,
    household_id: Option<String>,
    texts: Vec<Option<String>>,
}

impl Prepared {
    /// Derives pinyin, surname, ID-encoded sex and birth date, and the text of every field.
    pub fn new(record: &Record) -> Self {
        let valid = record.resident_id.as_ref().and_then(IdNumber::valid);
        let id_sex = valid.map(|id| id.sex());
        let id_birth_date = valid.map(|id| id.birth_date());
        // Entered values win; the ID fills gaps (a conflict is a quality flag elsewhere).
        let sex = record.sex.or(id_sex);
        let birth_date = record.birth_date.or(id_birth_date);
        let texts = Field::ALL
            .iter()
            .map(|field| match field {
                Field::Name => record.name.clone(),
                Field::Sex => sex.map(|s| s.as_str().to_owned()),
                Field::BirthDate => birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
                Field::ResidentId => record.resident_id.as_ref().map(|id| id.as_str().to_owned()),
                Field::Phone => record.phone.clone(),
                Field::VillageCode => record.village_code.as_ref().map(|v| v.as_str().to_owned()),
                Field::HouseholdId => record.household_id.clone(),
                Field::EHealthCard => record.e_health_card.clone(),
                Field::InsuranceNumber => record.insurance_number.clone(),
                Field::GivenName => record.given_name.clone(),
                Field::FamilyName => record.family_name.clone(),
                Field::Address => record.address.clone(),
                Field::Locality => record.locality.clone(),
                Field::Postcode => record.postcode.clone(),
                Field::Region => record.region.clone(),
            })
            .collect();
        Self {
            name: record.name.as_deref().map(NameKey::new),
            sex,
            birth_date,
            resident_id: record.resident_id.clone(),
            id_sex,
            id_birth_date,
            household_id: record.household_id.clone(),
            texts,
        }
    }

    /// The text form of a field: name characters, `male`, `2001-02-03`, the 18-character ID.
    pub fn text(&self, field: Field) -> Option<&str> {
        let index = Field::ALL.iter().position(|f| *f == field).expect("every field has a slot");
        self.texts[index].as_deref()
    }

    /// The prepared name.
    pub fn name(&self) -> Option<&NameKey> {
        self.name.as_ref()
    }

    /// Sex as entered, else from a valid ID.
    pub fn sex(&self) -> Option<Sex> {
        self.sex
    }

    /// Birth date as entered, else from a valid ID.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        self.birth_date
    }

    /// The resident ID, valid or not.
    pub fn resident_id(&self) -> Option<&IdNumber> {
        self.resident_id.as_ref()
    }

    /// Sex encoded in a valid resident ID.
    pub fn id_sex(&self) -> Option<Sex> {
        self.id_sex
    }

    /// The household number.
    pub fn household_id(&self) -> Option<&str> {
        self.household_id.as_deref()
    }

    /// Every birth date the record states: entered and ID-encoded, without repeats.
    pub fn birth_dates(&self) -> Vec<NaiveDate> {
        let mut out: Vec<NaiveDate> = self.birth_date.into_iter().chain(self.id_birth_date).collect();
        out.dedup();
        out
    }

    /// Every birth year the record states.
    pub fn birth_years(&self) -> Vec<i32> {
        let mut out: Vec<i32> = self.birth_dates().iter().map(|d| d.year()).collect();
        out.dedup();
        out
    }

    /// Every sex the record states: entered and ID-encoded, without repeats.
    pub fn sexes(&self) -> Vec<Sex> {
        let mut out: Vec<Sex> = self.sex.into_iter().chain(self.id_sex).collect();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests;
