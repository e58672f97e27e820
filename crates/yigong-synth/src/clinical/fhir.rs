//! The FHIR R4 (4.0.1) JSON of each resource of the clinical year: code systems, the shape of
//! each resource, dates with the China offset and decimals written with their precision.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The patient reference the loader replaces with the id of the registration's record.
pub const PATIENT: &str = "Patient/{PATIENT}";

pub(super) const ICD10: &str = "urn:oid:2.16.156.10011.2.3.3.11";
pub(super) const DRUG_CATALOGUE: &str = "urn:yigong:catalogue:drug";
pub(super) const ALLERGEN_CATALOGUE: &str = "urn:yigong:catalogue:allergen";
pub(super) const PRESCRIPTION: &str = "urn:yigong:prescription";
pub(super) const LOINC: &str = "http://loinc.org";
pub(super) const UCUM: &str = "http://unitsofmeasure.org";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// A JSON object from `"key" => value` pairs, each value moved in: `json!` would serialise an
/// interpolated `Value` a second time, and most of the time of the clinical year went there.
macro_rules! object {
    ($($key:literal => $value:expr),* $(,)?) => {{
        let mut map = Map::with_capacity(object!(@count $($key)*));
        $(map.insert(String::from($key), Value::from($value));)*
        map
    }};
    (@count) => { 0 };
    (@count $head:literal $($tail:literal)*) => { 1 + object!(@count $($tail)*) };
}

/// `2026-03-14T09:20:00+08:00`: China time as FHIR writes a dateTime (and an instant).
pub(super) fn datetime(t: NaiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `2026-03-14`.
pub(super) fn date(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// The UTC instant of a China time.
pub(super) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&(t - TimeDelta::hours(8)))
}

/// A decimal written with `places` digits after the point, kept as written (`6.10`, not `6.1`:
/// serde_json's `arbitrary_precision` keeps a number's text).
pub(super) fn decimal(x: f64, places: usize) -> Value {
    let text = format!("{x:.places$}");
    Value::Number(serde_json::from_str(&text).expect("a formatted number parses"))
}

pub(super) fn coding(system: &str, code: &str, display: &str) -> Value {
    Value::Object(object! {"system" => system, "code" => code, "display" => display})
}

/// A CodeableConcept of one coding, its display as text.
pub(super) fn concept(system: &str, code: &str, display: &str) -> Value {
    Value::Object(object! {"coding" => vec![coding(system, code, display)], "text" => display})
}

/// A CodeableConcept of one coding without text (status codes).
fn coded(system: &str, code: &str, display: &str) -> Value {
    Value::Object(object! {"coding" => vec![coding(system, code, display)]})
}

/// A CodeableConcept of text only.
fn text(text: &str) -> Value {
    Value::Object(object! {"text" => text})
}

pub(super) fn reference(target: &str) -> Value {
    Value::Object(object! {"reference" => target})
}

/// A UCUM quantity.
fn ucum(value: impl Into<Value>, unit: &str, code: &str) -> Value {
    Value::Object(object! {"value" => value.into(), "unit" => unit, "system" => UCUM, "code" => code})
}

/// What every resource of one encounter shares.
pub(super) struct Context<'a> {
    /// `Encounter/{id}`.
    pub encounter: &'a str,
    /// `Practitioner/{id}` of the doctor, if the institution has one on that day.
    pub doctor: Option<&'a str>,
    /// `Organization/{id}`.
    pub organization: &'a str,
}

/// The class of an encounter: code and Chinese display.
pub(super) fn class(code: &str) -> Value {
    let display = match code {
        "AMB" => "门诊",
        "EMER" => "急诊",
        "HH" => "家庭访视",
        _ => "住院",
    };
    coding(ACT_CODE, code, display)
}

/// A finished encounter.
pub(super) struct EncounterParts<'a> {
    pub id: Uuid,
    pub class: &'a str,
    pub type_text: &'a str,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub conditions: &'a [Uuid],
    /// Days of an admission, and whether it came through the emergency department.
    pub stay: Option<(i64, bool)>,
}

