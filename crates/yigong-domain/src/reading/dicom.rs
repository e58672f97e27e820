//! What the platform keeps of DICOM objects, and how studies are searched (DICOM PS3.18
//! QIDO-RS matching); the objects themselves are read by `yigong-dicom`.

/// What is kept of one DICOM instance. Text is decoded to UTF-8; person names keep their component
/// groups (`Wang^XiaoDong=王^小东=`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DicomInstance {
    /// SOP Class UID (0008,0016).
    pub sop_class_uid: String,
    /// SOP Instance UID (0008,0018).
    pub sop_instance_uid: String,
    /// Study Instance UID (0020,000D).
    pub study_uid: String,
    /// Series Instance UID (0020,000E).
    pub series_uid: String,
    /// The transfer syntax the data set is encoded in.
    pub transfer_syntax: String,
    /// Specific Character Set as declared.
    pub character_set: String,
    /// Patient ID (0010,0020).
    pub patient_id: String,
    /// Issuer of Patient ID (0010,0021).
    pub patient_id_issuer: String,
    /// Other Patient IDs (0010,1000) and the IDs of the Other Patient IDs Sequence (0010,1002).
    pub other_patient_ids: Vec<String>,
    /// Patient's Name (0010,0010), decoded.
    pub patient_name: String,
    /// Patient's Birth Date (0010,0030), `YYYYMMDD`.
    pub birth_date: String,
    /// Patient's Sex (0010,0040).
    pub sex: String,
    /// Accession Number (0008,0050).
    pub accession_number: String,
    /// Study Date (0008,0020).
    pub study_date: String,
    /// Study Time (0008,0030).
    pub study_time: String,
    /// Study Description (0008,1030).
    pub study_description: String,
    /// Study ID (0020,0010).
    pub study_id: String,
    /// Referring Physician's Name (0008,0090).
    pub referring_physician: String,
    /// Institution Name (0008,0080).
    pub institution_name: String,
    /// Modality (0008,0060).
    pub modality: String,
    /// Series Number (0020,0011).
    pub series_number: Option<i32>,
    /// Series Description (0008,103E).
    pub series_description: String,
    /// Body Part Examined (0018,0015).
    pub body_part: String,
    /// Instance Number (0020,0013).
    pub instance_number: Option<i32>,
    /// Rows (0028,0010).
    pub rows: Option<u16>,
    /// Columns (0028,0011).
    pub columns: Option<u16>,
    /// Number of Frames (0028,0008); 1 for a single-frame image with pixel data.
    pub frames: Option<u32>,
}

/// A study search (QIDO-RS `/studies`): every given key must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudyQuery {
    /// StudyInstanceUID: any of these.
    pub study_uids: Vec<String>,
    /// PatientID, exact or with `*`/`?` wildcards.
    pub patient_id: Option<String>,
    /// PatientName, with `*`/`?` wildcards; matches any component group, case-insensitively
    /// for Latin letters.
    pub patient_name: Option<String>,
    /// AccessionNumber, exact or with wildcards.
    pub accession_no: Option<String>,
    /// StudyDate range `YYYYMMDD`, either end open.
    pub study_date: Option<(Option<String>, Option<String>)>,
    /// ModalitiesInStudy: a series of this modality.
    pub modality: Option<String>,
    /// At most this many.
    pub limit: u32,
    /// Skipped first.
    pub offset: u32,
}

/// A DICOM UID: 1–64 characters of digits and dots, components without leading zeros
/// (PS3.5 §9.1); also what makes it safe as a file name.
pub fn is_uid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.split('.').all(|c| {
            !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) && (c == "0" || !c.starts_with('0'))
        })
}

/// Turns a DICOM wildcard (`*`, `?`) into a SQL LIKE pattern with `\` as escape.
pub fn like_pattern(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether a value has DICOM wildcards.
pub fn has_wildcard(value: &str) -> bool {
    value.contains(['*', '?'])
}
