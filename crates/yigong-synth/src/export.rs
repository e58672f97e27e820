//! Registrations and their truth as CSV text, and the mapping `yigong mpi import` reads to know
//! which column holds which field. CSV follows RFC 4180: commas between fields, CRLF after each
//! record, a field quoted when it holds a comma, a quote or a line break, quotes doubled.
//!
//! One CSV per source, as one CSV is imported per source (`yigong mpi import --source T101
//! --mapping mapping.toml T101.csv`): [`csv_by_source`] gives each source's text keyed by
//! institution code. To stream 400 000 residents instead, write [`REGISTRATION_COLUMNS`] as a
//! header and then [`push_registration_row`] for each registration into its source's file. The
//! truth is one CSV for all sources, keyed by source and local id ([`truth_csv`],
//! [`push_truth_row`]).

use std::collections::BTreeMap;

use crate::{Registration, Truth};

/// Columns of a source's registration CSV, in order. The source is the file, not a column.
pub const REGISTRATION_COLUMNS: [&str; 12] = [
    "local_id",
    "name",
    "sex",
    "birth_date",
    "resident_id",
    "no_id_reason",
    "phone",
    "village_code",
    "household_id",
    "e_health_card",
    "insurance_number",
    "registered_at",
];

/// Columns of the truth CSV: the registration (`source`, `local_id`), its person (the resident's
/// health-record number), `duplicate` (`1` for a further registration of a person registered
/// elsewhere, else `0`), its mistakes (codes of `RegistrationError::as_str` joined by `;`) and the
/// person's hard negatives (codes of `HardNegative::as_str`, each followed by `:` and the other
/// person's key when there is one, joined by `;`).
pub const TRUTH_COLUMNS: [&str; 6] =
    ["source", "local_id", "person", "duplicate", "errors", "hard_negatives"];

/// Appends `value` as one CSV field, quoted if it holds a comma, a quote, CR or LF.
pub fn push_csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn push_row<'v>(out: &mut String, fields: impl IntoIterator<Item = &'v str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(out, field);
    }
    out.push_str("\r\n");
}

/// Appends one registration as a row of [`REGISTRATION_COLUMNS`]; a missing value is empty.
pub fn push_registration_row(out: &mut String, r: &Registration) {
    let optional = |v: &'_ Option<String>| v.as_deref().unwrap_or("").to_owned();
    let fields = [
        r.local_id.clone(),
        r.name.clone(),
        r.sex.clone(),
        r.birth_date.clone(),
        optional(&r.resident_id),
        optional(&r.no_id_reason),
        optional(&r.phone),
        optional(&r.village_code),
        optional(&r.household_id),
        optional(&r.e_health_card),
        optional(&r.insurance_number),
        r.registered_at.clone(),
    ];
    push_row(out, fields.iter().map(String::as_str));
}

/// Each source's registrations as CSV text with a header, keyed by institution code, rows in
/// the order given.
pub fn csv_by_source<'r>(
    registrations: impl IntoIterator<Item = &'r Registration>,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for r in registrations {
        let text = out.entry(r.source.clone()).or_insert_with(|| {
            let mut header = String::new();
            push_row(&mut header, REGISTRATION_COLUMNS);
            header
        });
        push_registration_row(text, r);
    }
    out
}

/// Appends the truth of one registration as a row of [`TRUTH_COLUMNS`].
pub fn push_truth_row(out: &mut String, r: &Registration, t: &Truth) {
    let errors: Vec<&str> = t.errors.iter().map(|e| e.as_str()).collect();
    let hard: Vec<String> = t
        .hard_negatives
        .iter()
        .map(|h| match h.other() {
            Some(other) => format!("{}:{other}", h.as_str()),
            None => h.as_str().to_owned(),
        })
        .collect();
    let duplicate = if t.duplicate { "1" } else { "0" };
    push_row(out, [r.source.as_str(), &r.local_id, &t.person, duplicate, &errors.join(";"), &hard.join(";")]);
}

/// The truth CSV with a header, rows in the order given.
pub fn truth_csv<'r>(rows: impl IntoIterator<Item = (&'r Registration, &'r Truth)>) -> String {
    let mut out = String::new();
    push_row(&mut out, TRUTH_COLUMNS);
    for (r, t) in rows {
        push_truth_row(&mut out, r, t);
    }
    out
}

/// The mapping of the registration CSVs for `yigong mpi import`: UTF-8, the local id column,
/// each index field from the column of the same name. `no_id_reason` and `registered_at` are
/// not matching fields.
pub fn mapping_toml() -> String {
    let mut out = String::from(
        "# Columns of the synthetic county's registration CSVs (yigong-synth).\n\
         encoding = \"utf-8\"\n\
         id_column = \"local_id\"\n\
         \n\
         [fields] # index field = column\n",
    );
    for column in REGISTRATION_COLUMNS {
        if !["local_id", "no_id_reason", "registered_at"].contains(&column) {
            out.push_str(&format!("{column} = \"{column}\"\n"));
        }
    }
    out
}
