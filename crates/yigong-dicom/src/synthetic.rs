//! Synthetic DICOM images made by code (no real patient): a CT slice of a phantom — a disc of
//! water in air with a denser ring — with the study, series and patient attributes given, as a
//! Part 10 object in Explicit VR Little Endian. For the demo county, tests and benchmarks.

use dicom_core::{DataElement, PrimitiveValue, VR, dicom_value};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN;

/// What a synthetic slice carries.
#[derive(Debug, Clone)]
pub struct Slice<'a> {
    /// Study Instance UID.
    pub study_uid: &'a str,
    /// Series Instance UID.
    pub series_uid: &'a str,
    /// SOP Instance UID.
    pub sop_uid: &'a str,
    /// Patient ID.
    pub patient_id: &'a str,
    /// Patient's name, with its ideographic group (`Wang^Fang=王^芳`).
    pub patient_name: &'a str,
    /// Birth date `YYYYMMDD`.
    pub birth_date: &'a str,
    /// `M` or `F`.
    pub sex: &'a str,
    /// Accession number.
    pub accession: &'a str,
    /// Study date `YYYYMMDD`.
    pub study_date: &'a str,
    /// Instance number in its series.
    pub number: u32,
    /// Rows and columns (square).
    pub size: u16,
}

/// A UID under the UUID-derived root `2.25` (PS3.5 §B.2) from 128 random-looking bits.
pub fn uid(bits: u128) -> String {
    format!("2.25.{bits}")
}

fn el(tag: dicom_core::Tag, vr: VR, value: impl Into<PrimitiveValue>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, value.into())
}

/// Even-length text (DICOM pads with a space).
fn even(s: &str) -> String {
    if s.len() % 2 == 1 { format!("{s} ") } else { s.to_owned() }
}

/// The data set of a slice (without file meta information).
pub fn dataset(s: &Slice<'_>) -> InMemDicomObject {
    let n = usize::from(s.size);
    let mut pixels = Vec::with_capacity(n * n);
    let c = n as f64 / 2.0;
    for y in 0..n {
        for x in 0..n {
            let r = ((x as f64 - c).powi(2) + (y as f64 - c).powi(2)).sqrt() / c;
            // Hounsfield units + 1024: air −1000, water 0, a ring of bone 700, a soft lesion 60.
            let hu: i32 = if r > 0.9 {
                -1000
            } else if r > 0.8 {
                700
            } else if ((x as f64 - c * 1.3).powi(2) + (y as f64 - c * 0.8).powi(2)).sqrt() < c * 0.12 {
                60 + (s.number as i32 % 7)
            } else {
                ((x * 7 + y * 13 + s.number as usize) % 21) as i32 - 10
            };
            pixels.push(u16::try_from(hu + 1024).unwrap_or(0));
        }
    }
    let mut obj = InMemDicomObject::from_element_iter([
        el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"),
        el(tags::IMAGE_TYPE, VR::CS, "ORIGINAL\\PRIMARY\\AXIAL"),
        el(tags::SOP_CLASS_UID, VR::UI, uids::CT_IMAGE_STORAGE),
        el(tags::SOP_INSTANCE_UID, VR::UI, s.sop_uid),
        el(tags::STUDY_DATE, VR::DA, s.study_date),
        el(tags::STUDY_TIME, VR::TM, "093000"),
        el(tags::ACCESSION_NUMBER, VR::SH, even(s.accession)),
        el(tags::MODALITY, VR::CS, "CT"),
        el(tags::INSTITUTION_NAME, VR::LO, even("青岚县演示乡镇卫生院")),
        el(tags::STUDY_DESCRIPTION, VR::LO, even("头颅 CT 平扫 (合成)")),
        el(tags::PATIENT_NAME, VR::PN, even(s.patient_name)),
        el(tags::PATIENT_ID, VR::LO, even(s.patient_id)),
        el(tags::PATIENT_BIRTH_DATE, VR::DA, s.birth_date),
        el(tags::PATIENT_SEX, VR::CS, even(s.sex)),
        el(tags::BODY_PART_EXAMINED, VR::CS, "HEAD"),
        el(tags::SLICE_THICKNESS, VR::DS, "5 "),
        el(tags::STUDY_INSTANCE_UID, VR::UI, s.study_uid),
        el(tags::SERIES_INSTANCE_UID, VR::UI, s.series_uid),
        el(tags::STUDY_ID, VR::SH, "1 "),
        el(tags::SERIES_NUMBER, VR::IS, "1 "),
        el(tags::INSTANCE_NUMBER, VR::IS, even(&s.number.to_string())),
        el(tags::SAMPLES_PER_PIXEL, VR::US, dicom_value!(U16, [1])),
        el(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2 "),
        el(tags::ROWS, VR::US, dicom_value!(U16, [s.size])),
        el(tags::COLUMNS, VR::US, dicom_value!(U16, [s.size])),
        el(tags::PIXEL_SPACING, VR::DS, "0.5\\0.5 "),
        el(tags::BITS_ALLOCATED, VR::US, dicom_value!(U16, [16])),
        el(tags::BITS_STORED, VR::US, dicom_value!(U16, [12])),
        el(tags::HIGH_BIT, VR::US, dicom_value!(U16, [11])),
        el(tags::PIXEL_REPRESENTATION, VR::US, dicom_value!(U16, [0])),
        el(tags::WINDOW_CENTER, VR::DS, "40"),
        el(tags::WINDOW_WIDTH, VR::DS, "80"),
        el(tags::RESCALE_INTERCEPT, VR::DS, "-1024 "),
        el(tags::RESCALE_SLOPE, VR::DS, "1 "),
    ]);
    obj.put(DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(pixels.into())));
    obj
}

