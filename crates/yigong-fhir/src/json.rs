//! JSON that keeps every number exactly as written.
//!
//! serde_json with `arbitrary_precision` keeps a number's digits (`1.0` stays `1.0`) but
//! rewrites its exponent (`1E-22` → `1e-22`). FHIR says a decimal is sent back as received, so
//! [`parse`] puts each number's original text back, read from the input in document order.

use serde_json::{Number, Value};

/// Why a body is not JSON this server accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not JSON.
    #[error("the body is not valid JSON: {message} (line {line}, column {column})")]
    Syntax {
        /// serde_json's message.
        message: String,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
    /// An object names the same property twice (FHIR JSON forbids it).
    #[error("the body names a property twice in one object")]
    DuplicateProperty,
}

/// Parses `text`, keeping numbers as written.
pub fn parse(text: &[u8]) -> Result<Value, JsonError> {
    let mut value: Value = serde_json::from_slice(text).map_err(|e| JsonError::Syntax {
        message: e.to_string().split(" at line").next().unwrap_or_default().to_owned(),
        line: e.line(),
        column: e.column(),
    })?;
    let numbers = number_tokens(text);
    let mut next = 0;
    if !restore(&mut value, &numbers, &mut next) || next != numbers.len() {
        // Fewer numbers in the tree than in the text: a later duplicate property replaced one.
        return Err(JsonError::DuplicateProperty);
    }
    Ok(value)
}

/// The number tokens of a JSON text, in order (the text is known to be valid JSON).
fn number_tokens(text: &[u8]) -> Vec<&str> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    if text[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < text.len() && matches!(text[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                out.push(std::str::from_utf8(&text[start..i]).unwrap_or_default());
            }
            _ => i += 1,
        }
    }
    out
}

fn restore(value: &mut Value, numbers: &[&str], next: &mut usize) -> bool {
    match value {
        Value::Number(n) => {
            let Some(original) = numbers.get(*next) else { return false };
            *next += 1;
            if n.to_string() != *original {
                // Same value, other spelling (only the exponent's form can differ).
                *n = Number::from_string_unchecked((*original).to_owned());
            }
            true
        }
        Value::Array(items) => items.iter_mut().all(|v| restore(v, numbers, next)),
        Value::Object(map) => map.values_mut().all(|v| restore(v, numbers, next)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_come_back_exactly_as_written() {
        let text = r#"{"a":1E-22,"b":[1.0,1.00,-0.0,1e5,1E+5,12345678901234567890123.5],"s":"1E5 \"2\"","c":{"d":0.10}}"#;
        let value = parse(text.as_bytes()).unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), text);
    }

    #[test]
    fn duplicate_properties_and_syntax_errors_are_refused() {
        assert_eq!(parse(br#"{"a":1,"a":2}"#), Err(JsonError::DuplicateProperty));
        let err = parse(b"{\"a\":\n  tru}").unwrap_err();
        assert!(matches!(err, JsonError::Syntax { line: 2, .. }), "{err:?}");
    }

    #[test]
    fn strings_that_look_like_numbers_are_not_numbers() {
        let value = parse(br#"{"x":"-12","y":[3,"4e5",5E0]}"#).unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), r#"{"x":"-12","y":[3,"4e5",5E0]}"#);
    }
}
