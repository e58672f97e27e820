//! The fixed tables of the clinical year: common county diagnoses (ICD-10 national clinical
//! edition 2.0, codes and Chinese names), the consortium's essential-medicine catalogue (generic
//! Chinese names; local codes `D0001`… in list order, never national codes), allergens, and the
//! weights with which diagnoses are drawn for each kind of visit and age band.

/// What a diagnosis is treated as: it fixes the observations taken, the season of respiratory
/// illness and the sentence of a discharge summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Group {
    Respiratory,
    Digestive,
    Circulatory,
    Endocrine,
    Nervous,
    Musculoskeletal,
    Urinary,
    Skin,
    EyeEar,
    Injury,
    Obstetric,
    Infection,
    Symptom,
    Checkup,
}

/// One diagnosis: code, Chinese name, group, whether it comes with fever, and the medicines a
/// doctor picks from (catalogue names).
pub(super) struct Diagnosis {
    pub code: &'static str,
    pub name: &'static str,
    pub group: Group,
    pub fever: bool,
    pub drugs: &'static [&'static str],
}

const fn dx(
    code: &'static str,
    name: &'static str,
    group: Group,
    fever: bool,
    drugs: &'static [&'static str],
) -> Diagnosis {
    Diagnosis { code, name, group, fever, drugs }
}

use Group::*;

/// Hypertension and type 2 diabetes, the two chronic diseases under follow-up.
pub(super) const HYPERTENSION: &str = "I10.x00x002";
pub(super) const DIABETES: &str = "E11.900";
pub(super) const CHECKUP: &str = "Z00.000";
pub(super) const PRENATAL: &str = "Z34.900";

const ANTIHYPERTENSIVES: &[&str] = &[
    "硝苯地平缓释片",
    "苯磺酸氨氯地平片",
    "厄贝沙坦片",
    "卡托普利片",
    "酒石酸美托洛尔片",
    "吲达帕胺片",
    "马来酸依那普利片",
    "缬沙坦胶囊",
    "氢氯噻嗪片",
];
const ANTIDIABETICS: &[&str] = &["二甲双胍片", "格列美脲片", "阿卡波糖片", "格列齐德缓释片"];

/// The medicines of a hypertensive and of a diabetic patient's standing regimen.
pub(super) const HYPERTENSION_DRUGS: &[&str] = ANTIHYPERTENSIVES;
pub(super) const DIABETES_DRUGS: &[&str] = ANTIDIABETICS;

