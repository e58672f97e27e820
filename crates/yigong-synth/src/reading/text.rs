//! What the reading year writes: clinical questions, report drafts filled in from each kind's
//! template (DESIGN.md §6.2) with a small phrase bank per item, critical findings, amendments,
//! and the reasons for cancelling, rejecting and repeating an item.

use std::collections::BTreeMap;

use rand::Rng;
use yigong_domain::identity::Sex;
use yigong_domain::reading::report::ReportDraft;
use yigong_domain::reading::{Disposition, QualityReason, RetestGround, Urgency};

use super::catalogue::SynthItem;
use crate::rng::{SynthRng, pick_weighted};

/// What the text needs of the patient.
#[derive(Debug, Clone, Copy)]
pub(super) struct Who {
    pub sex: Sex,
    pub age: u32,
}

fn one<'a>(rng: &mut SynthRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// A decimal with one place, from tenths.
fn tenths(rng: &mut SynthRng, lo: i32, hi: i32) -> String {
    let v = rng.random_range(lo..=hi);
    format!("{}.{}", v / 10, v % 10)
}

/// A decimal with two places, from hundredths.
fn hundredths(rng: &mut SynthRng, lo: i32, hi: i32) -> String {
    let v = rng.random_range(lo..=hi);
    format!("{}.{:02}", v / 100, v % 100)
}

/// The clinical question of an order.
pub(super) fn question(rng: &mut SynthRng, item: &SynthItem, urgency: Urgency, who: Who) -> String {
    if urgency == Urgency::PhysicalExam {
        return if who.age >= 65 {
            "65岁及以上老年人健康体检".into()
        } else {
            one(rng, &["健康体检", "慢病管理年度体检", "入职健康体检"]).into()
        };
    }
    let emergency = matches!(urgency, Urgency::Emergency | Urgency::Green);
    let text: &str = match (item.code, emergency) {
        ("ECG-12", true) if urgency == Urgency::Green => "胸痛中心：持续胸痛40分钟伴大汗，疑急性冠脉综合征",
        ("ECG-12", true) => one(rng, &["突发胸痛1小时", "胸闷气促伴心悸2小时", "晕厥1次，待查"]),
        ("ECG-12", false) => one(
            rng,
            &["胸闷、心悸3天", "高血压随访，评估心脏情况", "头晕乏力1周", "术前常规检查", "糖尿病随访"],
        ),
        ("DR-CHEST" | "DR-CHEST2", true) => "外伤后胸痛，排除肋骨骨折及气胸",
        ("DR-CHEST" | "DR-CHEST2", false) => {
            one(rng, &["咳嗽咳痰1周，发热2天", "慢性咳嗽，排除肺部病变", "胸痛待查", "肺结核密切接触者筛查"])
        }
        ("DR-LSPINE", _) => one(rng, &["腰痛伴右下肢放射痛2周", "腰部酸痛半年", "弯腰搬重物后腰痛"]),
        ("DR-KNEE", _) => one(rng, &["双膝关节疼痛半年，上下楼加重", "右膝扭伤后肿痛2天"]),
        ("DR-ABD", _) => "腹痛腹胀、停止排气排便1天，疑肠梗阻",
        ("US-ABD", true) => "右上腹剧痛3小时，疑胆囊炎",
        ("US-ABD", false) => one(rng, &["右上腹隐痛1月", "肝功能异常待查", "乙肝病毒携带者随访"]),
        ("US-THYROID", _) => one(rng, &["颈前肿物", "体检发现甲状腺结节复查"]),
        ("US-HEART", _) => one(rng, &["活动后气促，评估心功能", "心脏杂音待查", "高血压心脏改变评估"]),
        ("US-OB", _) => return format!("孕{}周，常规产前检查", rng.random_range(12..=36)),
        ("CT-HEAD", true) if urgency == Urgency::Green => "卒中中心：突发左侧肢体无力1.5小时，疑急性卒中",
        ("CT-HEAD", true) => {
            one(rng, &["突发言语不清、右侧肢体无力2小时", "头部外伤后头痛呕吐1小时", "突发剧烈头痛伴呕吐"])
        }
        ("CT-HEAD", false) => one(rng, &["头痛头晕3天", "反复头晕1月", "记忆力下降半年"]),
        ("CT-CHEST", _) => one(rng, &["咳嗽2月，胸片示右上肺结节", "痰中带血1周", "慢阻肺随访"]),
        ("CT-ABD", _) => one(rng, &["上腹痛，超声示肝内占位待查", "上腹部不适伴消瘦2月"]),
        ("CT-LSPINE", _) => one(rng, &["腰痛伴下肢麻木", "腰腿痛1月"]),
        ("MR-HEAD", _) => one(rng, &["反复头晕，排除后循环缺血", "头痛3月，CT未见异常"]),
        ("MR-LSPINE", _) => "腰腿痛3月，保守治疗无效",
        ("LAB-CBC", true) => "高热寒战半天",
        ("LAB-CBC", false) => one(rng, &["发热待查", "乏力、面色苍白", "感染复查"]),
        ("LAB-BIOCHEM", true) => "乏力、心悸，肾功能不全病史",
        ("LAB-BIOCHEM", false) => {
            one(rng, &["高血压、糖尿病随访", "慢性肾病随访", "肝功能复查", "服用他汀类药物监测"])
        }
        ("LAB-HBA1C", _) => "糖尿病随访，评估血糖控制",
        ("LAB-URINE", _) => one(rng, &["尿频尿急尿痛3天", "糖尿病随访", "双下肢水肿待查"]),
        ("LAB-COAG", _) => one(rng, &["术前检查", "口服华法林监测INR"]),
        ("PATH-BIOPSY", _) => {
            one(rng, &["胃镜见胃窦黏膜糜烂，取活检", "体表肿物切除送检", "宫颈赘生物摘除送检"])
        }
        ("PATH-TCT", _) => "宫颈癌筛查",
        _ => "检查",
    };
    text.to_owned()
}

