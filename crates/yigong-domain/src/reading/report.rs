//! Structured reports (结构化报告), DESIGN.md §6.2: a [`template`] per [`ExamKind`] lists the
//! fields a reader fills in; [`validate`] turns a [`ReportDraft`] into a [`ValidReport`] or names
//! every wrong field at once; [`canonical`] is the text the application hashes (SM3) and signs.
//!
//! A draft carries every value in one map keyed by [`Field::key`], `findings` and `impression`
//! included, so a form posts one shape for every kind. Values stay text: a number is kept as the
//! reader typed it (trimmed), so what is signed is what was read, with no float rounding.

use std::collections::BTreeMap;

use super::ExamKind;
use crate::validation::{self, Invalid};

/// The key of the findings (检查所见, 检验结果, 镜下所见), required in every template.
pub const FINDINGS: &str = "findings";
/// The key of the impression (诊断意见, 检验结论, 病理诊断), required in every template.
pub const IMPRESSION: &str = "impression";
/// At most this many characters in a [`FieldKind::Text`] value.
pub const TEXT_MAX: usize = 4000;
/// At most this many characters in any other value, and in the critical-value text.
pub const LINE_MAX: usize = 200;
/// Names the shape of [`canonical`]'s text; part of the text, so a new shape never hashes like
/// an old one.
pub const CANONICAL_FORMAT: &str = "yigong.report/1";

/// One field of a report template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Key in [`ReportDraft::fields`] (stable: stored and signed).
    pub key: &'static str,
    path: &'static str,
    /// Chinese label.
    pub zh: &'static str,
    /// English label.
    pub en: &'static str,
    /// What a value looks like.
    pub kind: FieldKind,
    /// Whether a report needs a value.
    pub required: bool,
}

impl Field {
    /// The field's name in [`Invalid`]: `fields.<key>`.
    pub fn path(&self) -> &'static str {
        self.path
    }
}

/// What a field's value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text over several lines, at most [`TEXT_MAX`] characters.
    Text,
    /// One line, at most [`LINE_MAX`] characters.
    Line,
    /// A decimal number written like `72`, `0.5` or `-3` (ASCII digits, no exponent, no
    /// separators) within `min..=max`: bounds that catch a slip of the keyboard, not a clinical
    /// range.
    Number {
        /// Unit shown beside the input (not typed with the value).
        unit: &'static str,
        /// Smallest plausible value.
        min: i64,
        /// Largest plausible value.
        max: i64,
    },
    /// One of the listed codes.
    Choice(&'static [Choice]),
}

/// One answer of a [`FieldKind::Choice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// Stored code.
    pub code: &'static str,
    /// Chinese label.
    pub zh: &'static str,
    /// English label.
    pub en: &'static str,
}

macro_rules! field {
    ($key:literal, $zh:literal, $en:literal, $kind:expr, $required:expr) => {
        Field {
            key: $key,
            path: concat!("fields.", $key),
            zh: $zh,
            en: $en,
            kind: $kind,
            required: $required,
        }
    };
}

const REQUIRED: bool = true;
const OPTIONAL: bool = false;

const fn choice(code: &'static str, zh: &'static str, en: &'static str) -> Choice {
    Choice { code, zh, en }
}

const RHYTHMS: &[Choice] = &[
    choice("sinus", "窦性心律", "Sinus rhythm"),
    choice("atrial_fibrillation", "心房颤动", "Atrial fibrillation"),
    choice("atrial_flutter", "心房扑动", "Atrial flutter"),
    choice("other", "其他", "Other"),
];
const CONTRASTS: &[Choice] =
    &[choice("none", "平扫", "Non-contrast"), choice("enhanced", "增强", "Contrast-enhanced")];
const LAB_SPECIMENS: &[Choice] = &[
    choice("serum", "血清", "Serum"),
    choice("whole_blood", "全血", "Whole blood"),
    choice("urine", "尿液", "Urine"),
    choice("other", "其他", "Other"),
];

