//! DICOM for the reading centres (DESIGN.md §8.3): reading what is kept of an instance with its
//! character set decoded ([`object`], [`charset`]), rendering a frame ([`render`]), the DICOM
//! JSON model of query results ([`json`]), and the C-ECHO/C-STORE service provider ([`scp`]),
//! all on the dicom-rs crates.
#![warn(missing_docs)]

pub mod charset;
pub mod json;
pub mod object;
pub mod render;
pub mod scp;
pub mod synthetic;

pub use charset::CharacterSets;
pub use object::{DicomError, Parsed, parse_dataset, parse_part10, part10};
pub use yigong_domain::reading::DicomInstance;

#[cfg(test)]
mod tests;