fn draft(pairs: &[(&str, String)]) -> ReportDraft {
    ReportDraft {
        fields: pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect::<BTreeMap<_, _>>(),
        critical: false,
        critical_text: None,
    }
}

/// A report on `item` for `who`; `critical` asks for a critical finding (ECG-12, LAB-BIOCHEM and
/// CT-HEAD have one).
pub(super) fn report(rng: &mut SynthRng, item: &SynthItem, who: Who, critical: bool) -> ReportDraft {
    let mut d = match item.code {
        "ECG-12" => ecg(rng, who, critical),
        "DR-CHEST" | "DR-CHEST2" => {
            let view = if item.code == "DR-CHEST" { "后前位" } else { "后前位+侧位" };
            let (f, i) = match pick_weighted(rng, &[60, 15, 10, 10, 5]) {
                0 => (
                    "胸廓对称，气管居中。双肺纹理清晰，未见明显实变影。双肺门不大。心影大小形态正常。双膈面光整，肋膈角锐利。",
                    "心肺膈未见明显异常。",
                ),
                1 => (
                    "双肺纹理增多、增粗，以中下肺野为著，未见明显实变影。心影不大。",
                    "支气管炎改变，请结合临床。",
                ),
                2 => (
                    "右下肺野见斑片状模糊影，边缘不清。心影不大，双侧肋膈角锐利。",
                    "右下肺炎症，建议治疗后复查。",
                ),
                3 => (
                    "双肺纹理增多。主动脉结突出，可见弧形钙化影。心影向左下增大。",
                    "主动脉硬化；心影增大，请结合临床。",
                ),
                _ => ("双肺透亮度增高，肺纹理稀疏，膈肌低平。", "慢性支气管炎、肺气肿征象。"),
            };
            draft(&[
                ("body_part", "胸部".into()),
                ("view", view.into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ])
        }
        "DR-LSPINE" => {
            let (f, i) = if rng.random_bool(0.75) {
                (
                    "腰椎生理曲度变直，L3-L5椎体缘见骨质增生，椎间隙未见明显狭窄，椎弓根未见破坏。",
                    "腰椎退行性变。",
                )
            } else {
                (
                    "腰椎序列整齐，生理曲度存在，各椎体形态及骨质未见异常，椎间隙等宽。",
                    "腰椎正侧位片未见明显异常。",
                )
            };
            draft(&[
                ("body_part", "腰椎".into()),
                ("view", "正侧位".into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ])
        }
        "DR-KNEE" => {
            let (f, i) = if rng.random_bool(0.7) {
                (
                    "双膝关节间隙变窄，关节面骨质增生硬化，髁间棘变尖，未见骨折征象。",
                    "双膝关节退行性骨关节病。",
                )
            } else {
                ("膝关节诸骨骨质完整，关节间隙正常，周围软组织未见肿胀。", "膝关节正侧位片未见明显异常。")
            };
            draft(&[
                ("body_part", "膝关节".into()),
                ("view", "正侧位".into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ])
        }
        "DR-ABD" => {
            let (f, i) = if rng.random_bool(0.4) {
                (
                    "中腹部见多个阶梯状气液平面，肠管扩张积气，膈下未见游离气体。",
                    "不完全性肠梗阻，请结合临床。",
                )
            } else {
                ("腹部肠管积气分布正常，未见明显气液平面，膈下未见游离气体。", "腹部立位平片未见明显异常。")
            };
            draft(&[
                ("body_part", "腹部".into()),
                ("view", "立位".into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ])
        }
        "US-ABD" => {
            let (f, i) = match pick_weighted(rng, &[50, 25, 12, 13]) {
                0 => (
                    "肝脏大小形态正常，包膜光整，实质回声均匀。胆囊大小正常，壁光滑，腔内未见异常回声。胰腺、脾脏未见明显异常。双肾大小形态正常，集合系统未见分离。",
                    "肝胆胰脾双肾未见明显异常。",
                ),
                1 => (
                    "肝脏体积增大，实质回声细密增强，后方回声衰减，肝内管道显示欠清。胆胰脾肾未见明显异常。",
                    "脂肪肝（中度）。",
                ),
                2 => (
                    "胆囊大小正常，腔内见一强回声团，大小约1.2cm×0.9cm，后伴声影，随体位移动。",
                    "胆囊结石。",
                ),
                _ => (
                    "右肾上极见一无回声区，大小约2.1cm×1.8cm，边界清，壁薄光滑，后方回声增强。",
                    "右肾囊肿。",
                ),
            };
            draft(&[("body_part", "肝胆胰脾双肾".into()), ("findings", f.into()), ("impression", i.into())])
        }
        "US-THYROID" => {
            let (f, i) = if rng.random_bool(0.55) {
                (
                    "甲状腺右叶见一低回声结节，大小约0.8cm×0.6cm，边界清，形态规则，纵横比<1，未见微钙化，CDFI示周边少许血流信号。",
                    "甲状腺右叶实性结节（C-TIRADS 3类），建议定期复查。",
                )
            } else {
                ("甲状腺双侧叶大小形态正常，包膜光整，实质回声均匀，未见明显结节。", "甲状腺未见明显异常。")
            };
            draft(&[("body_part", "甲状腺".into()), ("findings", f.into()), ("impression", i.into())])
        }
        "US-HEART" => {
            let ef = rng.random_range(52..=68);
            let (f, i) = if who.age >= 60 && rng.random_bool(0.5) {
                (
                    format!(
                        "各房室大小正常，室间隔厚度约1.1cm，左室壁运动协调，二尖瓣口血流频谱E峰<A峰，LVEF {ef}%。"
                    ),
                    "左室舒张功能减低。",
                )
            } else {
                (
                    format!("各房室大小正常，室壁厚度及运动未见异常，各瓣膜形态及启闭正常，LVEF {ef}%。"),
                    "心脏结构及功能未见明显异常。",
                )
            };
            draft(&[("body_part", "心脏".into()), ("findings", f), ("impression", i.into())])
        }
        "US-OB" => {
            let weeks = rng.random_range(12..=36);
            let days = rng.random_range(0..=6);
            let rate = rng.random_range(130..=160);
            let f = format!(
                "宫内见一胎儿，胎心搏动规律，胎心率{rate}次/分，胎盘位于子宫前壁，羊水深度{}cm，胎儿各测值符合孕{weeks}周{days}天。",
                tenths(rng, 35, 65)
            );
            draft(&[
                ("body_part", "子宫及胎儿".into()),
                ("findings", f),
                ("impression", format!("宫内单活胎，超声孕周约{weeks}周+{days}天。")),
            ])
        }
        "CT-HEAD" => {
            let (f, i) = if critical {
                (
                    "左侧基底节区见团块状高密度影，CT值约65HU，大小约3.5cm×2.8cm，周围见低密度水肿带，邻近侧脑室受压，中线结构右移约4mm。",
                    "左侧基底节区脑出血（出血量约15ml），请结合临床。",
                )
            } else {
                match pick_weighted(rng, &[45, 35, 20]) {
                    0 => (
                        "脑实质内未见明显异常密度影，灰白质分界清。脑室系统未见扩大，脑沟、脑裂未见增宽。中线结构居中。",
                        "头颅CT平扫未见明显异常。",
                    ),
                    1 => (
                        "双侧基底节区见斑点状低密度影，边界清。脑室系统未见扩大，中线结构居中。",
                        "双侧基底节区腔隙性脑梗死。",
                    ),
                    _ => ("脑沟、脑裂增宽加深，脑室系统对称性扩大，中线结构居中。", "老年性脑萎缩。"),
                }
            };
            let mut d = draft(&[
                ("body_part", "头颅".into()),
                ("contrast", "none".into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ]);
            if critical {
                d.critical = true;
                d.critical_text = Some("左侧基底节区脑出血，出血量约15ml".into());
            }
            d
        }
        "CT-CHEST" => {
            let (f, i) = match pick_weighted(rng, &[45, 30, 25]) {
                0 => (
                    "双肺纹理清晰，未见明显实变及结节影。气管及主支气管通畅。纵隔内未见肿大淋巴结。双侧胸腔未见积液。",
                    "胸部CT平扫未见明显异常。",
                ),
                1 => (
                    "右肺上叶尖段见一磨玻璃结节，直径约6mm，边界清。余肺未见异常。",
                    "右肺上叶磨玻璃结节，建议12个月后复查。",
                ),
                _ => ("双肺透亮度增高，肺纹理稀疏，双肺上叶见多发小囊状透亮影。", "慢性支气管炎、肺气肿。"),
            };
            draft(&[
                ("body_part", "胸部".into()),
                ("contrast", "none".into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ])
        }
        "CT-ABD" => {
            let (f, i) = if rng.random_bool(0.6) {
                (
                    "肝内见数个类圆形低密度影，边界清，较大者约2.0cm，CT值约5HU。胆囊、胰腺、脾脏未见异常。",
                    "肝多发囊肿。",
                )
            } else {
                ("胆囊内见一类圆形高密度结节影，直径约1.0cm。肝脏、胰腺、脾脏未见明显异常。", "胆囊结石。")
            };
            draft(&[
                ("body_part", "上腹部".into()),
                ("contrast", "none".into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ])
        }
        "CT-LSPINE" | "MR-LSPINE" => {
            let (f, i) = if item.code == "MR-LSPINE" {
                (
                    "腰椎曲度变直，L4/5、L5/S1椎间盘T2WI信号减低，L5/S1椎间盘向左后方突出，左侧神经根受压。",
                    "L4/5椎间盘变性；L5/S1椎间盘突出（左后型）。",
                )
            } else {
                (
                    "L4/5椎间盘向后膨出，L5/S1椎间盘向左后方突出，压迫左侧神经根，椎管未见明显狭窄。",
                    "L4/5椎间盘膨出，L5/S1椎间盘突出（左后型）。",
                )
            };
            draft(&[
                ("body_part", "腰椎".into()),
                ("contrast", "none".into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ])
        }
        "MR-HEAD" => {
            let (f, i) = if rng.random_bool(0.6) {
                (
                    "双侧侧脑室旁白质区见斑片状长T1长T2信号，FLAIR呈高信号，DWI未见弥散受限。",
                    "双侧侧脑室旁白质缺血性改变。",
                )
            } else {
                (
                    "脑实质内未见异常信号，DWI未见弥散受限，脑室系统未见扩大，中线结构居中。",
                    "头颅MRI平扫未见明显异常。",
                )
            };
            draft(&[
                ("body_part", "头颅".into()),
                ("contrast", "none".into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ])
        }
        "LAB-CBC" => cbc(rng, who),
        "LAB-BIOCHEM" => biochemistry(rng, who, critical),
        "LAB-HBA1C" => {
            let v = rng.random_range(48..=96);
            let i = if v >= 65 {
                "糖化血红蛋白升高，近2-3月血糖控制欠佳。"
            } else {
                "糖化血红蛋白在参考范围内。"
            };
            draft(&[
                ("specimen", "whole_blood".into()),
                ("findings", format!("糖化血红蛋白(HbA1c) {}.{} %", v / 10, v % 10)),
                ("impression", i.into()),
            ])
        }
        "LAB-URINE" => {
            let (f, i) = if rng.random_bool(0.3) {
                (
                    "尿蛋白(PRO) 阴性\n尿糖(GLU) 阴性\n尿隐血(BLD) 1+\n白细胞酯酶(LEU) 2+\n亚硝酸盐(NIT) 阳性\n镜检白细胞 25-30/HP",
                    "尿白细胞增多，亚硝酸盐阳性，提示尿路感染。",
                )
            } else {
                (
                    "尿蛋白(PRO) 阴性\n尿糖(GLU) 阴性\n尿隐血(BLD) 阴性\n白细胞酯酶(LEU) 阴性\n亚硝酸盐(NIT) 阴性\n比重(SG) 1.020",
                    "尿常规未见明显异常。",
                )
            };
            draft(&[("specimen", "urine".into()), ("findings", f.into()), ("impression", i.into())])
        }
        "LAB-COAG" => {
            let f = format!(
                "凝血酶原时间(PT) {} s\n国际标准化比值(INR) {}\n活化部分凝血活酶时间(APTT) {} s\n纤维蛋白原(FIB) {} g/L",
                tenths(rng, 105, 135),
                hundredths(rng, 90, 115),
                tenths(rng, 260, 380),
                hundredths(rng, 200, 400)
            );
            draft(&[
                ("specimen", "other".into()),
                ("findings", f),
                ("impression", "凝血功能未见明显异常。".into()),
            ])
        }
        "PATH-BIOPSY" => {
            let (site, gross, f, i) = match pick_weighted(rng, &[55, 30, 15]) {
                0 => (
                    "胃窦",
                    "灰白色碎组织3粒，直径0.2-0.3cm，全埋。",
                    "胃窦黏膜慢性炎细胞浸润，固有腺体未见减少，未见异型增生。",
                    "（胃窦）慢性非萎缩性胃炎。",
                ),
                1 => (
                    "皮肤（背部）",
                    "皮肤组织一块，大小1.5cm×1.0cm×0.6cm，切面灰白。",
                    "表皮角化过度，真皮内见角化物充填的囊腔，囊壁为复层鳞状上皮。",
                    "（背部皮肤）表皮样囊肿。",
                ),
                _ => (
                    "宫颈",
                    "灰红色息肉样组织一枚，直径0.8cm。",
                    "宫颈管黏膜腺体增生，间质充血水肿，被覆单层柱状上皮。",
                    "（宫颈）宫颈息肉。",
                ),
            };
            draft(&[
                ("specimen_site", site.into()),
                ("gross", gross.into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ])
        }
        "PATH-TCT" => {
            let (f, i) = if rng.random_bool(0.9) {
                (
                    "标本满意度：满意。鳞状上皮细胞及颈管细胞可见，未见上皮内病变细胞。",
                    "未见上皮内病变或恶性细胞（NILM）。",
                )
            } else {
                (
                    "标本满意度：满意。可见少量非典型鳞状细胞，核稍增大。",
                    "意义不明确的非典型鳞状细胞（ASC-US），建议HPV检测。",
                )
            };
            draft(&[
                ("specimen_site", "宫颈".into()),
                ("gross", "液基细胞学标本一瓶。".into()),
                ("findings", f.into()),
                ("impression", i.into()),
            ])
        }
        other => unreachable!("no report text for {other}"),
    };
    if !critical {
        d.critical = false;
        d.critical_text = None;
    }
    d
}

fn ecg(rng: &mut SynthRng, who: Who, critical: bool) -> ReportDraft {
    let pr = rng.random_range(130..=190);
    let qrs = rng.random_range(80..=105);
    let qtc = rng.random_range(380..=440);
    let mut fields: Vec<(&str, String)> = Vec::new();
    let (rhythm, rate, findings, impression, critical_text): (&str, u32, String, &str, Option<&str>) =
        if critical {
            match pick_weighted(rng, &[45, 40, 10, 5]) {
                0 => {
                    let rate = rng.random_range(32..=42);
                    (
                        "other",
                        rate,
                        format!("P波与QRS波群无固定关系，心房率约75次/分，心室率{rate}次/分，QRS波群增宽。"),
                        "三度房室传导阻滞",
                        Some("三度房室传导阻滞"),
                    )
                }
                1 => {
                    let rate = rng.random_range(70..=105);
                    (
                        "sinus",
                        rate,
                        format!(
                            "窦性心律，心率{rate}次/分，Ⅱ、Ⅲ、aVF导联ST段弓背向上抬高0.2-0.4mV，Ⅰ、aVL导联ST段压低。"
                        ),
                        "窦性心律\n急性下壁ST段抬高型心肌梗死",
                        Some("急性ST段抬高：Ⅱ、Ⅲ、aVF导联ST段抬高0.2-0.4mV"),
                    )
                }
                2 => {
                    let rate = rng.random_range(160..=210);
                    (
                        "other",
                        rate,
                        format!("宽QRS波心动过速，心室率{rate}次/分，QRS时限约150ms，可见房室分离。"),
                        "室性心动过速",
                        Some("室性心动过速，心室率>150次/分"),
                    )
                }
                _ => (
                    "other",
                    300,
                    "QRS-T波群消失，代之以形态、振幅、频率极不规则的颤动波。".into(),
                    "心室颤动",
                    Some("心室颤动"),
                ),
            }
        } else {
            let old = who.age >= 60;
            let weights: &[u32] =
                if old { &[40, 10, 6, 18, 8, 6, 8, 4] } else { &[70, 10, 8, 4, 4, 2, 1, 1] };
            match pick_weighted(rng, weights) {
                0 => {
                    let rate = rng.random_range(60..=98);
                    (
                        "sinus",
                        rate,
                        format!(
                            "窦性心律，心率{rate}次/分，P-R间期{pr}ms，QRS时限{qrs}ms，QTc {qtc}ms，各导联ST-T未见明显异常。"
                        ),
                        "窦性心律\n正常心电图",
                        None,
                    )
                }
                1 => {
                    let rate = rng.random_range(46..=58);
                    (
                        "sinus",
                        rate,
                        format!("窦性心律，心率{rate}次/分，P-R间期{pr}ms，各导联ST-T未见明显异常。"),
                        "窦性心动过缓",
                        None,
                    )
                }
                2 => {
                    let rate = rng.random_range(102..=130);
                    (
                        "sinus",
                        rate,
                        format!("窦性心律，心率{rate}次/分，P-R间期{pr}ms，各导联ST-T未见明显异常。"),
                        "窦性心动过速",
                        None,
                    )
                }
                3 => {
                    let rate = rng.random_range(60..=95);
                    (
                        "sinus",
                        rate,
                        format!(
                            "窦性心律，心率{rate}次/分，Ⅱ、Ⅲ、aVF、V4-V6导联ST段水平型压低0.05-0.1mV，T波低平。"
                        ),
                        "窦性心律\nST-T改变",
                        None,
                    )
                }
                4 => {
                    let rate = rng.random_range(62..=90);
                    (
                        "sinus",
                        rate,
                        format!("窦性心律，心率{rate}次/分，RV5+SV1=4.3mV。"),
                        "窦性心律\n左心室高电压",
                        None,
                    )
                }
                5 => {
                    let rate = rng.random_range(60..=90);
                    (
                        "sinus",
                        rate,
                        format!(
                            "窦性心律，心率{rate}次/分，QRS时限128ms，V1导联呈rsR'型，Ⅰ、V5、V6导联S波宽钝。"
                        ),
                        "窦性心律\n完全性右束支传导阻滞",
                        None,
                    )
                }
                6 => {
                    let rate = rng.random_range(68..=125);
                    (
                        "atrial_fibrillation",
                        rate,
                        format!(
                            "P波消失，代之以大小不等、形态各异的f波，R-R间期绝对不等，平均心室率{rate}次/分。"
                        ),
                        "心房颤动",
                        None,
                    )
                }
                _ => {
                    let rate = rng.random_range(60..=85);
                    (
                        "sinus",
                        rate,
                        format!("窦性心律，心率{rate}次/分，P-R间期{}ms。", rng.random_range(215..=260)),
                        "窦性心律\n一度房室传导阻滞",
                        None,
                    )
                }
            }
        };
    fields.push(("rhythm", rhythm.into()));
    fields.push(("heart_rate", rate.to_string()));
    if rhythm == "sinus" {
        fields.push(("pr_ms", pr.to_string()));
    }
    if rhythm != "other" || critical_text.is_none() {
        fields.push(("qrs_ms", qrs.to_string()));
        fields.push(("qtc_ms", qtc.to_string()));
    }
    fields.push(("findings", findings));
    fields.push(("impression", impression.into()));
    let mut d = draft(&fields);
    d.critical = critical_text.is_some();
    d.critical_text = critical_text.map(str::to_owned);
    d
}

fn cbc(rng: &mut SynthRng, who: Who) -> ReportDraft {
    let female = who.sex == Sex::Female;
    let (wbc, neut, hgb, impression) = match pick_weighted(rng, &[70, 18, 12]) {
        0 => (
            tenths(rng, 40, 95),
            tenths(rng, 450, 700),
            if female { rng.random_range(118..=145) } else { rng.random_range(132..=165) },
            "血常规未见明显异常。",
        ),
        1 => (
            tenths(rng, 105, 168),
            tenths(rng, 760, 890),
            if female { rng.random_range(118..=140) } else { rng.random_range(130..=160) },
            "白细胞计数及中性粒细胞比例升高，提示细菌感染可能，请结合临床。",
        ),
        _ => (
            tenths(rng, 40, 90),
            tenths(rng, 450, 700),
            rng.random_range(88..=108),
            "血红蛋白降低，轻度贫血。",
        ),
    };
    let findings = format!(
        "白细胞计数(WBC) {wbc} ×10^9/L\n中性粒细胞百分比(NEUT%) {neut} %\n红细胞计数(RBC) {} ×10^12/L\n血红蛋白(HGB) {hgb} g/L\n血小板计数(PLT) {} ×10^9/L",
        hundredths(rng, 380, 560),
        rng.random_range(130..=320)
    );
    draft(&[("specimen", "whole_blood".into()), ("findings", findings), ("impression", impression.into())])
}

fn biochemistry(rng: &mut SynthRng, who: Who, critical: bool) -> ReportDraft {
    let potassium = if critical { tenths(rng, 66, 72) } else { tenths(rng, 36, 52) };
    let glucose_high = who.age >= 50 && rng.random_bool(0.25);
    let glucose = if glucose_high { tenths(rng, 72, 128) } else { tenths(rng, 42, 60) };
    let creatinine = if critical { rng.random_range(260..=520) } else { rng.random_range(50..=105) };
    let cholesterol_high = rng.random_bool(0.2);
    let findings = format!(
        "丙氨酸氨基转移酶(ALT) {} U/L\n天门冬氨酸氨基转移酶(AST) {} U/L\n总胆红素(TBIL) {} μmol/L\n白蛋白(ALB) {} g/L\n尿素(UREA) {} mmol/L\n肌酐(CREA) {creatinine} μmol/L\n尿酸(UA) {} μmol/L\n葡萄糖(GLU) {glucose} mmol/L\n总胆固醇(TC) {} mmol/L\n甘油三酯(TG) {} mmol/L\n钾(K) {potassium} mmol/L\n钠(Na) {} mmol/L",
        rng.random_range(9..=38),
        rng.random_range(12..=35),
        tenths(rng, 50, 190),
        tenths(rng, 380, 490),
        tenths(rng, 30, if critical { 220 } else { 75 }),
        rng.random_range(200..=420),
        if cholesterol_high { tenths(rng, 62, 78) } else { tenths(rng, 35, 55) },
        hundredths(rng, 60, 210),
        rng.random_range(136..=145)
    );
    let impression = if critical {
        "血钾明显升高（危急值），肌酐升高，已电话通知临床。".to_owned()
    } else {
        let mut parts = Vec::new();
        if glucose_high {
            parts.push("空腹血糖升高");
        }
        if cholesterol_high {
            parts.push("总胆固醇升高");
        }
        if parts.is_empty() {
            "肝肾功能、血糖、血脂及电解质未见明显异常。".into()
        } else {
            format!("{}，请结合临床。", parts.join("，"))
        }
    };
    let mut d = draft(&[("specimen", "serum".into()), ("findings", findings), ("impression", impression)]);
    if critical {
        d.critical = true;
        d.critical_text = Some(format!("血钾 {potassium} mmol/L"));
    }
    d
}

/// An amendment of a signed report: the draft changed and why.
pub(super) fn amend(rng: &mut SynthRng, signed: &ReportDraft) -> (ReportDraft, String) {
    let mut d = signed.clone();
    const AMENDMENTS: [(&str, &str); 3] = [
        ("更正笔误：侧别描述有误", "（更正：侧别以本版为准）"),
        ("补充描述：与既往片对比", "与既往检查对比，病灶大小未见明显变化。"),
        ("上级医师审核后修改诊断意见", "（经上级医师审核）"),
    ];
    let (reason, note) = AMENDMENTS[rng.random_range(0..AMENDMENTS.len())];
    let impression = d.fields.get("impression").cloned().unwrap_or_default();
    d.fields.insert("impression".into(), format!("{impression}\n{note}"));
    (d, reason.to_owned())
}

/// Why the ordering site cancelled an item.
pub(super) fn cancel_reason(rng: &mut SynthRng) -> String {
    one(
        rng,
        &["患者未到检", "患者拒绝检查", "医嘱开错，重新开单", "患者转上级医院就诊", "设备故障，改期检查"],
    )
    .into()
}

/// Why an imaging item was returned for quality.
pub(super) fn image_reject(rng: &mut SynthRng) -> QualityReason {
    if rng.random_bool(0.7) { QualityReason::ImageQuality } else { QualityReason::WrongProtocol }
}

/// Why a specimen was refused at the laboratory.
pub(super) fn specimen_reject(rng: &mut SynthRng) -> QualityReason {
    [
        QualityReason::Haemolysis,
        QualityReason::Volume,
        QualityReason::Tube,
        QualityReason::Label,
        QualityReason::Overtime,
    ][pick_weighted(rng, &[50, 15, 10, 10, 15])]
}

/// A national ground for repeating a recognisable item, with the text `other` needs.
pub(super) fn retest_ground(rng: &mut SynthRng, emergency: bool) -> (RetestGround, Option<String>) {
    if emergency && rng.random_bool(0.7) {
        return (RetestGround::Emergency, None);
    }
    let ground = [
        RetestGround::ConditionChanged,
        RetestGround::FastChanging,
        RetestGround::PreMajorIntervention,
        RetestGround::Appraisal,
        RetestGround::Other,
    ][pick_weighted(rng, &[45, 20, 15, 5, 15])];
    let text = (ground == RetestGround::Other)
        .then(|| one(rng, &["需与前次检查对比观察病灶变化", "前次检查部位与本次临床问题不符"]).to_owned());
    (ground, text)
}

/// What the ordering site did about the critical `finding`, with a note.
pub(super) fn disposition(rng: &mut SynthRng, finding: &str) -> (Disposition, String) {
    if rng.random_bool(0.03) {
        return (Disposition::Unreachable, "患者已离院，电话多次未接通，已报告院长并联系村医上门".into());
    }
    if finding.contains("ST段抬高") {
        (
            Disposition::GreenChannel,
            "启动胸痛中心绿色通道，嚼服阿司匹林300mg、替格瑞洛180mg，120转县人民医院".into(),
        )
    } else if finding.contains("心室颤动") {
        (Disposition::GreenChannel, "立即心肺复苏、电除颤，120转县人民医院".into())
    } else if finding.contains("传导阻滞") || finding.contains("心动过速") {
        (Disposition::UrgentReferral, "心电监护，建立静脉通道，急诊转县人民医院心内科".into())
    } else if finding.contains("脑出血") {
        (Disposition::GreenChannel, "启动卒中绿色通道，控制血压，转县人民医院神经外科".into())
    } else if rng.random_bool(0.6) {
        (Disposition::TreatedLocally, "停用保钾药物，葡萄糖酸钙静推，胰岛素加葡萄糖静滴，复查血钾".into())
    } else {
        (Disposition::UrgentReferral, "紧急转县人民医院肾内科行血液透析评估".into())
    }
}
