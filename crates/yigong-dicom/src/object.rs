//! Reading what the platform keeps of a DICOM instance (the study, series and instance
//! attributes, the patient's identifiers and name) from a Part 10 file or from a data set
//! received over the network, and writing a Part 10 file around a received data set.
//!
//! The whole data set is walked, so a truncated object is refused before anything is stored;
//! text is decoded with [`CharacterSets`] from the raw bytes. A received data set is stored
//! byte for byte behind its file meta information, never re-encoded.

use std::io::Cursor;

use dicom_core::Tag;
use dicom_core::header::Header;
use dicom_dictionary_std::tags;
use dicom_encoding::TransferSyntaxIndex;
use dicom_encoding::transfer_syntax::Endianness;
use dicom_object::meta::{FileMetaTable, FileMetaTableBuilder};
use dicom_parser::dataset::read::{DataSetReaderOptions, ValueReadStrategy};
use dicom_parser::dataset::{DataSetReader, DataToken};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use yigong_domain::reading::DicomInstance as Instance;

use crate::charset::CharacterSets;

/// Implementation Class UID of yigong (under the UUID-derived root 2.25).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.186302813411052466710411062281912873137";
/// Implementation Version Name.
pub const IMPLEMENTATION_VERSION: &str = "YIGONG_0_1";

/// Why an object was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DicomError {
    /// Not a DICOM Part 10 object (no `DICM` prefix or no file meta information).
    #[error("not a DICOM Part 10 object: {0}")]
    NotDicom(String),
    /// The data set could not be read to its end (truncated or malformed).
    #[error("the data set is truncated or malformed: {0}")]
    Malformed(String),
    /// A transfer syntax we cannot read.
    #[error("unsupported transfer syntax {0}")]
    UnsupportedTransferSyntax(String),
    /// A required attribute is missing or empty.
    #[error("{0} is missing")]
    Missing(&'static str),
}

/// A Part 10 object read: what is kept, and where its data set starts.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The attributes.
    pub instance: Instance,
    /// Byte offset of the data set (after the file meta information).
    pub dataset_offset: usize,
}

/// Reads a Part 10 object (with or without its 128-byte preamble).
pub fn parse_part10(bytes: &[u8]) -> Result<Parsed, DicomError> {
    let start = if bytes.len() >= 132 && &bytes[128..132] == b"DICM" {
        128
    } else if bytes.starts_with(b"DICM") {
        0
    } else {
        return Err(DicomError::NotDicom("no DICM prefix".into()));
    };
    let mut cursor = Cursor::new(&bytes[start..]);
    let meta = FileMetaTable::from_reader(&mut cursor).map_err(|e| DicomError::NotDicom(e.to_string()))?;
    let offset = start + usize::try_from(cursor.position()).unwrap_or(usize::MAX);
    let ts = meta.transfer_syntax().trim_end_matches(['\0', ' ']).to_owned();
    let mut instance = parse_dataset(&bytes[offset..], &ts)?;
    if instance.sop_class_uid.is_empty() {
        instance.sop_class_uid = meta.media_storage_sop_class_uid().trim_end_matches(['\0', ' ']).to_owned();
    }
    if instance.sop_instance_uid.is_empty() {
        instance.sop_instance_uid =
            meta.media_storage_sop_instance_uid().trim_end_matches(['\0', ' ']).to_owned();
    }
    check_required(&instance)?;
    Ok(Parsed { instance, dataset_offset: offset })
}

fn check_required(i: &Instance) -> Result<(), DicomError> {
    for (value, name) in [
        (&i.sop_class_uid, "SOPClassUID (0008,0016)"),
        (&i.sop_instance_uid, "SOPInstanceUID (0008,0018)"),
        (&i.study_uid, "StudyInstanceUID (0020,000D)"),
        (&i.series_uid, "SeriesInstanceUID (0020,000E)"),
    ] {
        if value.is_empty() {
            return Err(DicomError::Missing(name));
        }
    }
    Ok(())
}

