//! HL7 FHIR R4 (4.0.1) as yigong speaks it: the structure definitions of the specification
//! (generated from the official package, never hand-written), structural validation, search
//! parameters and their extraction, and the pure parts of Bundle processing.
//!
//! No I/O: resources are `serde_json::Value`s whose numbers keep their original text
//! (`arbitrary_precision`), so a decimal goes out exactly as it came in.

pub mod definitions;
pub mod json;
pub mod resource;
pub mod search;
pub mod validate;