pub(super) fn encounter(ctx: &Context, e: &EncounterParts) -> Value {
    let mut map = object! {
        "resourceType" => "Encounter",
        "id" => e.id.to_string(),
        "status" => "finished",
        "class" => class(e.class),
        "type" => vec![text(e.type_text)],
        "subject" => reference(PATIENT),
    };
    if e.class == "EMER" {
        map.insert(
            "priority".into(),
            coded("http://terminology.hl7.org/CodeSystem/v3-ActPriority", "EM", "紧急"),
        );
    }
    if let Some(doctor) = ctx.doctor {
        let (code, display) =
            if e.stay.is_some() { ("ATND", "主治医师") } else { ("PPRF", "接诊医师") };
        let kind = coded("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", code, display);
        let participant = object! {"type" => vec![kind], "individual" => reference(doctor)};
        map.insert("participant".into(), Value::from(vec![Value::Object(participant)]));
    }
    let period = object! {"start" => datetime(e.start), "end" => datetime(e.end)};
    map.insert("period".into(), Value::Object(period));
    if let Some((days, _)) = e.stay {
        map.insert("length".into(), ucum(days, "天", "d"));
    }
    let diagnoses: Vec<Value> = e
        .conditions
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let mut d = object! {"condition" => reference(&format!("Condition/{c}"))};
            if e.stay.is_some() {
                let role = coded("http://terminology.hl7.org/CodeSystem/diagnosis-role", "DD", "出院诊断");
                d.insert("use".into(), role);
            }
            d.insert("rank".into(), Value::from(k + 1));
            Value::Object(d)
        })
        .collect();
    map.insert("diagnosis".into(), Value::from(diagnoses));
    if let Some((_, emergency)) = e.stay {
        let (code, display) = if emergency { ("emd", "急诊入院") } else { ("outp", "门诊入院") };
        let hospitalization = object! {
            "admitSource" => coded("http://terminology.hl7.org/CodeSystem/admit-source", code, display),
            "dischargeDisposition" =>
                coded("http://terminology.hl7.org/CodeSystem/discharge-disposition", "home", "出院回家"),
        };
        map.insert("hospitalization".into(), Value::Object(hospitalization));
    }
    map.insert("serviceProvider".into(), reference(ctx.organization));
    Value::Object(map)
}

/// An encounter diagnosis, ICD-10 national clinical edition 2.0.
pub(super) fn condition(ctx: &Context, id: Uuid, code: &str, name: &str, recorded: NaiveDateTime) -> Value {
    let mut map = object! {
        "resourceType" => "Condition",
        "id" => id.to_string(),
        "clinicalStatus" => coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "活动"),
        "verificationStatus" =>
            coded("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "已确认"),
        "category" => vec![coded(
            "http://terminology.hl7.org/CodeSystem/condition-category",
            "encounter-diagnosis",
            "就诊诊断",
        )],
        "code" => concept(ICD10, code, name),
        "subject" => reference(PATIENT),
        "encounter" => reference(ctx.encounter),
        "recordedDate" => datetime(recorded),
    };
    if let Some(doctor) = ctx.doctor {
        map.insert("recorder".into(), reference(doctor));
    }
    Value::Object(map)
}

/// One measured quantity: LOINC code, Chinese name, UCUM code and its display, digits after the
/// point.
#[derive(Clone, Copy)]
pub(super) struct Test {
    pub loinc: &'static str,
    pub name: &'static str,
    pub ucum: &'static str,
    pub unit: &'static str,
    pub places: usize,
    pub laboratory: bool,
}

pub(super) const HEART_RATE: Test =
    Test { loinc: "8867-4", name: "心率", ucum: "/min", unit: "次/分", places: 0, laboratory: false };
pub(super) const TEMPERATURE: Test =
    Test { loinc: "8310-5", name: "体温", ucum: "Cel", unit: "℃", places: 1, laboratory: false };
pub(super) const GLUCOSE: Test =
    Test {
        loinc: "14771-0", name: "空腹血糖", ucum: "mmol/L", unit: "mmol/L", places: 2, laboratory: true
    };
pub(super) const CAPILLARY_GLUCOSE: Test = Test {
    loinc: "14770-2",
    name: "空腹指尖血糖",
    ucum: "mmol/L",
    unit: "mmol/L",
    places: 1,
    laboratory: true,
};
pub(super) const HBA1C: Test =
    Test { loinc: "4548-4", name: "糖化血红蛋白", ucum: "%", unit: "%", places: 1, laboratory: true };
pub(super) const CREATININE: Test =
    Test { loinc: "14682-9", name: "肌酐", ucum: "umol/L", unit: "μmol/L", places: 0, laboratory: true };

/// High, low or normal against a range (HL7 v3 ObservationInterpretation).
pub(super) fn flag(value: f64, low: f64, high: f64) -> &'static str {
    if value > high {
        "H"
    } else if value < low {
        "L"
    } else {
        "N"
    }
}

fn interpretation(code: &str) -> Value {
    let display = match code {
        "H" => "偏高",
        "L" => "偏低",
        _ => "正常",
    };
    Value::from(vec![coded(INTERPRETATION, code, display)])
}

fn quantity(value: Value, test: &Test) -> Value {
    ucum(value, test.unit, test.ucum)
}

