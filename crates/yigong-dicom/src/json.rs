//! The DICOM JSON model (PS3.18 Annex F) for query results and metadata built from stored
//! attributes: `{"0020000D": {"vr": "UI", "Value": ["1.2…"]}}`, person names as
//! `{"Alphabetic", "Ideographic", "Phonetic"}`.

use serde_json::{Map, Value, json};

/// One data set in the JSON model, built attribute by attribute (kept in tag order).
#[derive(Debug, Clone, Default)]
pub struct Dataset(Map<String, Value>);

fn key(tag: u32) -> String {
    format!("{tag:08X}")
}

impl Dataset {
    /// An empty data set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A string attribute (absent value → present with no `Value`, as QIDO returns it).
    pub fn text(mut self, tag: u32, vr: &str, value: &str) -> Self {
        let v = if value.is_empty() { json!({"vr": vr}) } else { json!({"vr": vr, "Value": [value]}) };
        self.0.insert(key(tag), v);
        self
    }

    /// A multi-valued string attribute.
    pub fn texts(mut self, tag: u32, vr: &str, values: &[String]) -> Self {
        let v = if values.is_empty() { json!({"vr": vr}) } else { json!({"vr": vr, "Value": values}) };
        self.0.insert(key(tag), v);
        self
    }

    /// A person name, its component groups (`alphabetic=ideographic=phonetic`) split.
    pub fn person(mut self, tag: u32, value: &str) -> Self {
        if value.is_empty() {
            self.0.insert(key(tag), json!({"vr": "PN"}));
            return self;
        }
        let mut groups = value.splitn(3, '=');
        let mut name = Map::new();
        for label in ["Alphabetic", "Ideographic", "Phonetic"] {
            if let Some(g) = groups.next().filter(|g| !g.is_empty()) {
                name.insert(label.into(), Value::String(g.to_owned()));
            }
        }
        self.0.insert(key(tag), json!({"vr": "PN", "Value": [name]}));
        self
    }

    /// An integer attribute (IS, US, UL…).
    pub fn int(mut self, tag: u32, vr: &str, value: Option<i64>) -> Self {
        let v = match value {
            Some(n) => json!({"vr": vr, "Value": [n]}),
            None => json!({"vr": vr}),
        };
        self.0.insert(key(tag), v);
        self
    }

    /// The JSON object, attributes in tag order.
    pub fn into_value(self) -> Value {
        let mut entries: Vec<(String, Value)> = self.0.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Object(entries.into_iter().collect())
    }
}

/// Inline binary values larger than this are left out of metadata (their element stays, with
/// its VR and no value); pixel data is named by a BulkDataURI instead.
const INLINE_MAX: usize = 1024;

/// The WADO-RS metadata of one stored Part 10 object: every attribute before the pixel data in
/// the JSON model, large binary values left out, the pixel data as a BulkDataURI to `frames`
/// (when the instance has pixel data, `frames_uri: Some`) and the patient's name replaced by
/// `patient_name` (decoded by [`crate::CharacterSets`]).
pub fn metadata(
    part10: &[u8],
    frames_uri: Option<&str>,
    patient_name: &str,
) -> Result<Value, crate::DicomError> {
    use dicom_object::OpenFileOptions;
    let start = if part10.len() >= 132 && &part10[128..132] == b"DICM" { 128 } else { 0 };
    let obj = OpenFileOptions::new()
        .read_preamble(dicom_object::file::ReadPreamble::Never)
        .read_until(dicom_dictionary_std::tags::PIXEL_DATA)
        .from_reader(&part10[start..])
        .map_err(|e| crate::DicomError::Malformed(e.to_string()))?;
    let mut value = dicom_json::to_value(&*obj).map_err(|e| crate::DicomError::Malformed(e.to_string()))?;
    if let Value::Object(map) = &mut value {
        for (_, element) in map.iter_mut() {
            let big =
                element.get("InlineBinary").and_then(Value::as_str).is_some_and(|b| b.len() > INLINE_MAX);
            if big && let Value::Object(e) = element {
                e.remove("InlineBinary");
            }
        }
        let name = Dataset::new().person(0x0010_0010, patient_name).into_value();
        if let Some(n) = name.get("00100010") {
            map.insert("00100010".into(), n.clone());
        }
        if let Some(uri) = frames_uri {
            map.insert("7FE00010".into(), json!({"vr": "OB", "BulkDataURI": uri}));
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_groups_and_tags_are_sorted() {
        let v = Dataset::new()
            .text(0x0020_000D, "UI", "1.2.3")
            .person(0x0010_0010, "Wang^XiaoDong=王^小东=")
            .int(0x0020_1208, "IS", Some(3))
            .text(0x0008_0050, "SH", "")
            .into_value();
        assert_eq!(
            v["00100010"]["Value"][0],
            json!({"Alphabetic": "Wang^XiaoDong", "Ideographic": "王^小东"})
        );
        assert_eq!(v["00080050"], json!({"vr": "SH"}));
        assert_eq!(v["00201208"]["Value"][0], 3);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["00080050", "00100010", "0020000D", "00201208"]);
    }
}