const EXAM_FINDINGS: Field = field!("findings", "检查所见", "Findings", FieldKind::Text, REQUIRED);
const EXAM_IMPRESSION: Field = field!("impression", "诊断意见", "Impression", FieldKind::Text, REQUIRED);
const BODY_PART: Field = field!("body_part", "检查部位", "Body part", FieldKind::Line, REQUIRED);

const ECG: &[Field] = &[
    field!("rhythm", "心律", "Rhythm", FieldKind::Choice(RHYTHMS), REQUIRED),
    field!("heart_rate", "心率", "Heart rate", FieldKind::Number { unit: "bpm", min: 1, max: 400 }, REQUIRED),
    field!("pr_ms", "PR 间期", "PR interval", FieldKind::Number { unit: "ms", min: 1, max: 1000 }, OPTIONAL),
    field!(
        "qrs_ms",
        "QRS 时限",
        "QRS duration",
        FieldKind::Number { unit: "ms", min: 1, max: 400 },
        OPTIONAL
    ),
    field!(
        "qtc_ms",
        "QTc 间期",
        "QTc interval",
        FieldKind::Number { unit: "ms", min: 100, max: 1000 },
        OPTIONAL
    ),
    EXAM_FINDINGS,
    EXAM_IMPRESSION,
];
const DR: &[Field] = &[
    BODY_PART,
    field!("view", "投照体位", "View", FieldKind::Line, OPTIONAL),
    EXAM_FINDINGS,
    EXAM_IMPRESSION,
];
const CT_MR: &[Field] = &[
    BODY_PART,
    field!("contrast", "扫描方式", "Contrast", FieldKind::Choice(CONTRASTS), OPTIONAL),
    EXAM_FINDINGS,
    EXAM_IMPRESSION,
];
const ULTRASOUND: &[Field] = &[BODY_PART, EXAM_FINDINGS, EXAM_IMPRESSION];
const LAB: &[Field] = &[
    field!("specimen", "标本类型", "Specimen", FieldKind::Choice(LAB_SPECIMENS), REQUIRED),
    field!("findings", "检验结果", "Results", FieldKind::Text, REQUIRED),
    field!("impression", "检验结论", "Conclusion", FieldKind::Text, REQUIRED),
];
const PATHOLOGY: &[Field] = &[
    field!("specimen_site", "取材部位", "Specimen site", FieldKind::Line, REQUIRED),
    field!("gross", "大体所见", "Gross description", FieldKind::Text, REQUIRED),
    field!("findings", "镜下所见", "Microscopic findings", FieldKind::Text, REQUIRED),
    field!("impression", "病理诊断", "Pathological diagnosis", FieldKind::Text, REQUIRED),
];

/// The fields of a report on `kind`, in the order a form shows them.
pub fn template(kind: ExamKind) -> &'static [Field] {
    match kind {
        ExamKind::Ecg => ECG,
        ExamKind::Dr => DR,
        ExamKind::Ct | ExamKind::Mr => CT_MR,
        ExamKind::Ultrasound => ULTRASOUND,
        ExamKind::Lab => LAB,
        ExamKind::Pathology => PATHOLOGY,
    }
}

/// A report as the reader submitted it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportDraft {
    /// Every value by [`Field::key`], [`FINDINGS`] and [`IMPRESSION`] included; a blank value
    /// counts as absent.
    pub fields: BTreeMap<String, String>,
    /// The report carries a critical value (危急值).
    pub critical: bool,
    /// What the critical value is; required when `critical`, ignored otherwise.
    pub critical_text: Option<String>,
}

/// A report that passed [`validate`]: only its template's keys, every required one present, each
/// value trimmed and well-formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidReport {
    kind: ExamKind,
    fields: BTreeMap<&'static str, String>,
    critical: bool,
    critical_text: Option<String>,
}

impl ValidReport {
    /// The kind whose template it follows.
    pub fn kind(&self) -> ExamKind {
        self.kind
    }