fn observation_base(
    ctx: &Context,
    id: Uuid,
    laboratory: bool,
    code: Value,
    at: NaiveDateTime,
) -> Map<String, Value> {
    let category = if laboratory {
        coded(OBSERVATION_CATEGORY, "laboratory", "实验室检查")
    } else {
        coded(OBSERVATION_CATEGORY, "vital-signs", "生命体征")
    };
    let mut map = object! {
        "resourceType" => "Observation",
        "id" => id.to_string(),
        "status" => "final",
        "category" => vec![category],
        "code" => code,
        "subject" => reference(PATIENT),
        "encounter" => reference(ctx.encounter),
        "effectiveDateTime" => datetime(at),
    };
    if laboratory {
        map.insert("issued".into(), Value::from(datetime(at + TimeDelta::minutes(95))));
    }
    if let Some(doctor) = ctx.doctor {
        map.insert("performer".into(), Value::from(vec![reference(doctor)]));
    }
    map
}

/// A single measured value; `range` gives the reference range and the interpretation, which a
/// value without range carries only when `abnormal` says so.
pub(super) fn measurement(
    ctx: &Context,
    id: Uuid,
    test: &Test,
    value: f64,
    range: Option<(f64, f64)>,
    abnormal: Option<&str>,
    at: NaiveDateTime,
) -> Value {
    let mut map = observation_base(ctx, id, test.laboratory, concept(LOINC, test.loinc, test.name), at);
    map.insert("valueQuantity".into(), quantity(decimal(value, test.places), test));
    let flag = match range {
        Some((low, high)) => Some(flag(value, low, high)),
        None => abnormal,
    };
    if let Some(f) = flag {
        map.insert("interpretation".into(), interpretation(f));
    }
    if let Some((low, high)) = range {
        let range = object! {
            "low" => quantity(decimal(low, test.places), test),
            "high" => quantity(decimal(high, test.places), test),
        };
        map.insert("referenceRange".into(), Value::from(vec![Value::Object(range)]));
    }
    Value::Object(map)
}

/// A blood-pressure panel (LOINC 85354-9) with its systolic and diastolic components.
pub(super) fn blood_pressure(
    ctx: &Context,
    id: Uuid,
    systolic: u32,
    diastolic: u32,
    at: NaiveDateTime,
) -> Value {
    let mut map = observation_base(ctx, id, false, concept(LOINC, "85354-9", "血压"), at);
    let component = |code: &str, name: &str, value: u32, high: u32| {
        let mut c = object! {
            "code" => concept(LOINC, code, name),
            "valueQuantity" => ucum(value, "mmHg", "mm[Hg]"),
        };
        if value >= high {
            c.insert("interpretation".into(), interpretation("H"));
        }
        Value::Object(c)
    };
    let components =
        vec![component("8480-6", "收缩压", systolic, 140), component("8462-4", "舒张压", diastolic, 90)];
    map.insert("component".into(), Value::from(components));
    Value::Object(map)
}

/// A chemistry report of the observations `results`.
pub(super) fn diagnostic_report(ctx: &Context, id: Uuid, results: &[Uuid], at: NaiveDateTime) -> Value {
    let results: Vec<Value> = results.iter().map(|r| reference(&format!("Observation/{r}"))).collect();
    let mut map = object! {
        "resourceType" => "DiagnosticReport",
        "id" => id.to_string(),
        "status" => "final",
        "category" => vec![coded("http://terminology.hl7.org/CodeSystem/v2-0074", "CH", "生化")],
        "code" => text("生化检验"),
        "subject" => reference(PATIENT),
        "encounter" => reference(ctx.encounter),
        "effectiveDateTime" => datetime(at),
        "issued" => datetime(at + TimeDelta::minutes(95)),
        "performer" => vec![reference(ctx.organization)],
    };
    if let Some(doctor) = ctx.doctor {
        map.insert("resultsInterpreter".into(), Value::from(vec![reference(doctor)]));
    }
    map.insert("result".into(), Value::from(results));
    Value::Object(map)
}

/// One prescription line.
pub(super) struct Line<'a> {
    pub id: Uuid,
    /// Identifies the prescription the line belongs to.
    pub prescription: &'a str,
    pub code: &'a str,
    pub display: &'a str,
    pub instruction: &'a str,
    pub route: &'a str,
    /// The dose as written (`1`, `0.5`; empty for 适量) and its unit.
    pub dose: &'a str,
    pub dose_unit: &'a str,
    /// Times a day; 0 as needed.
    pub per_day: u8,
    pub quantity: u32,
    pub quantity_unit: &'a str,
    pub days: u32,
    pub inpatient: bool,
    pub active: bool,
    pub authored: NaiveDateTime,
}