pub(super) const DIAGNOSES: &[Diagnosis] = &[
    dx("I10.x00x002", "高血压", Circulatory, false, ANTIHYPERTENSIVES),
    dx("E11.900", "2型糖尿病", Endocrine, false, ANTIDIABETICS),
    dx(
        "J06.900",
        "急性上呼吸道感染",
        Respiratory,
        true,
        &["对乙酰氨基酚片", "板蓝根颗粒", "连花清瘟胶囊", "马来酸氯苯那敏片"],
    ),
    dx(
        "J00.x00",
        "急性鼻咽炎[感冒]",
        Respiratory,
        true,
        &["对乙酰氨基酚片", "板蓝根颗粒", "马来酸氯苯那敏片"],
    ),
    dx("J02.900", "急性咽炎", Respiratory, true, &["阿莫西林胶囊", "板蓝根颗粒", "对乙酰氨基酚片"]),
    dx("J03.900", "急性扁桃体炎", Respiratory, true, &["阿莫西林胶囊", "头孢呋辛酯片", "布洛芬缓释胶囊"]),
    dx(
        "J20.900",
        "急性支气管炎",
        Respiratory,
        true,
        &["盐酸氨溴索片", "复方甘草片", "阿莫西林胶囊", "阿奇霉素片"],
    ),
    dx("J11.100", "流行性感冒", Respiratory, true, &["奥司他韦胶囊", "对乙酰氨基酚片", "连花清瘟胶囊"]),
    dx("J18.900", "肺炎", Respiratory, true, &["头孢呋辛酯片", "阿奇霉素片", "左氧氟沙星片", "盐酸氨溴索片"]),
    dx("J21.900", "急性毛细支气管炎", Respiratory, true, &["盐酸氨溴索片", "布洛芬混悬液"]),
    dx(
        "J44.900",
        "慢性阻塞性肺病",
        Respiratory,
        false,
        &["布地奈德福莫特罗粉吸入剂", "盐酸氨溴索片", "硫酸沙丁胺醇吸入气雾剂"],
    ),
    dx(
        "J44.100",
        "慢性阻塞性肺病伴有急性加重",
        Respiratory,
        true,
        &["左氧氟沙星片", "盐酸氨溴索片", "硫酸沙丁胺醇吸入气雾剂"],
    ),
    dx(
        "J45.900",
        "哮喘",
        Respiratory,
        false,
        &["硫酸沙丁胺醇吸入气雾剂", "布地奈德福莫特罗粉吸入剂", "氯雷他定片"],
    ),
    dx("K29.700", "胃炎", Digestive, false, &["奥美拉唑肠溶胶囊", "铝碳酸镁咀嚼片", "多潘立酮片"]),
    dx("K29.500", "慢性胃炎", Digestive, false, &["奥美拉唑肠溶胶囊", "雷尼替丁胶囊", "铝碳酸镁咀嚼片"]),
    dx("K21.900", "胃食管反流病", Digestive, false, &["奥美拉唑肠溶胶囊", "多潘立酮片"]),
    dx(
        "A09.900",
        "急性胃肠炎",
        Digestive,
        true,
        &["蒙脱石散", "口服补液盐散(Ⅲ)", "藿香正气水", "诺氟沙星胶囊"],
    ),
    dx("K59.000", "便秘", Digestive, false, &["乳果糖口服溶液"]),
    dx("K35.800", "急性阑尾炎", Digestive, true, &["头孢呋辛酯片", "甲硝唑片"]),
    dx("K80.200", "胆囊结石", Digestive, false, &["消炎利胆片", "熊去氧胆酸片"]),
    dx("K81.000", "急性胆囊炎", Digestive, true, &["头孢呋辛酯片", "甲硝唑片", "消炎利胆片"]),
    dx("E78.500", "高脂血症", Endocrine, false, &["阿托伐他汀钙片", "辛伐他汀片"]),
    dx(
        "I25.100",
        "动脉粥样硬化性心脏病",
        Circulatory,
        false,
        &["阿司匹林肠溶片", "阿托伐他汀钙片", "单硝酸异山梨酯片", "复方丹参滴丸"],
    ),
    dx(
        "I20.000",
        "不稳定型心绞痛",
        Circulatory,
        false,
        &["阿司匹林肠溶片", "硫酸氢氯吡格雷片", "单硝酸异山梨酯片", "硝酸甘油片"],
    ),
    dx("I50.900", "心力衰竭", Circulatory, false, &["呋塞米片", "螺内酯片", "地高辛片"]),
    dx("I63.900", "脑梗死", Circulatory, false, &["阿司匹林肠溶片", "阿托伐他汀钙片", "硫酸氢氯吡格雷片"]),
    dx("I69.300", "脑梗死后遗症", Circulatory, false, &["阿司匹林肠溶片", "阿托伐他汀钙片"]),
    dx("N39.000", "泌尿道感染", Urinary, true, &["左氧氟沙星片", "呋喃妥因肠溶片", "复方磺胺甲噁唑片"]),
    dx("N40.x00", "前列腺增生", Urinary, false, &["盐酸坦索罗辛缓释胶囊"]),
    dx("N18.900", "慢性肾脏病", Urinary, false, &["碳酸钙D3片", "叶酸片"]),
    dx("M17.900", "膝关节病", Musculoskeletal, false, &["双氯芬酸钠缓释片", "美洛昔康片"]),
    dx("M54.500", "下背痛", Musculoskeletal, false, &["双氯芬酸钠缓释片", "布洛芬缓释胶囊"]),
    dx("M51.202", "腰椎间盘突出", Musculoskeletal, false, &["双氯芬酸钠缓释片", "美洛昔康片"]),
    dx("M54.200", "颈痛", Musculoskeletal, false, &["布洛芬缓释胶囊", "美洛昔康片"]),
    dx("M81.900", "骨质疏松", Musculoskeletal, false, &["碳酸钙D3片"]),
    dx("L30.900", "皮炎", Skin, false, &["炉甘石洗剂", "氯雷他定片"]),
    dx("L50.900", "荨麻疹", Skin, false, &["氯雷他定片", "马来酸氯苯那敏片"]),
    dx("L08.900", "皮肤感染", Skin, false, &["红霉素软膏", "头孢氨苄胶囊"]),
    dx("H10.900", "结膜炎", EyeEar, false, &["氧氟沙星滴眼液"]),
    dx("H66.900", "中耳炎", EyeEar, true, &["阿莫西林胶囊", "头孢呋辛酯片"]),
    dx("R50.900", "发热", Symptom, true, &["对乙酰氨基酚片", "布洛芬缓释胶囊"]),
    dx("R51.x00", "头痛", Symptom, false, &["对乙酰氨基酚片", "布洛芬缓释胶囊"]),
    dx("R10.400", "腹痛", Symptom, false, &["颠茄片", "铝碳酸镁咀嚼片"]),
    dx("R07.400", "胸痛", Symptom, false, &["阿司匹林肠溶片", "单硝酸异山梨酯片"]),
    dx("G47.000", "失眠", Nervous, false, &["艾司唑仑片", "地西泮片"]),
    dx("D50.900", "缺铁性贫血", Symptom, false, &["硫酸亚铁片", "叶酸片"]),
    dx("E55.900", "维生素D缺乏", Endocrine, false, &["维生素D滴剂"]),
    dx("B08.400", "手足口病", Infection, true, &["布洛芬混悬液", "蒙脱石散"]),
    dx("T14.000", "体表浅表损伤", Injury, false, &["红霉素软膏", "布洛芬缓释胶囊"]),
    dx("T14.100", "开放性伤口", Injury, false, &["头孢氨苄胶囊", "红霉素软膏"]),
    dx("S52.500", "桡骨下端骨折", Injury, false, &["布洛芬缓释胶囊", "双氯芬酸钠缓释片"]),
    dx("S72.000", "股骨颈骨折", Injury, false, &["双氯芬酸钠缓释片"]),
    dx("S06.000", "脑震荡", Injury, false, &["对乙酰氨基酚片"]),
    dx("T65.900", "急性中毒", Injury, false, &[]),
    dx("O80.000", "单胎顺产", Obstetric, false, &["缩宫素注射液"]),
    dx("O82.000", "经选择性剖宫产术的单胎分娩", Obstetric, false, &["缩宫素注射液", "注射用头孢曲松钠"]),
    dx("Z34.900", "正常妊娠监督", Obstetric, false, &["叶酸片"]),
    dx("Z00.000", "健康查体", Checkup, false, &[]),
];