    /// The values present, by key.
    pub fn fields(&self) -> &BTreeMap<&'static str, String> {
        &self.fields
    }

    /// One value, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// The findings (always present).
    pub fn findings(&self) -> &str {
        self.get(FINDINGS).unwrap_or_default()
    }

    /// The impression (always present).
    pub fn impression(&self) -> &str {
        self.get(IMPRESSION).unwrap_or_default()
    }

    /// Whether it carries a critical value.
    pub fn critical(&self) -> bool {
        self.critical
    }

    /// What the critical value is (present exactly when [`Self::critical`]).
    pub fn critical_text(&self) -> Option<&str> {
        self.critical_text.as_deref()
    }
}

/// The draft a valid report came from, say to start an amendment from the signed version.
impl From<&ValidReport> for ReportDraft {
    fn from(report: &ValidReport) -> Self {
        Self {
            fields: report.fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            critical: report.critical,
            critical_text: report.critical_text.clone(),
        }
    }
}

/// Checks `draft` against the template of `kind`, reporting every problem at once: per field
/// (`fields.<key>`) `required`, `too_long`, `not_single_line` (a line field), `not_a_number`,
/// `out_of_range`, `unknown_choice`; `fields` / `unknown_field` for a key the template lacks;
/// `critical_text` / `required` or `too_long`. Values are trimmed, text line ends become `\n`,
/// and blank optional values are dropped.
pub fn validate(kind: ExamKind, draft: &ReportDraft) -> Result<ValidReport, Invalid> {
    let template = template(kind);
    let mut errors = Invalid::default();
    let mut fields = BTreeMap::new();
    for field in template {
        let value = draft.fields.get(field.key).map(|v| v.trim()).filter(|v| !v.is_empty());
        let Some(value) = value else {
            if field.required {
                errors.push(field.path, "required", format!("{} is required", field.key));
            }
            continue;
        };
        let value = if field.kind == FieldKind::Text {
            value.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            value.to_owned()
        };
        if let Err((code, message)) = check_value(field, &value) {
            errors.push(field.path, code, message);
        }
        fields.insert(field.key, value);
    }
    for key in draft.fields.keys() {
        if !template.iter().any(|f| f.key == key) {
            errors.push("fields", "unknown_field", format!("{key:?} is not a field of a {kind} report"));
        }
    }
    let critical_text = if draft.critical {
        let text =
            validation::optional_text(&mut errors, "critical_text", draft.critical_text.as_deref(), LINE_MAX);
        if text.is_none() {
            errors.push("critical_text", "required", "a critical report says what is critical");
        }
        text
    } else {
        None
    };
    errors.into_result(ValidReport { kind, fields, critical: draft.critical, critical_text })
}

fn check_value(field: &Field, value: &str) -> Result<(), (&'static str, String)> {
    let max = if field.kind == FieldKind::Text { TEXT_MAX } else { LINE_MAX };
    if value.chars().count() > max {
        return Err(("too_long", format!("{} has at most {max} characters", field.key)));
    }
    match field.kind {
        FieldKind::Text => Ok(()),
        FieldKind::Line if value.contains(['\n', '\r']) => {
            Err(("not_single_line", format!("{} is one line", field.key)))
        }
        FieldKind::Line => Ok(()),
        FieldKind::Number { unit, min, max } => check_number(value, min, max)
            .map_err(|code| (code, format!("{} is a decimal number from {min} to {max} {unit}", field.key))),
        FieldKind::Choice(choices) => {
            if choices.iter().any(|c| c.code == value) {
                Ok(())
            } else {
                let codes: Vec<_> = choices.iter().map(|c| c.code).collect();
                Err(("unknown_choice", format!("{} is one of {}", field.key, codes.join(", "))))
            }
        }
    }
}