pub(super) fn medication_request(ctx: &Context, l: &Line) -> Value {
    let (category, category_display) =
        if l.inpatient { ("inpatient", "住院") } else { ("outpatient", "门诊") };
    let mut dosage = object! {"sequence" => 1, "text" => l.instruction};
    if l.per_day > 0 {
        let repeat = object! {"frequency" => l.per_day, "period" => 1, "periodUnit" => "d"};
        dosage.insert("timing".into(), Value::Object(object! {"repeat" => Value::Object(repeat)}));
    } else {
        dosage.insert("asNeededBoolean".into(), Value::Bool(true));
    }
    dosage.insert("route".into(), text(l.route));
    if !l.dose.is_empty() {
        let dose: serde_json::Number = serde_json::from_str(l.dose).expect("catalogue doses are numbers");
        let quantity = object! {"value" => dose, "unit" => l.dose_unit};
        let rate = object! {"doseQuantity" => Value::Object(quantity)};
        dosage.insert("doseAndRate".into(), Value::from(vec![Value::Object(rate)]));
    }
    let mut map = object! {
        "resourceType" => "MedicationRequest",
        "id" => l.id.to_string(),
        "groupIdentifier" => Value::Object(object! {"system" => PRESCRIPTION, "value" => l.prescription}),
        "status" => if l.active { "active" } else { "completed" },
        "intent" => "order",
        "category" => vec![coded(
            "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
            category,
            category_display,
        )],
        "medicationCodeableConcept" => concept(DRUG_CATALOGUE, l.code, l.display),
        "subject" => reference(PATIENT),
        "encounter" => reference(ctx.encounter),
        "authoredOn" => datetime(l.authored),
    };
    if let Some(doctor) = ctx.doctor {
        map.insert("requester".into(), reference(doctor));
    }
    map.insert("dosageInstruction".into(), Value::from(vec![Value::Object(dosage)]));
    let dispense = object! {
        "quantity" => Value::Object(object! {"value" => l.quantity, "unit" => l.quantity_unit}),
        "expectedSupplyDuration" => ucum(l.days, "天", "d"),
    };
    map.insert("dispenseRequest".into(), Value::Object(dispense));
    Value::Object(map)
}

/// A recorded allergy.
pub(super) fn allergy(
    ctx: &Context,
    id: Uuid,
    allergen: &super::catalogue::Allergen,
    recorded: NaiveDateTime,
) -> Value {
    let code = object! {
        "coding" => vec![coding(ALLERGEN_CATALOGUE, allergen.code, allergen.name)],
        "text" => format!("{}过敏", allergen.name),
    };
    let mut map = object! {
        "resourceType" => "AllergyIntolerance",
        "id" => id.to_string(),
        "clinicalStatus" =>
            coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "活动"),
        "verificationStatus" =>
            coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "已确认"),
        "type" => "allergy",
        "category" => vec![allergen.category],
        "criticality" => allergen.criticality,
        "code" => Value::Object(code),
        "patient" => reference(PATIENT),
        "encounter" => reference(ctx.encounter),
        "recordedDate" => datetime(recorded),
    };
    if let Some(doctor) = ctx.doctor {
        map.insert("recorder".into(), reference(doctor));
    }
    let severity = if allergen.criticality == "high" { "moderate" } else { "mild" };
    let reaction = object! {"manifestation" => vec![text(allergen.reaction)], "severity" => severity};
    map.insert("reaction".into(), Value::from(vec![Value::Object(reaction)]));
    Value::Object(map)
}

/// The discharge summary (出院小结) of an admission, its text in base64.
pub(super) fn discharge_summary(
    ctx: &Context,
    id: Uuid,
    summary: &str,
    (admitted, discharged): (NaiveDateTime, NaiveDateTime),
) -> Value {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(summary.as_bytes());
    let mut map = object! {
        "resourceType" => "DocumentReference",
        "id" => id.to_string(),
        "status" => "current",
        "docStatus" => "final",
        "type" => concept(LOINC, "18842-5", "出院小结"),
        "subject" => reference(PATIENT),
        "date" => datetime(discharged),
    };
    if let Some(doctor) = ctx.doctor {
        map.insert("author".into(), Value::from(vec![reference(doctor)]));
    }
    map.insert("custodian".into(), reference(ctx.organization));
    let attachment = object! {
        "contentType" => "text/plain; charset=utf-8",
        "language" => "zh-CN",
        "data" => data,
        "title" => "出院小结",
        "creation" => datetime(discharged),
    };
    let content = object! {"attachment" => Value::Object(attachment)};
    map.insert("content".into(), Value::from(vec![Value::Object(content)]));
    let period = object! {"start" => datetime(admitted), "end" => datetime(discharged)};
    let context = object! {"encounter" => vec![reference(ctx.encounter)], "period" => Value::Object(period)};
    map.insert("context".into(), Value::Object(context));
    Value::Object(map)
}
