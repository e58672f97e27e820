//! Regenerates the search parameter table from the official FHIR R4 package:
//!
//! ```text
//! cargo run -p yigong-fhir --example gen-search -- PACKAGE_DIR crates/yigong-fhir/src/search/r4.json
//! ```
//!
//! PACKAGE_DIR is the unpacked `package` directory that `scripts/fhir-package` prints.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [package_dir, out] = args.as_slice() else {
        eprintln!("usage: gen-search PACKAGE_DIR OUT");
        return ExitCode::from(2);
    };
    let table = match yigong_fhir::search::generate(&PathBuf::from(package_dir)) {
        Ok(table) => table,
        Err(e) => {
            eprintln!("gen-search: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(out, table) {
        eprintln!("gen-search: write {out}: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!("gen-search: wrote {out}");
    ExitCode::SUCCESS
}