/// The data set's bytes in Explicit VR Little Endian (what a C-STORE carries).
pub fn dataset_bytes(s: &Slice<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    dataset(s)
        .write_dataset_with_ts(&mut out, &EXPLICIT_VR_LITTLE_ENDIAN.erased())
        .expect("a synthetic data set encodes into memory");
    out
}

/// The slice as a Part 10 object.
pub fn part10(s: &Slice<'_>) -> Vec<u8> {
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(uids::CT_IMAGE_STORAGE)
        .media_storage_sop_instance_uid(s.sop_uid)
        .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
        .implementation_class_uid(crate::object::IMPLEMENTATION_CLASS_UID)
        .implementation_version_name(crate::object::IMPLEMENTATION_VERSION)
        .build()
        .expect("complete file meta information");
    let mut out = Vec::new();
    out.extend_from_slice(&[0u8; 128]);
    out.extend_from_slice(b"DICM");
    meta.write(&mut out).expect("meta encodes into memory");
    out.extend_from_slice(&dataset_bytes(s));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_synthetic_slice_reads_back_and_renders() {
        let s = Slice {
            study_uid: &uid(1),
            series_uid: &uid(2),
            sop_uid: &uid(3),
            patient_id: "QL0001",
            patient_name: "Wang^Fang=王^芳",
            birth_date: "19620517",
            sex: "F",
            accession: "A0001",
            study_date: "20261201",
            number: 1,
            size: 128,
        };
        let file = part10(&s);
        assert!(file.len() > 128 * 128 * 2, "{}", file.len());
        let parsed = crate::parse_part10(&file).unwrap().instance;
        assert_eq!(parsed.patient_name, "Wang^Fang=王^芳");
        assert_eq!(parsed.sop_instance_uid, uid(3));
        assert_eq!(parsed.accession_number, "A0001");
        assert_eq!(parsed.rows, Some(128));
        assert_eq!(parsed.modality, "CT");
        let png = crate::render::render(&file, 1, None, crate::render::Format::Png).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        // The data set alone is what a C-STORE carries.
        assert!(file.ends_with(&dataset_bytes(&s)));
    }
}