/// Whether `value` is a decimal number within `min..=max`, compared exactly (no floats).
fn check_number(value: &str, min: i64, max: i64) -> Result<(), &'static str> {
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return Err("not_a_number");
    }
    // The value is ±(whole + f) with 0 ≤ f < 1, and f > 0 exactly when `fraction`; past i128 the
    // whole part is out of any i64 range.
    let Ok(whole) = int.parse::<i128>() else { return Err("out_of_range") };
    let fraction = frac.is_some_and(|f| f.bytes().any(|b| b != b'0'));
    let (min, max) = (i128::from(min), i128::from(max));
    let in_range = if negative {
        // min ≤ -(whole + f) ≤ max  ⇔  -max ≤ whole + f ≤ -min.
        whole >= -max && (whole < -min || (whole == -min && !fraction))
    } else {
        whole >= min && (whole < max || (whole == max && !fraction))
    };
    if in_range { Ok(()) } else { Err("out_of_range") }
}

/// The text the application hashes (SM3) and signs for version `version` of the report on the
/// order `order_accession`: a JSON object with keys in sorted order, no whitespace, strings
/// escaped as RFC 8785 (JCS) does, numbers as the reader typed them (strings):
///
/// `{"critical":false,"critical_text":null,"fields":{"findings":"…",…},"format":"yigong.report/1","kind":"ct","order_accession":"…","version":1}`
///
/// Equal content gives the same text byte for byte; any change to a value, the critical flag
/// or text, the kind, the version or the accession changes it. The shape is named by
/// [`CANONICAL_FORMAT`]: keep the text of a signed version with its signature, and bump the
/// format if this function ever changes.
pub fn canonical(report: &ValidReport, version: i32, order_accession: &str) -> String {
    let mut out = String::with_capacity(256 + report.fields.values().map(String::len).sum::<usize>());
    out.push_str("{\"critical\":");
    out.push_str(if report.critical { "true" } else { "false" });
    out.push_str(",\"critical_text\":");
    match &report.critical_text {
        Some(text) => push_json_string(&mut out, text),
        None => out.push_str("null"),
    }
    out.push_str(",\"fields\":{");
    for (i, (key, value)) in report.fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, key);
        out.push(':');
        push_json_string(&mut out, value);
    }
    out.push_str("},\"format\":");
    push_json_string(&mut out, CANONICAL_FORMAT);
    out.push_str(",\"kind\":");
    push_json_string(&mut out, report.kind.as_str());
    out.push_str(",\"order_accession\":");
    push_json_string(&mut out, order_accession);
    out.push_str(",\"version\":");
    out.push_str(&version.to_string());
    out.push('}');
    out
}

