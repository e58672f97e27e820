//! Reading and rendering the public sample files shipped in the pydicom wheel
//! (`scripts/dicom-samples`, named by `YIGONG_DICOM_SAMPLES`).

use std::path::PathBuf;

use crate::object::{DicomError, parse_dataset, parse_part10, part10};
use crate::render::{Format, RenderError, render};

/// The samples directory, or `None` (skip, saying so); under `CI=true` a missing directory fails.
pub(crate) fn samples() -> Option<PathBuf> {
    match std::env::var_os("YIGONG_DICOM_SAMPLES") {
        Some(dir) if PathBuf::from(&dir).join("test_files").is_dir() => Some(dir.into()),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("YIGONG_DICOM_SAMPLES is not set under CI=true: run scripts/dicom-samples and set it")
        }
        _ => {
            eprintln!("skipped: YIGONG_DICOM_SAMPLES is not set (run scripts/dicom-samples and set it)");
            None
        }
    }
}

fn read(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn charset_files_decode_to_the_right_names() {
    let Some(dir) = samples() else { return };
    let cases = [
        ("chrX1.dcm", "Wang^XiaoDong=王^小東="),
        ("chrX2.dcm", "Wang^XiaoDong=王^小东="),
        ("chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        ("chrH32.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"),
        ("chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"),
        ("chrFren.dcm", "Buc^Jérôme"),
        ("chrGerm.dcm", "Äneas^Rüdiger"),
        ("chrGreek.dcm", "Διονυσιος"),
        ("chrRuss.dcm", "Люкceмбypг"),
        ("chrHbrw.dcm", "שרון^דבורה"),
        ("chrArab.dcm", "قباني^لنزار"),
    ];
    for (file, name) in cases {
        let bytes = read(&dir.join("charset_files"), file);
        let parsed = parse_part10(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(parsed.instance.patient_name, name, "{file}");
    }
}

#[test]
fn images_of_every_encoding_are_read_whole() {
    let Some(dir) = samples() else { return };
    let t = dir.join("test_files");
    let cases = [
        ("CT_small.dcm", "1.2.840.10008.1.2.1", "CT", Some((128, 128))),
        ("MR_small_implicit.dcm", "1.2.840.10008.1.2", "MR", Some((64, 64))),
        ("MR_small_bigendian.dcm", "1.2.840.10008.1.2.2", "MR", Some((64, 64))),
        ("MR_small_RLE.dcm", "1.2.840.10008.1.2.5", "MR", Some((64, 64))),
        ("SC_rgb_jpeg_dcmtk.dcm", "1.2.840.10008.1.2.4.50", "OT", Some((100, 100))),
        ("MR_small_jp2klossless.dcm", "1.2.840.10008.1.2.4.90", "MR", Some((64, 64))),
        ("MR_small_jpeg_ls_lossless.dcm", "1.2.840.10008.1.2.4.80", "MR", Some((64, 64))),
        ("waveform_ecg.dcm", "1.2.840.10008.1.2.1", "ECG", None),
    ];
    for (file, ts, modality, size) in cases {
        let bytes = read(&t, file);
        let p = parse_part10(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        let i = &p.instance;
        assert_eq!(i.transfer_syntax, ts, "{file}");
        assert_eq!(i.modality, modality, "{file}");
        assert!(
            !i.study_uid.is_empty() && !i.series_uid.is_empty() && !i.sop_instance_uid.is_empty(),
            "{file}"
        );
        assert_eq!(i.rows.zip(i.columns), size, "{file}");
        // The data set read on its own (as a C-STORE delivers it) gives the same attributes.
        let again = parse_dataset(&bytes[p.dataset_offset..], ts).unwrap();
        assert_eq!(again.sop_instance_uid, i.sop_instance_uid, "{file}");
    }
    let ct = parse_part10(&read(&t, "CT_small.dcm")).unwrap().instance;
    assert_eq!(ct.patient_name, "CompressedSamples^CT1");
    assert_eq!(ct.patient_id, "1CT1");
    assert_eq!(ct.frames, Some(1));
}

#[test]
fn truncated_and_foreign_objects_are_refused() {
    let Some(dir) = samples() else { return };
    let t = dir.join("test_files");
    let truncated = parse_part10(&read(&t, "MR_truncated.dcm"));
    assert!(matches!(truncated, Err(DicomError::Malformed(_))), "{truncated:?}");
    let whole = read(&t, "CT_small.dcm");
    for cut in [whole.len() - 1000, 2000, 300] {
        let r = parse_part10(&whole[..cut]);
        assert!(matches!(r, Err(DicomError::Malformed(_) | DicomError::NotDicom(_))), "cut at {cut}: {r:?}");
    }
    assert!(matches!(parse_part10(b"%PDF-1.4 not dicom"), Err(DicomError::NotDicom(_))));
    assert!(matches!(parse_part10(&read(&t, "no_meta.dcm")), Err(DicomError::NotDicom(_))));
    let p = parse_part10(&whole).unwrap();
    assert!(matches!(
        parse_dataset(&whole[p.dataset_offset..], "1.2.3.4.5"),
        Err(DicomError::UnsupportedTransferSyntax(_))
    ));
}

#[test]
fn a_received_data_set_is_stored_byte_for_byte_behind_its_meta() {
    let Some(dir) = samples() else { return };
    let whole = read(&dir.join("test_files"), "MR_small_implicit.dcm");
    let p = parse_part10(&whole).unwrap();
    let dataset = &whole[p.dataset_offset..];
    let file = part10(dataset, &p.instance, "TOWNSHIP01").unwrap();
    assert!(file.ends_with(dataset));
    assert_eq!(&file[128..132], b"DICM");
    let again = parse_part10(&file).unwrap();
    assert_eq!(again.instance, p.instance);
    assert_eq!(&file[again.dataset_offset..], dataset);
}

#[test]
fn frames_render_as_png_and_jpeg() {
    let Some(dir) = samples() else { return };
    let t = dir.join("test_files");
    for file in ["CT_small.dcm", "MR_small_RLE.dcm", "SC_rgb_jpeg_dcmtk.dcm", "MR_small_jp2klossless.dcm"] {
        let bytes = read(&t, file);
        let png = render(&bytes, 1, None, Format::Png).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "{file}");
        let jpeg = render(&bytes, 1, Some((40.0, 400.0)), Format::Jpeg).unwrap();
        assert!(jpeg.starts_with(&[0xFF, 0xD8]), "{file}");
    }
    let ct = read(&t, "CT_small.dcm");
    assert_eq!(render(&ct, 2, None, Format::Png), Err(RenderError::NoFrame(2, 1)));
    // A different window gives a different picture.
    let a = render(&ct, 1, Some((40.0, 400.0)), Format::Png).unwrap();
    let b = render(&ct, 1, Some((300.0, 1500.0)), Format::Png).unwrap();
    assert_ne!(a, b);
    let jls = read(&t, "MR_small_jpeg_ls_lossless.dcm");
    assert!(matches!(render(&jls, 1, None, Format::Png), Err(RenderError::Unrenderable(_))));
}
