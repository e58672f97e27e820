//! Mainland China phone numbers: mobiles (`1[3-9]` and nine digits) and landlines with their
//! area code (`0591-8765432`, `010-62345678`), optionally with an extension.

/// Why a string is not a phone number. Each variant has a stable `code()`; messages never
/// contain the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing but spaces and separators.
    #[error("the phone number is empty")]
    Empty,
    /// Something other than digits, spaces, dashes, brackets, a leading `+` and an extension.
    #[error("a phone number has only digits, with spaces, dashes or brackets between groups")]
    InvalidCharacters,
    /// Eleven digits starting with `1` but not `1[3-9]`.
    #[error("a mobile number starts with 13 to 19")]
    InvalidMobile,
    /// Too few or too many digits for a mobile (11) or a landline (10 to 12 with the area code).
    #[error("a mobile number has 11 digits; a landline has 10 to 12 digits with its area code")]
    InvalidLength,
    /// Seven or eight digits without the area code.
    #[error("a landline number needs its area code, e.g. 0591-8765432")]
    MissingAreaCode,
    /// An area code that cannot exist (`00…`, `01…` other than `010`).
    #[error("the area code of the landline number does not exist")]
    InvalidAreaCode,
    /// A local number starting with `0` or `1`.
    #[error("a landline number after the area code starts with 2 to 9")]
    InvalidLandline,
    /// An extension that is not 1 to 6 digits, or one on a mobile number.
    #[error("an extension has 1 to 6 digits and follows a landline number")]
    InvalidExtension,
}

impl PhoneError {
    /// Stable snake_case code, used by the API and the UI catalogue.
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "phone_empty",
            Self::InvalidCharacters => "phone_invalid_characters",
            Self::InvalidMobile => "phone_invalid_mobile",
            Self::InvalidLength => "phone_invalid_length",
            Self::MissingAreaCode => "phone_missing_area_code",
            Self::InvalidAreaCode => "phone_invalid_area_code",
            Self::InvalidLandline => "phone_invalid_landline",
            Self::InvalidExtension => "phone_invalid_extension",
        }
    }
}

vocabulary! {
    /// Mobile or fixed line.
    PhoneKind {
        /// 手机
        Mobile = "mobile",
        /// 固定电话
        Landline = "landline",
    }
}

/// A mainland phone number in canonical form: 11 digits for a mobile, `area-number` for a
/// landline (`0591-8765432`), with `-extension` when there is one. No `Display`: phone numbers
/// are personal data and stay out of logs; `Debug` masks.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    canonical: String,
    kind: PhoneKind,
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// `0086`/`+86` (and a bare `86` before a mobile) removed; after an international prefix the
/// trunk `0` of a landline is put back (`+86 591 8765432` → `05918765432`, `+86 10 …` → `010…`).
fn national(digits: &str) -> String {
    let international = digits.strip_prefix("+86").or_else(|| digits.strip_prefix("0086"));
    if let Some(rest) = international {
        // Mobiles start with 1[3-9]; Beijing's area code 10 also starts with 1.
        let trunk_kept = rest.starts_with('0') || (rest.starts_with('1') && !rest.starts_with("10"));
        return if trunk_kept { rest.to_owned() } else { format!("0{rest}") };
    }
    match digits.strip_prefix("86") {
        Some(rest) if rest.len() == 11 && rest.starts_with('1') => rest.to_owned(),
        _ => digits.to_owned(),
    }
}

/// Classifies a number of digits only (the `+` of an international prefix aside).
fn classify(number: &str) -> Result<Phone, PhoneError> {
    let mut number = national(number);
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PhoneError::InvalidCharacters);
    }
    // A mobile dialled long-distance the old way, with a trunk 0: 013812345678.
    if number.len() == 12 && number.starts_with("01") && (b'3'..=b'9').contains(&number.as_bytes()[2]) {
        number.remove(0);
    }
    let bytes = number.as_bytes();
    match bytes.first() {
        None => Err(PhoneError::Empty),
        Some(b'1') if number.len() != 11 => Err(PhoneError::InvalidLength),
        Some(b'1') if !(b'3'..=b'9').contains(&bytes[1]) => Err(PhoneError::InvalidMobile),
        Some(b'1') => Ok(Phone { canonical: number, kind: PhoneKind::Mobile }),
        Some(b'0') => {
            // 010 and 02x have two digits after the trunk 0; every other area has three.
            let area_len = match bytes.get(1) {
                Some(b'1') if bytes.get(2) == Some(&b'0') => 3,
                Some(b'2') => 3,
                Some(b'3'..=b'9') => 4,
                Some(_) => return Err(PhoneError::InvalidAreaCode),
                None => return Err(PhoneError::InvalidLength),
            };
            let local = &number[area_len.min(number.len())..];
            if !(7..=8).contains(&local.len()) {
                return Err(PhoneError::InvalidLength);
            }
            if local.starts_with(['0', '1']) {
                return Err(PhoneError::InvalidLandline);
            }
            Ok(Phone { canonical: format!("{}-{local}", &number[..area_len]), kind: PhoneKind::Landline })
        }
        Some(_) if (7..=8).contains(&number.len()) => Err(PhoneError::MissingAreaCode),
        Some(_) => Err(PhoneError::InvalidLength),
    }
}

