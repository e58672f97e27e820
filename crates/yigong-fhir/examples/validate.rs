//! Validates FHIR R4 JSON resources and prints their issues, one a line.
//!
//!     cargo run -p yigong-fhir --example validate -- FILE...
//!
//! Exits with 1 if any file has an error.

use std::process::ExitCode;

use yigong_fhir::validate::{Severity, validate};

fn main() -> ExitCode {
    let mut failed = false;
    for file in std::env::args().skip(1) {
        let resource = match std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string()))
        {
            Ok(resource) => resource,
            Err(e) => {
                eprintln!("{file}: {e}");
                failed = true;
                continue;
            }
        };
        for issue in validate(&resource) {
            failed |= issue.severity == Severity::Error;
            eprintln!("{file}: {issue}");
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