/// How one medicine is taken: `dose` `dose_unit` (`""` for 适量) `per_day` times a day
/// (`0`: as needed), by `route`; `pack` fixes the quantity dispensed (one tube of ointment)
/// instead of counting doses.
pub(super) struct Drug {
    pub name: &'static str,
    pub spec: &'static str,
    pub route: &'static str,
    pub dose: &'static str,
    pub dose_unit: &'static str,
    pub per_day: u8,
    pub pack: Option<(u32, &'static str)>,
}

const fn drug(
    name: &'static str,
    spec: &'static str,
    route: &'static str,
    (dose, dose_unit): (&'static str, &'static str),
    per_day: u8,
    pack: Option<(u32, &'static str)>,
) -> Drug {
    Drug { name, spec, route, dose, dose_unit, per_day, pack }
}

const ORAL: &str = "口服";
const DRIP: &str = "静脉滴注";

/// The consortium's catalogue of essential medicines (2018 national essential list, generic
/// names); the local code of entry `k` is `D{k+1:04}`.
pub(super) const DRUGS: &[Drug] = &[
    drug("硝苯地平缓释片", "10mg", ORAL, ("1", "片"), 2, None),
    drug("苯磺酸氨氯地平片", "5mg", ORAL, ("1", "片"), 1, None),
    drug("厄贝沙坦片", "150mg", ORAL, ("1", "片"), 1, None),
    drug("卡托普利片", "25mg", ORAL, ("1", "片"), 3, None),
    drug("酒石酸美托洛尔片", "25mg", ORAL, ("1", "片"), 2, None),
    drug("吲达帕胺片", "2.5mg", ORAL, ("1", "片"), 1, None),
    drug("氢氯噻嗪片", "25mg", ORAL, ("1", "片"), 1, None),
    drug("马来酸依那普利片", "10mg", ORAL, ("1", "片"), 1, None),
    drug("缬沙坦胶囊", "80mg", ORAL, ("1", "粒"), 1, None),
    drug("阿司匹林肠溶片", "100mg", ORAL, ("1", "片"), 1, None),
    drug("阿托伐他汀钙片", "20mg", ORAL, ("1", "片"), 1, None),
    drug("辛伐他汀片", "20mg", ORAL, ("1", "片"), 1, None),
    drug("单硝酸异山梨酯片", "20mg", ORAL, ("1", "片"), 2, None),
    drug("硝酸甘油片", "0.5mg", "舌下含服", ("1", "片"), 0, Some((20, "片"))),
    drug("硫酸氢氯吡格雷片", "75mg", ORAL, ("1", "片"), 1, None),
    drug("呋塞米片", "20mg", ORAL, ("1", "片"), 1, None),
    drug("螺内酯片", "20mg", ORAL, ("1", "片"), 1, None),
    drug("地高辛片", "0.25mg", ORAL, ("0.5", "片"), 1, Some((30, "片"))),
    drug("二甲双胍片", "0.5g", ORAL, ("1", "片"), 3, None),
    drug("格列美脲片", "2mg", ORAL, ("1", "片"), 1, None),
    drug("阿卡波糖片", "50mg", ORAL, ("1", "片"), 3, None),
    drug("格列齐德缓释片", "30mg", ORAL, ("1", "片"), 1, None),
    drug("阿莫西林胶囊", "0.25g", ORAL, ("2", "粒"), 3, None),
    drug("头孢氨苄胶囊", "0.25g", ORAL, ("2", "粒"), 4, None),
    drug("头孢呋辛酯片", "0.25g", ORAL, ("1", "片"), 2, None),
    drug("阿奇霉素片", "0.25g", ORAL, ("2", "片"), 1, None),
    drug("左氧氟沙星片", "0.5g", ORAL, ("1", "片"), 1, None),
    drug("甲硝唑片", "0.2g", ORAL, ("2", "片"), 3, None),
    drug("复方磺胺甲噁唑片", "0.48g", ORAL, ("2", "片"), 2, None),
    drug("呋喃妥因肠溶片", "50mg", ORAL, ("1", "片"), 3, None),
    drug("诺氟沙星胶囊", "0.1g", ORAL, ("2", "粒"), 2, None),
    drug("奥司他韦胶囊", "75mg", ORAL, ("1", "粒"), 2, None),
    drug("对乙酰氨基酚片", "0.5g", ORAL, ("1", "片"), 3, None),
    drug("布洛芬缓释胶囊", "0.3g", ORAL, ("1", "粒"), 2, None),
    drug("布洛芬混悬液", "100ml:2g", ORAL, ("5", "ml"), 3, Some((1, "瓶"))),
    drug("双氯芬酸钠缓释片", "75mg", ORAL, ("1", "片"), 1, None),
    drug("美洛昔康片", "7.5mg", ORAL, ("1", "片"), 1, None),
    drug("盐酸氨溴索片", "30mg", ORAL, ("1", "片"), 3, None),
    drug("复方甘草片", "", ORAL, ("3", "片"), 3, None),
    drug("硫酸沙丁胺醇吸入气雾剂", "100μg/揿", "吸入", ("2", "揿"), 0, Some((1, "支"))),
    drug("布地奈德福莫特罗粉吸入剂", "160μg/4.5μg", "吸入", ("1", "吸"), 2, Some((1, "支"))),
    drug("氯雷他定片", "10mg", ORAL, ("1", "片"), 1, None),
    drug("马来酸氯苯那敏片", "4mg", ORAL, ("1", "片"), 3, None),
    drug("奥美拉唑肠溶胶囊", "20mg", ORAL, ("1", "粒"), 2, None),
    drug("雷尼替丁胶囊", "0.15g", ORAL, ("1", "粒"), 2, None),
    drug("铝碳酸镁咀嚼片", "0.5g", "嚼服", ("2", "片"), 3, None),
    drug("多潘立酮片", "10mg", ORAL, ("1", "片"), 3, None),
    drug("颠茄片", "10mg", ORAL, ("1", "片"), 3, None),
    drug("蒙脱石散", "3g", ORAL, ("1", "袋"), 3, None),
    drug("口服补液盐散(Ⅲ)", "5.125g", ORAL, ("1", "袋"), 3, None),
    drug("乳果糖口服溶液", "100ml:66.7g", ORAL, ("15", "ml"), 1, Some((1, "瓶"))),
    drug("消炎利胆片", "0.25g", ORAL, ("6", "片"), 3, None),
    drug("熊去氧胆酸片", "50mg", ORAL, ("2", "片"), 3, None),
    drug("叶酸片", "0.4mg", ORAL, ("1", "片"), 1, None),
    drug("硫酸亚铁片", "0.3g", ORAL, ("1", "片"), 3, None),
    drug("维生素D滴剂", "400IU", ORAL, ("1", "粒"), 1, None),
    drug("碳酸钙D3片", "600mg", ORAL, ("1", "片"), 1, None),
    drug("艾司唑仑片", "1mg", ORAL, ("1", "片"), 1, None),
    drug("地西泮片", "2.5mg", ORAL, ("1", "片"), 1, None),
    drug("红霉素软膏", "1%", "外用", ("", ""), 2, Some((1, "支"))),
    drug("炉甘石洗剂", "100ml", "外用", ("", ""), 3, Some((1, "瓶"))),
    drug("氧氟沙星滴眼液", "5ml:15mg", "滴眼", ("1", "滴"), 4, Some((1, "支"))),
    drug("盐酸坦索罗辛缓释胶囊", "0.2mg", ORAL, ("1", "粒"), 1, None),
    drug("复方丹参滴丸", "27mg", ORAL, ("10", "丸"), 3, None),
    drug("连花清瘟胶囊", "0.35g", ORAL, ("4", "粒"), 3, None),
    drug("板蓝根颗粒", "10g", ORAL, ("1", "袋"), 3, None),
    drug("藿香正气水", "10ml", ORAL, ("1", "支"), 2, None),
    drug("六味地黄丸", "浓缩丸", ORAL, ("8", "丸"), 3, None),
    drug("0.9%氯化钠注射液", "250ml", DRIP, ("1", "瓶"), 1, None),
    drug("5%葡萄糖注射液", "250ml", DRIP, ("1", "瓶"), 1, None),
    drug("注射用头孢曲松钠", "1g", DRIP, ("2", "支"), 1, None),
    drug("注射用奥美拉唑钠", "40mg", DRIP, ("1", "支"), 1, None),
    drug("低分子量肝素钙注射液", "0.4ml:4100IU", "皮下注射", ("1", "支"), 1, None),
    drug("缩宫素注射液", "10U", "肌内注射", ("1", "支"), 1, Some((1, "支"))),
];

/// Infusions given on a ward, added to the orders of an admission.
pub(super) const WARD_DRUGS: &[&str] =
    &["0.9%氯化钠注射液", "5%葡萄糖注射液", "注射用头孢曲松钠", "注射用奥美拉唑钠", "低分子量肝素钙注射液"];

/// Medicines containing penicillin, replaced for a patient allergic to it.
pub(super) const PENICILLINS: &[&str] = &["阿莫西林胶囊"];
/// What replaces a penicillin for an allergic patient.
pub(super) const PENICILLIN_SUBSTITUTE: &str = "阿奇霉素片";

/// Allergens: local code, name, category (FHIR `AllergyIntolerance.category`), criticality,
/// the usual reaction, and weight.
pub(super) struct Allergen {
    pub code: &'static str,
    pub name: &'static str,
    pub category: &'static str,
    pub criticality: &'static str,
    pub reaction: &'static str,
    pub weight: u32,
}

pub(super) const PENICILLIN_ALLERGEN: &str = "A01";

pub(super) const ALLERGENS: &[Allergen] = &[
    Allergen {
        code: "A01",
        name: "青霉素类",
        category: "medication",
        criticality: "high",
        reaction: "皮疹",
        weight: 40,
    },
    Allergen {
        code: "A02",
        name: "头孢菌素类",
        category: "medication",
        criticality: "high",
        reaction: "皮疹",
        weight: 10,
    },
    Allergen {
        code: "A03",
        name: "磺胺类",
        category: "medication",
        criticality: "low",
        reaction: "药疹",
        weight: 12,
    },
    Allergen {
        code: "A04",
        name: "阿司匹林",
        category: "medication",
        criticality: "low",
        reaction: "哮喘发作",
        weight: 4,
    },
    Allergen {
        code: "A05",
        name: "海鲜",
        category: "food",
        criticality: "low",
        reaction: "荨麻疹",
        weight: 16,
    },
    Allergen {
        code: "A06", name: "鸡蛋", category: "food", criticality: "low", reaction: "腹泻", weight: 4
    },
    Allergen {
        code: "A07",
        name: "花粉",
        category: "environment",
        criticality: "low",
        reaction: "喷嚏流涕",
        weight: 8,
    },
    Allergen {
        code: "A08",
        name: "尘螨",
        category: "environment",
        criticality: "low",
        reaction: "喘息",
        weight: 6,
    },
];

/// Diagnoses drawn for one kind of visit: code and weights for children (under 14), adults
/// (14–59) and the elderly (60 and over).
pub(super) type Mix = &'static [(&'static str, [u32; 3])];