fn check_extension(extension: &str) -> Result<(), PhoneError> {
    if (1..=6).contains(&extension.len()) && extension.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PhoneError::InvalidExtension)
    }
}

impl Phone {
    /// Parses a mainland mobile or landline number. Full-width characters become ASCII; spaces,
    /// dashes and brackets between groups are dropped; `+86`, `0086` or `86` in front is
    /// removed. A landline may end with an extension: `转123`, or a last dash group after a
    /// complete landline (`010-62345678-123`). Local numbers start with 2 to 9, so test data
    /// such as `010-12345678` is refused (`phone_invalid_landline`).
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let text: String = raw.chars().map(super::text::half_width).collect();
        let (main, extension) = match text.split_once('转') {
            Some((main, extension)) => (main, Some(extension.trim())),
            None => (text.as_str(), None),
        };
        // Groups between dashes; spaces and brackets only separate digits within them.
        let groups: Vec<String> = main
            .split(super::text::is_dash)
            .map(|g| g.chars().filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')')).collect())
            .filter(|g: &String| !g.is_empty())
            .collect();
        if groups.is_empty() {
            return if extension.is_some() {
                Err(PhoneError::InvalidExtension)
            } else {
                Err(PhoneError::Empty)
            };
        }
        let allowed = |g: &String| g.bytes().all(|b| b.is_ascii_digit());
        let plus_first = groups[0].strip_prefix('+').is_some_and(|g| g.bytes().all(|b| b.is_ascii_digit()));
        if !(plus_first || allowed(&groups[0])) || !groups[1..].iter().all(allowed) {
            return Err(PhoneError::InvalidCharacters);
        }
        // `010-62345678-123`: a last dash group after a complete landline is its extension.
        // Preferred over reading the digits as one number, so that `as_str` parses back.
        if let Some((last, rest)) = groups.split_last()
            && !rest.is_empty()
            && extension.is_none()
            && let Ok(phone) = classify(&rest.concat())
            && phone.kind == PhoneKind::Landline
        {
            return phone.with_extension(last);
        }
        let phone = classify(&groups.concat())?;
        match extension {
            Some(extension) => phone.with_extension(extension),
            None => Ok(phone),
        }
    }

    fn with_extension(mut self, extension: &str) -> Result<Self, PhoneError> {
        check_extension(extension)?;
        if self.kind == PhoneKind::Mobile {
            return Err(PhoneError::InvalidExtension);
        }
        self.canonical = format!("{}-{extension}", self.canonical);
        Ok(self)
    }

    /// Mobile or landline.
    pub fn kind(&self) -> PhoneKind {
        self.kind
    }

    /// The canonical form: `13812345678`, `0591-8765432`, `010-62345678-123` (extension last).
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The area code of a landline with its trunk `0` (`0591`).
    pub fn area_code(&self) -> Option<&str> {
        match self.kind {
            PhoneKind::Mobile => None,
            PhoneKind::Landline => self.canonical.split('-').next(),
        }
    }

    /// The extension of a landline.
    pub fn extension(&self) -> Option<&str> {
        match self.kind {
            PhoneKind::Mobile => None,
            PhoneKind::Landline => self.canonical.splitn(3, '-').nth(2),
        }
    }

    /// The number with its middle hidden, for screens and logs: `138****5678`, `0591-***5432`
    /// (an extension is left out).
    pub fn masked(&self) -> String {
        match self.kind {
            PhoneKind::Mobile => format!("{}****{}", &self.canonical[..3], &self.canonical[7..]),
            PhoneKind::Landline => {
                let mut parts = self.canonical.split('-');
                let area = parts.next().unwrap_or_default();
                let local = parts.next().unwrap_or_default();
                let shown = local.len().saturating_sub(4);
                format!("{area}-{}{}", "*".repeat(shown), &local[shown..])
            }
        }
    }
}