/// Reads a data set encoded in transfer syntax `ts` (as received in a C-STORE), to its end.
pub fn parse_dataset(bytes: &[u8], ts: &str) -> Result<Instance, DicomError> {
    let syntax = TransferSyntaxRegistry
        .get(ts)
        .filter(|s| !s.is_unsupported())
        .ok_or_else(|| DicomError::UnsupportedTransferSyntax(ts.to_owned()))?;
    let big_endian = syntax.endianness() == Endianness::Big;
    let options = DataSetReaderOptions::default().value_read(ValueReadStrategy::Raw);
    let reader = DataSetReader::new_with_ts_options(Cursor::new(bytes), syntax, options)
        .map_err(|e| DicomError::Malformed(e.to_string()))?;
    let mut raw = Raw::default();
    let mut depth = 0usize;
    let mut current: Option<Tag> = None;
    // The sequence we are in at depth 1, to read the Other Patient IDs Sequence's PatientIDs.
    let mut top_sequence: Option<Tag> = None;
    let mut pixel_data = false;
    for token in reader {
        let token = token.map_err(|e| DicomError::Malformed(e.to_string()))?;
        match token {
            DataToken::ElementHeader(h) => current = Some(h.tag()),
            DataToken::SequenceStart { tag, .. } => {
                if depth == 0 {
                    top_sequence = Some(tag);
                }
                depth += 1;
                current = None;
            }
            DataToken::PixelSequenceStart => {
                pixel_data = true;
                depth += 1;
            }
            DataToken::SequenceEnd => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    top_sequence = None;
                }
            }
            DataToken::PrimitiveValue(v) => {
                let Some(tag) = current.take() else { continue };
                if depth == 0 {
                    if tag == tags::PIXEL_DATA {
                        pixel_data = true;
                    }
                    raw.put(tag, v.to_bytes().into_owned());
                } else if top_sequence == Some(tags::OTHER_PATIENT_I_DS_SEQUENCE) && tag == tags::PATIENT_ID {
                    raw.other_ids.push(v.to_bytes().into_owned());
                }
            }
            DataToken::ItemStart { .. }
            | DataToken::ItemEnd
            | DataToken::ItemValue(_)
            | DataToken::OffsetTable(_) => {}
        }
    }
    if depth != 0 {
        return Err(DicomError::Malformed("a sequence is not closed".into()));
    }
    Ok(raw.into_instance(ts, big_endian, pixel_data))
}

/// The raw values of the attributes we keep.
#[derive(Default)]
struct Raw {
    values: Vec<(Tag, Vec<u8>)>,
    other_ids: Vec<Vec<u8>>,
}

impl Raw {
    fn put(&mut self, tag: Tag, value: Vec<u8>) {
        if KEPT.contains(&tag) {
            self.values.push((tag, value));
        }
    }

    fn get(&self, tag: Tag) -> &[u8] {
        self.values.iter().find(|(t, _)| *t == tag).map_or(&[], |(_, v)| v.as_slice())
    }