/// Ordinary outpatient visits.
pub(super) const ACUTE: Mix = &[
    ("J06.900", [30, 20, 12]),
    ("J00.x00", [10, 8, 5]),
    ("J02.900", [6, 7, 4]),
    ("J03.900", [6, 3, 1]),
    ("J20.900", [8, 6, 7]),
    ("J11.100", [4, 3, 2]),
    ("J18.900", [3, 1, 3]),
    ("J21.900", [3, 0, 0]),
    ("J44.900", [0, 1, 6]),
    ("J45.900", [1, 1, 2]),
    ("K29.700", [1, 6, 5]),
    ("K29.500", [0, 4, 5]),
    ("K21.900", [0, 2, 2]),
    ("A09.900", [8, 5, 4]),
    ("K59.000", [1, 1, 3]),
    ("E78.500", [0, 2, 4]),
    ("I25.100", [0, 1, 6]),
    ("I69.300", [0, 0, 3]),
    ("N39.000", [1, 3, 3]),
    ("N40.x00", [0, 1, 4]),
    ("M17.900", [0, 2, 7]),
    ("M54.500", [0, 5, 5]),
    ("M51.202", [0, 3, 3]),
    ("M54.200", [0, 3, 2]),
    ("M81.900", [0, 0, 3]),
    ("L30.900", [3, 3, 2]),
    ("L50.900", [2, 2, 1]),
    ("L08.900", [2, 1, 1]),
    ("H10.900", [2, 2, 1]),
    ("H66.900", [3, 1, 0]),
    ("R50.900", [5, 1, 1]),
    ("R51.x00", [0, 3, 2]),
    ("G47.000", [0, 2, 3]),
    ("D50.900", [1, 1, 1]),
    ("E55.900", [3, 0, 0]),
    ("B08.400", [3, 0, 0]),
    ("T14.000", [3, 2, 1]),
];

