//! Field-level validation errors shared by every create and update.

use std::collections::BTreeMap;

/// One wrong field: its name in the request and a stable snake_case code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Request field name, e.g. `division_code`.
    pub field: &'static str,
    /// Stable code, e.g. `division_code_invalid`.
    pub code: &'static str,
    /// English explanation for API clients; the UI translates the code instead.
    pub message: String,
}

/// A rejected input: every wrong field at once, so a form can mark them all.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", self.summary())]
pub struct Invalid {
    /// The wrong fields, in the order found.
    pub fields: Vec<FieldError>,
}

impl Invalid {
    /// Records one wrong field.
    pub fn push(&mut self, field: &'static str, code: &'static str, message: impl Into<String>) {
        self.fields.push(FieldError { field, code, message: message.into() });
    }

    /// A single-field error.
    pub fn one(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::default();
        e.push(field, code, message);
        e
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.fields.is_empty() { Ok(value) } else { Err(self) }
    }

    /// First error per field, keyed by field name.
    pub fn by_field(&self) -> BTreeMap<&'static str, &FieldError> {
        let mut map = BTreeMap::new();
        for f in &self.fields {
            map.entry(f.field).or_insert(f);
        }
        map
    }

    fn summary(&self) -> String {
        self.fields.iter().map(|f| format!("{}: {}", f.field, f.code)).collect::<Vec<_>>().join(", ")
    }
}

/// Checks a required free-text field: trimmed, non-empty, at most `max` characters.
pub fn text(errors: &mut Invalid, field: &'static str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(field, "required", format!("{field} is required"));
    } else if v.chars().count() > max {
        errors.push(field, "too_long", format!("{field} has at most {max} characters"));
    }
    v.to_owned()
}

/// Checks an optional free-text field; blank becomes `None`.
pub fn optional_text(
    errors: &mut Invalid,
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    if v.chars().count() > max {
        errors.push(field, "too_long", format!("{field} has at most {max} characters"));
    }
    Some(v.to_owned())
}