    fn into_instance(self, ts: &str, big_endian: bool, pixel_data: bool) -> Instance {
        let cs = CharacterSets::from_value(self.get(tags::SPECIFIC_CHARACTER_SET));
        let plain = |tag| ascii(self.get(tag));
        let text = |tag| cs.decode(self.get(tag));
        let us = |tag: Tag| {
            let b = self.get(tag);
            (b.len() >= 2).then(|| {
                if big_endian { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) }
            })
        };
        let int = |tag| ascii(self.get(tag)).parse::<i64>().ok();
        let mut other_patient_ids: Vec<String> =
            cs.decode_values(self.get(OTHER_PATIENT_IDS)).into_iter().filter(|s| !s.is_empty()).collect();
        other_patient_ids.extend(self.other_ids.iter().map(|b| cs.decode(b)).filter(|s| !s.is_empty()));
        let frames =
            int(tags::NUMBER_OF_FRAMES).and_then(|n| u32::try_from(n).ok()).or(pixel_data.then_some(1));
        Instance {
            sop_class_uid: plain(tags::SOP_CLASS_UID),
            sop_instance_uid: plain(tags::SOP_INSTANCE_UID),
            study_uid: plain(tags::STUDY_INSTANCE_UID),
            series_uid: plain(tags::SERIES_INSTANCE_UID),
            transfer_syntax: ts.to_owned(),
            character_set: plain(tags::SPECIFIC_CHARACTER_SET),
            patient_id: text(tags::PATIENT_ID).trim().to_owned(),
            patient_id_issuer: text(tags::ISSUER_OF_PATIENT_ID).trim().to_owned(),
            other_patient_ids,
            patient_name: text(tags::PATIENT_NAME),
            birth_date: plain(tags::PATIENT_BIRTH_DATE),
            sex: plain(tags::PATIENT_SEX),
            accession_number: text(tags::ACCESSION_NUMBER).trim().to_owned(),
            study_date: plain(tags::STUDY_DATE),
            study_time: plain(tags::STUDY_TIME),
            study_description: text(tags::STUDY_DESCRIPTION),
            study_id: text(tags::STUDY_ID),
            referring_physician: text(tags::REFERRING_PHYSICIAN_NAME),
            institution_name: text(tags::INSTITUTION_NAME),
            modality: plain(tags::MODALITY),
            series_number: int(tags::SERIES_NUMBER).and_then(|n| i32::try_from(n).ok()),
            series_description: text(tags::SERIES_DESCRIPTION),
            body_part: plain(tags::BODY_PART_EXAMINED),
            instance_number: int(tags::INSTANCE_NUMBER).and_then(|n| i32::try_from(n).ok()),
            rows: us(tags::ROWS),
            columns: us(tags::COLUMNS),
            frames,
        }
    }
}

/// Other Patient IDs (0010,1000), retired but still sent by devices.
const OTHER_PATIENT_IDS: Tag = Tag(0x0010, 0x1000);

const KEPT: &[Tag] = &[
    tags::SPECIFIC_CHARACTER_SET,
    tags::SOP_CLASS_UID,
    tags::SOP_INSTANCE_UID,
    tags::STUDY_INSTANCE_UID,
    tags::SERIES_INSTANCE_UID,
    tags::PATIENT_ID,
    tags::ISSUER_OF_PATIENT_ID,
    OTHER_PATIENT_IDS,
    tags::PATIENT_NAME,
    tags::PATIENT_BIRTH_DATE,
    tags::PATIENT_SEX,
    tags::ACCESSION_NUMBER,
    tags::STUDY_DATE,
    tags::STUDY_TIME,
    tags::STUDY_DESCRIPTION,
    tags::STUDY_ID,
    tags::REFERRING_PHYSICIAN_NAME,
    tags::INSTITUTION_NAME,
    tags::MODALITY,
    tags::SERIES_NUMBER,
    tags::SERIES_DESCRIPTION,
    tags::BODY_PART_EXAMINED,
    tags::INSTANCE_NUMBER,
    tags::ROWS,
    tags::COLUMNS,
    tags::NUMBER_OF_FRAMES,
];

/// An ASCII value (UI, CS, DA, TM, IS, AS) without its padding.
fn ascii(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim_matches([' ', '\0']).to_owned()
}

/// A Part 10 file around a data set received in transfer syntax `ts`: preamble, `DICM`, the
/// file meta information, then the data set bytes as received.
pub fn part10(dataset: &[u8], instance: &Instance, source_ae: &str) -> Result<Vec<u8>, DicomError> {
    let mut builder = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(instance.sop_class_uid.as_str())
        .media_storage_sop_instance_uid(instance.sop_instance_uid.as_str())
        .transfer_syntax(instance.transfer_syntax.as_str())
        .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
        .implementation_version_name(IMPLEMENTATION_VERSION);
    if !source_ae.trim().is_empty() {
        builder = builder.source_application_entity_title(source_ae.trim());
    }
    let meta = builder.build().map_err(|e| DicomError::Malformed(e.to_string()))?;
    let mut out = Vec::with_capacity(dataset.len() + 400);
    out.extend_from_slice(&[0u8; 128]);
    out.extend_from_slice(b"DICM");
    meta.write(&mut out).map_err(|e| DicomError::Malformed(e.to_string()))?;
    out.extend_from_slice(dataset);
    Ok(out)
}