/// Emergency visits.
pub(super) const EMERGENCY: Mix = &[
    ("R50.900", [20, 3, 3]),
    ("J18.900", [6, 2, 6]),
    ("A09.900", [10, 8, 5]),
    ("R10.400", [5, 10, 6]),
    ("R07.400", [0, 6, 10]),
    ("T14.000", [12, 10, 5]),
    ("T14.100", [8, 12, 5]),
    ("S52.500", [2, 3, 3]),
    ("S06.000", [2, 3, 2]),
    ("T65.900", [1, 3, 1]),
    ("K35.800", [2, 4, 1]),
    ("I63.900", [0, 1, 6]),
    ("I20.000", [0, 1, 5]),
    ("J44.100", [0, 0, 5]),
];

/// Admissions (childbirth is added apart).
pub(super) const ADMISSION: Mix = &[
    ("J18.900", [30, 8, 20]),
    ("J21.900", [10, 0, 0]),
    ("J44.100", [0, 2, 14]),
    ("A09.900", [12, 4, 3]),
    ("I63.900", [0, 5, 16]),
    ("I20.000", [0, 5, 10]),
    ("I25.100", [0, 3, 8]),
    ("I50.900", [0, 1, 8]),
    ("K35.800", [5, 10, 2]),
    ("K81.000", [0, 6, 5]),
    ("K80.200", [0, 6, 4]),
    ("N39.000", [2, 3, 4]),
    ("S72.000", [0, 1, 5]),
    ("S52.500", [3, 4, 3]),
    ("M51.202", [0, 8, 4]),
    ("E11.900", [0, 3, 4]),
    ("B08.400", [6, 0, 0]),
    ("R50.900", [8, 1, 1]),
];

/// Further diagnoses of the elderly seen at a county specialist clinic.
pub(super) const COMORBIDITIES: &[&str] = &["E78.500", "I25.100", "N18.900", "I69.300", "M17.900"];
