//! A person's identifiers (DESIGN §3.2): kind, the system that issued the value, the value,
//! and whether it was read from a chip or QR code rather than typed. Each kind has its own
//! value rules; a value of [`Identifier`] has passed them.

use chrono::NaiveDate;

use super::text::{compact, half_width_trimmed, mask};
use super::{DivisionCode, DivisionLevel, ResidentId, ResidentIdError};

/// System of the resident ID number (GB 11643), for both the 18- and the 15-character form.
pub const RESIDENT_ID_SYSTEM: &str = "urn:oid:2.16.156.10011.1.3";

vocabulary! {
    /// Kind of a person identifier (DESIGN §3.2).
    IdentifierKind {
        /// 公民身份号码, 18 characters (a 15-digit number is converted).
        ResidentId = "resident_id",
        /// The 15-digit GB 11643-1989 number, kept beside its 18-character conversion.
        ResidentId15 = "resident_id_15",
        /// 电子健康卡 (resident e-health card).
        EHealthCard = "e_health_card",
        /// 医保 card or e-voucher number; the system names the insured region.
        Insurance = "insurance",
        /// A facility's record number (门诊号, 住院号, 病案号); see [`Identifier::mrn_system`].
        Mrn = "mrn",
        /// DICOM PatientID (0010,0020); the system is its IssuerOfPatientID (0010,0021).
        DicomPatientId = "dicom_patient_id",
        /// 健康档案编号: 12-digit village code and a 5-digit serial.
        HealthRecordNo = "health_record_no",
        /// 出生医学证明编号, for newborns without a resident ID.
        BirthCertificate = "birth_certificate",
        /// Passport number.
        Passport = "passport",
        /// Any other identifier; the system says which.
        Other = "other",
    }
}

impl IdentifierKind {
    /// The only system a kind allows, filled in when none is given.
    pub fn fixed_system(self) -> Option<&'static str> {
        match self {
            Self::ResidentId | Self::ResidentId15 => Some(RESIDENT_ID_SYSTEM),
            _ => None,
        }
    }

    /// Whether the value means nothing without a system: record numbers are per facility,
    /// DICOM patient IDs per issuer, and `other` must say what it is.
    pub fn requires_system(self) -> bool {
        matches!(self, Self::Mrn | Self::DicomPatientId | Self::Other)
    }
}

vocabulary! {
    /// Which of a facility's record numbers an `mrn` identifier is.
    MrnType {
        /// 门诊号
        Outpatient = "outpatient",
        /// 住院号
        Inpatient = "inpatient",
        /// 病案号
        MedicalRecord = "medical_record",
    }
}

/// Why an identifier is not acceptable. Each variant has a stable `code()`; messages never
/// contain the value, which may be personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// The value is blank.
    #[error("the identifier is empty")]
    Empty,
    /// The value is too short or too long for its kind.
    #[error("the identifier has {actual} characters where {min} to {max} are allowed")]
    Length {
        /// Fewest characters allowed.
        min: usize,
        /// Most characters allowed.
        max: usize,
        /// Characters given (after normalisation).
        actual: usize,
    },
    /// A character its kind does not allow.
    #[error("the identifier contains characters its kind does not allow")]
    Characters,
    /// A resident ID number that fails GB 11643; the code is the parser's.
    #[error("{0}")]
    ResidentId(ResidentIdError),
    /// A `resident_id_15` value that is not 15 digits.
    #[error("an old (GB 11643-1989) resident ID number has 15 digits")]
    ResidentId15Length,
    /// The first 12 digits of a health record number are not a village-level division code.
    #[error("a health record number starts with a 12-digit village code")]
    HealthRecordVillage,
    /// A birth certificate number that is not one letter and 9 digits.
    #[error("a birth certificate number is one letter and 9 digits")]
    BirthCertificateFormat,
    /// The kind needs a system and none was given.
    #[error("this kind of identifier needs a system (issuer)")]
    SystemRequired,
    /// The system has control characters or is too long (for DICOM: not a valid LO value).
    #[error("the identifier system is too long or contains characters that are not allowed")]
    SystemInvalid,
    /// A system other than the one the kind allows.
    #[error("this kind of identifier has a fixed system")]
    SystemNotAllowed,
    /// An `mrn` system that is not `facility/type` with a known type.
    #[error("a record number system is the facility code, '/', and outpatient, inpatient or medical_record")]
    MrnSystem,
}

