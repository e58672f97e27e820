//! Reading a facility's patient list: a CSV file (UTF-8 or GB18030) and a mapping of its columns
//! to MPI fields. The whole file is checked before anything is loaded: a wrong encoding, a
//! missing mapped column or a broken row stops with the line number and loads nothing. Rows that
//! are readable but unusable (no local id, a repeated id, nothing to match on) are rejected one
//! by one with their reason.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use yigong_mpi::Field;
use yigong_store::mpi::Values;

use super::ImportRow;

/// The text encodings a patient list may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Encoding {
    /// UTF-8 (a byte-order mark is skipped).
    #[default]
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// GB 18030 (a superset of GBK and GB 2312), common in Chinese hospital systems.
    #[serde(rename = "gb18030", alias = "gbk")]
    Gb18030,
}

/// One MPI field's source: a column, or columns joined with one space.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    /// One column.
    One(String),
    /// Several, joined.
    Many(Vec<String>),
}

impl Columns {
    fn names(&self) -> Vec<&str> {
        match self {
            Self::One(c) => vec![c.as_str()],
            Self::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

/// A mapping: which column holds the local id and which columns feed which MPI field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Text encoding of the file.
    #[serde(default)]
    pub encoding: Encoding,
    /// Field delimiter (default `,`).
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Column with the source's patient id.
    #[serde(default)]
    pub id_column: Option<String>,
    /// MPI field name → column(s).
    pub fields: BTreeMap<String, Columns>,
}

/// Why a file (or its mapping) was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct FileError {
    /// Line of the file (1 = header); 0 for the mapping itself.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

fn refuse<T>(line: u64, message: impl Into<String>) -> Result<T, FileError> {
    Err(FileError { line, message: message.into() })
}

impl Mapping {
    /// Parses and checks a mapping (TOML).
    pub fn parse(text: &str) -> Result<Self, FileError> {
        let mapping: Self =
            toml::from_str(text).map_err(|e| FileError { line: 0, message: e.to_string() })?;
        for (field, columns) in &mapping.fields {
            if Field::parse(field).is_none() {
                let known: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
                return refuse(0, format!("unknown MPI field `{field}` (known: {})", known.join(", ")));
            }
            if columns.names().is_empty() {
                return refuse(0, format!("field `{field}` names no column"));
            }
        }
        if mapping.fields.is_empty() {
            return refuse(0, "the mapping maps no field");
        }
        if mapping.delimiter.is_some_and(|d| !d.is_ascii()) {
            return refuse(0, "the delimiter must be one ASCII character");
        }
        Ok(mapping)
    }
}

/// A row left out, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Line in the file (1 = header).
    pub line: u64,
    /// Local id, if there was one.
    pub local_id: String,
    /// Why.
    pub reason: String,
}

/// Decodes the file, naming the line of the first undecodable byte.
fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, FileError> {
    match encoding {
        Encoding::Utf8 => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            match std::str::from_utf8(bytes) {
                Ok(s) => Ok(s.to_owned()),
                Err(e) => refuse(
                    bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() as u64 + 1,
                    "not UTF-8 text (is the file GB18030? set encoding = \"gb18030\" in the mapping)",
                ),
            }
        }
        Encoding::Gb18030 => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                let line = text.lines().position(|l| l.contains('\u{FFFD}')).map_or(0, |i| i + 1);
                return refuse(line as u64, "not GB18030 text");
            }
            Ok(text.into_owned())
        }
    }
}

/// Reads a patient list: every row checked before anything is loaded.
pub fn read_csv(
    bytes: &[u8],
    mapping: &Mapping,
    id_column: Option<&str>,
) -> Result<(Vec<ImportRow>, Vec<Rejected>), FileError> {
    let text = decode(bytes, mapping.encoding)?;
    let Some(id_column) = id_column.or(mapping.id_column.as_deref()) else {
        return refuse(0, "no id column: give id_column in the mapping (or --id-column)");
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(mapping.delimiter.map_or(b',', |d| d as u8))
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => return refuse(1, format!("unreadable header: {e}")),
    };
    let position = |name: &str| header.iter().position(|h| h == name);
    let mut missing: Vec<&str> = Vec::new();
    let id_index = position(id_column);
    if id_index.is_none() {
        missing.push(id_column);
    }
    let mut fields: Vec<(Field, Vec<usize>)> = Vec::new();
    for (name, columns) in &mapping.fields {
        let field = Field::parse(name).expect("checked when the mapping was parsed");
        let mut indexes = Vec::new();
        for column in columns.names() {
            match position(column) {
                Some(i) => indexes.push(i),
                None => missing.push(column),
            }
        }
        fields.push((field, indexes));
    }
    let Some(id_index) = id_index.filter(|_| missing.is_empty()) else {
        return refuse(
            1,
            format!(
                "mapped columns missing from the header: {} (the header has: {})",
                missing.join(", "),
                header.join(", ")
            ),
        );
    };
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let what = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!(
                            "{len} fields where the header has {expected_len} (broken quoting or delimiter?)"
                        )
                    }
                    _ => e.to_string(),
                };
                return refuse(line, what);
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let local_id = record.get(id_index).unwrap_or_default().to_owned();
        let reject = |reason: &str| Rejected { line, local_id: local_id.clone(), reason: reason.to_owned() };
        if local_id.is_empty() {
            rejected.push(reject("no local id"));
            continue;
        }
        if let Some(first) = seen.get(&local_id) {
            rejected.push(reject(&format!("local id repeated (first on line {first})")));
            continue;
        }
        let mut raw = yigong_mpi::RawRecord::default();
        for (field, indexes) in &fields {
            let parts: Vec<&str> =
                indexes.iter().filter_map(|&i| record.get(i)).filter(|v| !v.is_empty()).collect();
            if !parts.is_empty() {
                *raw.field_mut(*field) = Some(parts.join(" "));
            }
        }
        let values = values_of(raw);
        let has_name = values.name.is_some() || values.given_name.is_some() || values.family_name.is_some();
        let has_identifier = values.resident_id.is_some()
            || values.e_health_card.is_some()
            || values.insurance_number.is_some()
            || values.phone.is_some();
        if !has_name && !has_identifier {
            rejected.push(reject("neither a name nor an identifier to match on"));
            continue;
        }
        seen.insert(local_id.clone(), line);
        rows.push(ImportRow { line, local_id, values });
    }
    Ok((rows, rejected))
}

fn values_of(raw: yigong_mpi::RawRecord) -> Values {
    Values {
        name: raw.name,
        sex: raw.sex,
        birth_date: raw.birth_date,
        resident_id: raw.resident_id,
        resident_id_status: None,
        no_id_reason: None,
        phone: raw.phone,
        village_code: raw.village_code,
        household_id: raw.household_id,
        e_health_card: raw.e_health_card,
        insurance_number: raw.insurance_number,
        given_name: raw.given_name,
        family_name: raw.family_name,
        address: raw.address,
        locality: raw.locality,
        postcode: raw.postcode,
        region: raw.region,
    }
}