/// A JSON string as RFC 8785 writes it: the short escapes, `\u00xx` for other control
/// characters, everything else as is.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The templates written out by hand: (key, required) in form order.
    fn expected(kind: ExamKind) -> Vec<(&'static str, bool)> {
        let tail = [("findings", true), ("impression", true)];
        let head: &[(&str, bool)] = match kind {
            ExamKind::Ecg => &[
                ("rhythm", true),
                ("heart_rate", true),
                ("pr_ms", false),
                ("qrs_ms", false),
                ("qtc_ms", false),
            ],
            ExamKind::Dr => &[("body_part", true), ("view", false)],
            ExamKind::Ct | ExamKind::Mr => &[("body_part", true), ("contrast", false)],
            ExamKind::Ultrasound => &[("body_part", true)],
            ExamKind::Lab => &[("specimen", true)],
            ExamKind::Pathology => &[("specimen_site", true), ("gross", true)],
        };
        head.iter().copied().chain(tail).collect()
    }

    #[test]
    fn templates_are_as_transcribed() {
        for &kind in ExamKind::ALL {
            let got: Vec<_> = template(kind).iter().map(|f| (f.key, f.required)).collect();
            assert_eq!(got, expected(kind), "{kind}");
        }
    }

    #[test]
    fn every_template_requires_findings_and_impression_as_text() {
        for &kind in ExamKind::ALL {
            for key in [FINDINGS, IMPRESSION] {
                let field =
                    template(kind).iter().find(|f| f.key == key).unwrap_or_else(|| panic!("{kind} {key}"));
                assert!(field.required && field.kind == FieldKind::Text, "{kind} {key}");
            }
        }
    }

    #[test]
    fn fields_are_well_formed() {
        for &kind in ExamKind::ALL {
            let fields = template(kind);
            for (i, field) in fields.iter().enumerate() {
                assert_eq!(field.path(), format!("fields.{}", field.key));
                assert!(!field.zh.is_empty() && !field.en.is_empty(), "{kind} {}", field.key);
                assert!(fields[..i].iter().all(|f| f.key != field.key), "{kind} {} twice", field.key);
                match field.kind {
                    FieldKind::Number { unit, min, max } => assert!(!unit.is_empty() && min <= max),
                    FieldKind::Choice(choices) => {
                        for (j, c) in choices.iter().enumerate() {
                            assert!(
                                choices[..j].iter().all(|d| d.code != c.code),
                                "{} {}",
                                field.key,
                                c.code
                            );
                        }
                    }
                    FieldKind::Text | FieldKind::Line => {}
                }
            }
        }
    }

    fn draft(pairs: &[(&str, &str)]) -> ReportDraft {
        ReportDraft {
            fields: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..ReportDraft::default()
        }
    }

    /// A valid draft of `kind`: every field of its template filled in.
    fn full(kind: ExamKind) -> ReportDraft {
        let pairs: Vec<_> = template(kind)
            .iter()
            .map(|f| {
                let value = match f.kind {
                    FieldKind::Text => "双肺纹理清晰。\n心影不大。",
                    FieldKind::Line => "胸部",
                    FieldKind::Number { .. } => "120",
                    FieldKind::Choice(choices) => choices[0].code,
                };
                (f.key, value)
            })
            .collect();
        draft(&pairs)
    }

    fn codes(result: Result<ValidReport, Invalid>) -> Vec<(&'static str, &'static str)> {
        result.map_or_else(|e| e.fields.iter().map(|f| (f.field, f.code)).collect(), |_| vec![])
    }

    #[test]
    fn a_full_draft_of_every_kind_is_valid() {
        for &kind in ExamKind::ALL {
            let valid = validate(kind, &full(kind)).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(valid.kind(), kind);
            assert_eq!(valid.fields().len(), template(kind).len());
            assert_eq!(valid.impression(), "双肺纹理清晰。\n心影不大。");
        }
    }

    #[test]
    fn an_empty_draft_names_every_required_field() {
        for &kind in ExamKind::ALL {
            let expect: Vec<_> =
                template(kind).iter().filter(|f| f.required).map(|f| (f.path(), "required")).collect();
            assert_eq!(codes(validate(kind, &ReportDraft::default())), expect, "{kind}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut d = draft(&[
            ("rhythm", "junctional"),
            ("heart_rate", "fast"),
            ("pr_ms", "2000"),
            ("findings", "窦性心动过速"),
            ("impression", "   "),
            ("axis", "-30"),
        ]);
        d.critical = true;
        assert_eq!(
            codes(validate(ExamKind::Ecg, &d)),
            [
                ("fields.rhythm", "unknown_choice"),
                ("fields.heart_rate", "not_a_number"),
                ("fields.pr_ms", "out_of_range"),
                ("fields.impression", "required"),
                ("fields", "unknown_field"),
                ("critical_text", "required"),
            ]
        );
    }

    fn check_heart_rate(value: &str, expect: Result<&str, &str>) {
        let mut d = full(ExamKind::Ecg);
        d.fields.insert("heart_rate".into(), value.into());
        let got = validate(ExamKind::Ecg, &d);
        let got = match &got {
            Ok(valid) => Ok(valid.get("heart_rate").unwrap()),
            Err(e) => Err(e.fields[0].code),
        };
        assert_eq!(got, expect, "{value:?}");
    }

    #[test]
    fn numbers() {
        check_heart_rate("72", Ok("72"));
        check_heart_rate(" 72 ", Ok("72"));
        check_heart_rate("72.5", Ok("72.5"));
        check_heart_rate("1", Ok("1"));
        check_heart_rate("1.0", Ok("1.0"));
        check_heart_rate("400", Ok("400"));
        check_heart_rate("400.000", Ok("400.000"));
        check_heart_rate("0072", Ok("0072"));
        check_heart_rate("0.5", Err("out_of_range"));
        check_heart_rate("0", Err("out_of_range"));
        check_heart_rate("400.01", Err("out_of_range"));
        check_heart_rate("401", Err("out_of_range"));
        check_heart_rate("-72", Err("out_of_range"));
        check_heart_rate("99999999999999999999999999999999999999999999", Err("out_of_range"));
        check_heart_rate("", Err("required"));
        check_heart_rate("72.", Err("not_a_number"));
        check_heart_rate(".5", Err("not_a_number"));
        check_heart_rate("+72", Err("not_a_number"));
        check_heart_rate("1e2", Err("not_a_number"));
        check_heart_rate("7 2", Err("not_a_number"));
        check_heart_rate("72bpm", Err("not_a_number"));
        check_heart_rate("７２", Err("not_a_number"));
        check_heart_rate("-", Err("not_a_number"));
    }

    #[test]
    fn negative_bounds_compare_exactly() {
        let cases = [
            ("-1", Ok(())),
            ("-1.0", Ok(())),
            ("-1.5", Err("out_of_range")),
            ("-0.5", Ok(())),
            ("-0", Ok(())),
            ("0.5", Ok(())),
            ("2", Ok(())),
            ("2.1", Err("out_of_range")),
            ("-2", Err("out_of_range")),
        ];
        for (value, expect) in cases {
            assert_eq!(check_number(value, -1, 2), expect, "{value}");
        }
        assert_eq!(check_number("-3.5", -5, -3), Ok(()));
        assert_eq!(check_number("-2.5", -5, -3), Err("out_of_range"));
        assert_eq!(check_number("-5.5", -5, -3), Err("out_of_range"));
    }

    fn check_length(kind: ExamKind, key: &str, value: &str, expect: Result<(), &str>) {
        let mut d = full(kind);
        d.fields.insert(key.into(), value.into());
        let got = validate(kind, &d).map(|_| ()).map_err(|e| e.fields[0].code);
        assert_eq!(got, expect, "{key} of {} chars", value.chars().count());
    }

    #[test]
    fn lengths_count_characters() {
        check_length(ExamKind::Ct, "findings", &"影".repeat(TEXT_MAX), Ok(()));
        check_length(ExamKind::Ct, "findings", &"影".repeat(TEXT_MAX + 1), Err("too_long"));
        check_length(ExamKind::Ct, "body_part", &"头".repeat(LINE_MAX), Ok(()));
        check_length(ExamKind::Ct, "body_part", &"头".repeat(LINE_MAX + 1), Err("too_long"));
        check_length(ExamKind::Ct, "body_part", "头颅\n胸部", Err("not_single_line"));
        check_length(ExamKind::Ecg, "heart_rate", &"1".repeat(LINE_MAX + 1), Err("too_long"));
    }

    #[test]
    fn values_are_trimmed_and_blank_optionals_dropped() {
        let mut d = full(ExamKind::Ecg);
        d.fields.insert("pr_ms".into(), "  ".into());
        d.fields.insert("findings".into(), "  窦性心律\r\n电轴不偏\r ".into());
        d.critical_text = Some("not critical".into());
        let valid = validate(ExamKind::Ecg, &d).unwrap();
        assert_eq!(valid.get("pr_ms"), None);
        assert_eq!(valid.findings(), "窦性心律\n电轴不偏");
        assert_eq!(valid.critical_text(), None);
    }

    #[test]
    fn a_critical_report_says_what_is_critical() {
        let mut d = full(ExamKind::Lab);
        d.critical = true;
        d.critical_text = Some(" 血钾 6.9 mmol/L ".into());
        let valid = validate(ExamKind::Lab, &d).unwrap();
        assert!(valid.critical());
        assert_eq!(valid.critical_text(), Some("血钾 6.9 mmol/L"));
        d.critical_text = Some("钾".repeat(LINE_MAX + 1));
        assert_eq!(codes(validate(ExamKind::Lab, &d)), [("critical_text", "too_long")]);
    }

    #[test]
    fn a_valid_report_validates_again_unchanged() {
        for &kind in ExamKind::ALL {
            let valid = validate(kind, &full(kind)).unwrap();
            assert_eq!(validate(kind, &ReportDraft::from(&valid)), Ok(valid));
        }
    }

    #[test]
    fn canonical_text_is_pinned() {
        let mut d = draft(&[
            ("body_part", "头颅"),
            ("findings", "左侧基底节区见\"低密度\"影\\\n\t边界清\u{1}"),
            ("impression", "左侧基底节区腔隙性脑梗死"),
        ]);
        d.critical = true;
        d.critical_text = Some("疑似急性脑梗死".into());
        let valid = validate(ExamKind::Ct, &d).unwrap();
        assert_eq!(
            canonical(&valid, 2, "A-2026-0001"),
            concat!(
                r#"{"critical":true,"critical_text":"疑似急性脑梗死","#,
                r#""fields":{"body_part":"头颅","findings":"左侧基底节区见\"低密度\"影\\\n\t边界清\u0001","#,
                r#""impression":"左侧基底节区腔隙性脑梗死"},"format":"yigong.report/1","kind":"ct","#,
                r#""order_accession":"A-2026-0001","version":2}"#,
            )
        );
        d.critical = false;
        assert!(canonical(&validate(ExamKind::Ct, &d).unwrap(), 1, "A").contains(r#""critical_text":null"#));
    }

    #[test]
    fn canonical_text_depends_on_content_only() {
        for &kind in ExamKind::ALL {
            let forward = full(kind);
            let mut backward = ReportDraft::default();
            for (k, v) in forward.fields.iter().rev() {
                backward.fields.insert(k.clone(), format!("  {v}\r\n"));
            }
            let a = canonical(&validate(kind, &forward).unwrap(), 1, "ACC1");
            let b = canonical(&validate(kind, &backward).unwrap(), 1, "ACC1");
            assert_eq!(a, b, "{kind}");
        }
    }

    #[test]
    fn canonical_text_changes_with_any_content() {
        for &kind in ExamKind::ALL {
            let base_draft = full(kind);
            let base = canonical(&validate(kind, &base_draft).unwrap(), 1, "ACC1");
            let mut variants = vec![];
            for field in template(kind) {
                let mut d = base_draft.clone();
                let value = match field.kind {
                    FieldKind::Text => "双肺纹理清晰。\n心影不大",
                    FieldKind::Line => "腹部",
                    FieldKind::Number { .. } => "120.0",
                    FieldKind::Choice(choices) => choices[1].code,
                };
                d.fields.insert(field.key.to_owned(), value.to_owned());
                variants.push((field.key, d));
                if !field.required {
                    let mut d = base_draft.clone();
                    d.fields.remove(field.key);
                    variants.push((field.key, d));
                }
            }
            let mut critical = base_draft.clone();
            critical.critical = true;
            critical.critical_text = Some("危急".into());
            let mut other_text = critical.clone();
            other_text.critical_text = Some("危急值".into());
            variants.push(("critical", critical));
            variants.push(("critical_text", other_text));
            let mut texts = vec![base.clone()];
            for (what, d) in &variants {
                texts.push(canonical(&validate(kind, d).unwrap(), 1, "ACC1"));
                assert_ne!(texts.last(), Some(&base), "{kind} {what}");
            }
            let valid = validate(kind, &base_draft).unwrap();
            assert_ne!(canonical(&valid, 2, "ACC1"), base, "{kind} version");
            assert_ne!(canonical(&valid, 1, "ACC2"), base, "{kind} accession");
            let other_kind =
                ExamKind::ALL.iter().copied().find(|&k| k != kind && template(k) == template(kind));
            if let Some(other) = other_kind {
                assert_ne!(canonical(&validate(other, &base_draft).unwrap(), 1, "ACC1"), base, "{kind} kind");
            }
            let unique: std::collections::BTreeSet<_> = texts.iter().collect();
            assert_eq!(unique.len(), texts.len(), "{kind}: two variants hash alike");
        }
    }
}