impl IdentifierError {
    /// Stable snake_case code, used by the API and the UI catalogue.
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "identifier_empty",
            Self::Length { .. } => "identifier_length",
            Self::Characters => "identifier_invalid_characters",
            Self::ResidentId(e) => e.code(),
            Self::ResidentId15Length => "identifier_resident_id_15_length",
            Self::HealthRecordVillage => "identifier_health_record_village",
            Self::BirthCertificateFormat => "identifier_birth_certificate_format",
            Self::SystemRequired => "identifier_system_required",
            Self::SystemInvalid => "identifier_system_invalid",
            Self::SystemNotAllowed => "identifier_system_not_allowed",
            Self::MrnSystem => "identifier_mrn_system",
        }
    }
}

/// Longest system accepted for kinds without their own rule.
const SYSTEM_MAX: usize = 128;
/// DICOM LO (Long String) holds at most 64 characters.
const DICOM_LO_MAX: usize = 64;

/// A person identifier whose value passed its kind's rules. No `Display`; `Debug` masks the
/// value, which may be personal data.
///
/// Rules per kind (values are trimmed and full-width ASCII turned into ASCII first; kinds made
/// of letters and digits also drop spaces and dashes):
/// - `resident_id`: a valid GB 11643 number, stored with 18 characters (a 15-digit one is
///   converted; [`Identifier::for_resident_id`] also keeps the original). Malformed numbers are
///   not identifiers: registration keeps them through [`super::assess_resident_id`].
/// - `resident_id_15`: 15 digits with a real birth date.
/// - `e_health_card`, `insurance`: 6–64 ASCII letters and digits, upper-cased. No public
///   specification of the number's layout was found, so only the character set and length are
///   checked. The insurance system should name the insured region (参保地 code).
/// - `mrn`: 1–64 ASCII letters, digits, `-`, `_`, `.`; the system is `facility/type`, e.g.
///   `H01/outpatient` (see [`Identifier::mrn_system`]), because one facility keeps several
///   numbering series (门诊号, 住院号, 病案号) and the same digits mean different patients in each.
/// - `dicom_patient_id`: a DICOM LO value (1–64 characters, no backslash, no control
///   characters), only trimmed, since it must still equal the value in the images to query
///   the PACS. The system is the IssuerOfPatientID and is required: PatientIDs of different
///   PACS collide, so an unscoped one cannot be matched. When a file has no issuer, the DICOM
///   adapter uses one naming the sending node.
/// - `health_record_no`: 17 digits, a village-level 12-digit division code and a 5-digit serial.
/// - `birth_certificate`: one letter and 9 digits (the 出生医学证明 numbering since 1999); the
///   letter is upper-cased. First-edition numbers (1996–1999) without a letter are accepted too.
/// - `passport`: 5–20 ASCII letters and digits, upper-cased.
/// - `other`: 1–64 characters without control characters; a system is required.
///
/// Systems other than the rules above are optional, at most 128 characters, without control
/// characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Identifier {
    kind: IdentifierKind,
    system: String,
    value: String,
    verified: bool,
}

impl std::fmt::Debug for Identifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identifier")
            .field("kind", &self.kind.as_str())
            .field("system", &self.system)
            .field("value", &self.masked_value())
            .field("verified", &self.verified)
            .finish()
    }
}

impl Identifier {
    /// Checks and normalises `system` and `value` for `kind`. `verified` says the value was
    /// read from a chip or QR code. `today` bounds the birth date of resident ID numbers.
    pub fn new(
        kind: IdentifierKind,
        system: &str,
        value: &str,
        verified: bool,
        today: NaiveDate,
    ) -> Result<Self, IdentifierError> {
        let value = check_value(kind, value, today)?;
        let system = check_system(kind, system)?;
        Ok(Self { kind, system, value, verified })
    }

    /// The identifiers a valid resident ID gives: its 18-character form, and for a number
    /// converted from 15 digits the original as `resident_id_15` too (DESIGN §3.1 keeps both).
    pub fn for_resident_id(id: &ResidentId, verified: bool) -> Vec<Self> {
        let make = |kind, value: &str| Self {
            kind,
            system: RESIDENT_ID_SYSTEM.to_owned(),
            value: value.to_owned(),
            verified,
        };
        let mut out = vec![make(IdentifierKind::ResidentId, id.as_str())];
        if let Some(old) = id.original_15() {
            out.push(make(IdentifierKind::ResidentId15, &old));
        }
        out
    }

    /// The system of a facility's record number series: `H01/outpatient`. `facility` is the
    /// institution's code (机构编码), credit code or OID: 1–64 ASCII letters, digits, `.`, `_`,
    /// `:`, `-`.
    pub fn mrn_system(facility: &str, mrn_type: MrnType) -> String {
        format!("{}/{}", facility.trim(), mrn_type.as_str())
    }

    /// The kind.
    pub fn kind(&self) -> IdentifierKind {
        self.kind
    }

    /// The issuing system (empty when the kind does not need one and none was given).
    pub fn system(&self) -> &str {
        &self.system
    }

