//! The county's catalogue of orderable items (DESIGN.md §6.3): local codes, names, the uniform
//! county price in fen, and for the recognisable ones the demo windows of the design (blood
//! count 7 days, biochemistry 14, DR/CT/MR 30, recognised within the consortium).

use yigong_domain::reading::{ExamKind, RecognitionKind, RecognitionScope};

/// An orderable item of the county's catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthItem {
    /// Local code (`CT-HEAD`).
    pub code: &'static str,
    /// Name as ordered (头颅CT平扫).
    pub name: &'static str,
    /// What is examined.
    pub kind: ExamKind,
    /// DICOM modality code.
    pub modality: Option<&'static str>,
    /// Body part.
    pub body_part: Option<&'static str>,
    /// County uniform price, fen.
    pub price_fen: i64,
    /// Recognisable: kind, validity in days, scope.
    pub recognition: Option<(RecognitionKind, i64, RecognitionScope)>,
}

const fn exam_hr(days: i64) -> Option<(RecognitionKind, i64, RecognitionScope)> {
    Some((RecognitionKind::Exam, days, RecognitionScope::Consortium))
}

const fn lab_hr(days: i64) -> Option<(RecognitionKind, i64, RecognitionScope)> {
    Some((RecognitionKind::Lab, days, RecognitionScope::Consortium))
}

const fn item(
    code: &'static str,
    name: &'static str,
    kind: ExamKind,
    modality: Option<&'static str>,
    body_part: Option<&'static str>,
    price_fen: i64,
    recognition: Option<(RecognitionKind, i64, RecognitionScope)>,
) -> SynthItem {
    SynthItem { code, name, kind, modality, body_part, price_fen, recognition }
}

use ExamKind as K;

/// The catalogue, by kind; prices are those of a county price list of the 2020s, in fen.
pub const CATALOGUE: &[SynthItem] = &[
    item("ECG-12", "常规十二导联心电图", K::Ecg, Some("ECG"), Some("心脏"), 2_500, None),
    item("DR-CHEST", "胸部正位片（DR）", K::Dr, Some("DX"), Some("胸部"), 6_000, exam_hr(30)),
    item("DR-CHEST2", "胸部正侧位片（DR）", K::Dr, Some("DX"), Some("胸部"), 9_000, exam_hr(30)),
    item("DR-LSPINE", "腰椎正侧位片（DR）", K::Dr, Some("DX"), Some("腰椎"), 10_000, exam_hr(30)),
    item("DR-KNEE", "膝关节正侧位片（DR）", K::Dr, Some("DX"), Some("膝关节"), 8_000, exam_hr(30)),
    item("DR-ABD", "腹部立位平片（DR）", K::Dr, Some("DX"), Some("腹部"), 6_000, exam_hr(30)),
    item("US-ABD", "腹部彩超（肝胆胰脾肾）", K::Ultrasound, Some("US"), Some("腹部"), 15_000, None),
    item("US-THYROID", "甲状腺彩超", K::Ultrasound, Some("US"), Some("甲状腺"), 10_000, None),
    item("US-HEART", "心脏彩超", K::Ultrasound, Some("US"), Some("心脏"), 20_000, None),
    item("US-OB", "产科彩超", K::Ultrasound, Some("US"), Some("子宫及附件"), 15_000, None),
    item("CT-HEAD", "头颅CT平扫", K::Ct, Some("CT"), Some("头颅"), 15_000, exam_hr(30)),
    item("CT-CHEST", "胸部CT平扫", K::Ct, Some("CT"), Some("胸部"), 20_000, exam_hr(30)),
    item("CT-ABD", "上腹部CT平扫", K::Ct, Some("CT"), Some("上腹部"), 25_000, exam_hr(30)),
    item("CT-LSPINE", "腰椎间盘CT平扫", K::Ct, Some("CT"), Some("腰椎"), 20_000, exam_hr(30)),
    item("MR-HEAD", "头颅MRI平扫", K::Mr, Some("MR"), Some("头颅"), 45_000, exam_hr(30)),
    item("MR-LSPINE", "腰椎MRI平扫", K::Mr, Some("MR"), Some("腰椎"), 50_000, exam_hr(30)),
    item("LAB-CBC", "血常规", K::Lab, None, Some("静脉血"), 2_000, lab_hr(7)),
    item("LAB-BIOCHEM", "生化全套", K::Lab, None, Some("静脉血"), 18_000, lab_hr(14)),
    item("LAB-HBA1C", "糖化血红蛋白", K::Lab, None, Some("静脉血"), 6_000, None),
    item("LAB-URINE", "尿常规", K::Lab, None, Some("尿液"), 1_000, None),
    item("LAB-COAG", "凝血四项", K::Lab, None, Some("静脉血"), 8_000, None),
    item("PATH-BIOPSY", "活检组织病理诊断", K::Pathology, Some("SM"), None, 30_000, None),
    item("PATH-TCT", "宫颈液基细胞学检查（TCT）", K::Pathology, Some("SM"), Some("宫颈"), 15_000, None),
];

/// The item with `code`.
pub fn find(code: &str) -> &'static SynthItem {
    CATALOGUE.iter().find(|i| i.code == code).expect("a catalogue code")
}

/// The item whose QC at the people's hospital ran out three weeks before `cfg.today` and has
/// not been renewed: its reports since carry no HR mark, and the prompt stops offering them.
pub const EXPIRED_QC: &str = "CT-CHEST";

/// Items of `kind` with their relative weights for `urgency`-free ordering (how often each is
/// ordered among its kind).
pub fn weights(kind: ExamKind) -> &'static [(&'static str, u32)] {
    match kind {
        K::Ecg => &[("ECG-12", 1)],
        K::Dr => &[("DR-CHEST", 50), ("DR-CHEST2", 15), ("DR-LSPINE", 15), ("DR-KNEE", 14), ("DR-ABD", 6)],
        K::Ultrasound => &[("US-ABD", 50), ("US-THYROID", 20), ("US-HEART", 15), ("US-OB", 15)],
        K::Ct => &[("CT-HEAD", 40), ("CT-CHEST", 35), ("CT-ABD", 12), ("CT-LSPINE", 13)],
        K::Mr => &[("MR-HEAD", 50), ("MR-LSPINE", 50)],
        K::Lab => {
            &[("LAB-CBC", 38), ("LAB-BIOCHEM", 32), ("LAB-HBA1C", 10), ("LAB-URINE", 14), ("LAB-COAG", 6)]
        }
        K::Pathology => &[("PATH-BIOPSY", 60), ("PATH-TCT", 40)],
    }
}
