//! Writes the structure tables of `yigong_fhir::definitions` from the official package.
//!
//!     cargo run -p yigong-fhir --example gen-definitions -- PACKAGE_DIR OUT_FILE
//!
//! `scripts/fhir-definitions` runs it on the package of `scripts/fhir-package`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [package_dir, out_file] = args.as_slice() else {
        eprintln!("usage: gen-definitions PACKAGE_DIR OUT_FILE");
        return ExitCode::from(2);
    };
    let text = match yigong_fhir::definitions::generate(package_dir) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("gen-definitions: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(out_file, &text) {
        eprintln!("gen-definitions: write {}: {e}", out_file.display());
        return ExitCode::FAILURE;
    }
    eprintln!("gen-definitions: wrote {} ({} bytes)", out_file.display(), text.len());
    ExitCode::SUCCESS
}