    /// The normalised value, for storage and matching.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether the value was read from a chip or QR code rather than typed.
    pub fn verified(&self) -> bool {
        self.verified
    }

    /// The value with its middle hidden, for screens and logs.
    pub fn masked_value(&self) -> String {
        mask(&self.value)
    }

    /// The record series of an `mrn` identifier.
    pub fn mrn_type(&self) -> Option<MrnType> {
        match self.kind {
            IdentifierKind::Mrn => self.system.rsplit_once('/').and_then(|(_, t)| MrnType::parse(t)),
            _ => None,
        }
    }
}

fn check_value(kind: IdentifierKind, raw: &str, today: NaiveDate) -> Result<String, IdentifierError> {
    use IdentifierKind as K;
    let value = match kind {
        K::Mrn | K::Other => half_width_trimmed(raw),
        K::DicomPatientId => raw.trim().to_owned(),
        _ => compact(raw).to_ascii_uppercase(),
    };
    if value.is_empty() {
        return Err(IdentifierError::Empty);
    }
    let length = |min: usize, max: usize| {
        let actual = value.chars().count();
        if (min..=max).contains(&actual) { Ok(()) } else { Err(IdentifierError::Length { min, max, actual }) }
    };
    let only = |allowed: fn(char) -> bool| {
        if value.chars().all(allowed) { Ok(()) } else { Err(IdentifierError::Characters) }
    };
    match kind {
        K::ResidentId => {
            return ResidentId::parse(&value, today)
                .map(|id| id.as_str().to_owned())
                .map_err(IdentifierError::ResidentId);
        }
        K::ResidentId15 => {
            only(|c| c.is_ascii_digit())?;
            if value.len() != 15 {
                return Err(IdentifierError::ResidentId15Length);
            }
            ResidentId::parse(&value, today).map_err(IdentifierError::ResidentId)?;
        }
        K::EHealthCard | K::Insurance => {
            only(|c| c.is_ascii_alphanumeric())?;
            length(6, 64)?;
        }
        K::Passport => {
            only(|c| c.is_ascii_alphanumeric())?;
            length(5, 20)?;
        }
        K::Mrn => {
            only(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))?;
            length(1, 64)?;
        }
        K::DicomPatientId => {
            only(is_lo_char)?;
            length(1, DICOM_LO_MAX)?;
        }
        K::HealthRecordNo => {
            only(|c| c.is_ascii_digit())?;
            length(17, 17)?;
            let village =
                DivisionCode::parse(&value[..12]).map_err(|_| IdentifierError::HealthRecordVillage)?;
            if village.level() != DivisionLevel::Village {
                return Err(IdentifierError::HealthRecordVillage);
            }
        }
        K::BirthCertificate => {
            only(|c| c.is_ascii_alphanumeric())?;
            let digits = value.strip_prefix(|c: char| c.is_ascii_uppercase()).unwrap_or(&value);
            if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(IdentifierError::BirthCertificateFormat);
            }
        }
        K::Other => {
            only(|c| !c.is_control())?;
            length(1, 64)?;
        }
    }
    Ok(value)
}

/// A character allowed in a DICOM LO value decoded to UTF-8: no backslash (the value
/// separator) and no control characters.
fn is_lo_char(c: char) -> bool {
    c != '\\' && !c.is_control()
}

fn check_system(kind: IdentifierKind, raw: &str) -> Result<String, IdentifierError> {
    if let Some(fixed) = kind.fixed_system() {
        let given = raw.trim();
        return if given.is_empty() || given == fixed {
            Ok(fixed.to_owned())
        } else {
            Err(IdentifierError::SystemNotAllowed)
        };
    }
    // The issuer is compared with the DICOM header, so it is only trimmed, like the value.
    let system =
        if kind == IdentifierKind::DicomPatientId { raw.trim().to_owned() } else { half_width_trimmed(raw) };
    if system.is_empty() {
        return if kind.requires_system() { Err(IdentifierError::SystemRequired) } else { Ok(system) };
    }
    match kind {
        IdentifierKind::Mrn => {
            let (facility, series) = system.split_once('/').ok_or(IdentifierError::MrnSystem)?;
            let facility_ok = (1..=64).contains(&facility.len())
                && facility.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
            if !facility_ok || MrnType::parse(series).is_none() {
                return Err(IdentifierError::MrnSystem);
            }
        }
        IdentifierKind::DicomPatientId => {
            if system.chars().count() > DICOM_LO_MAX || !system.chars().all(is_lo_char) {
                return Err(IdentifierError::SystemInvalid);
            }
        }
        _ => {
            if system.chars().count() > SYSTEM_MAX || system.chars().any(char::is_control) {
                return Err(IdentifierError::SystemInvalid);
            }
        }
    }
    Ok(system)
}
