//! Green channels (绿色通道): the time-stamp chain of a critical case and the accreditation
//! metrics computed from it (DESIGN.md §6.1, "Green channels").

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

vocabulary! {
    /// The green-channel centres of a county.
    Centre {
        /// 胸痛中心
        ChestPain = "chest_pain",
        /// 卒中中心
        Stroke = "stroke",
        /// 创伤中心
        Trauma = "trauma",
        /// 危重孕产妇救治中心
        Maternal = "maternal",
        /// 危重儿童和新生儿救治中心
        Neonatal = "neonatal",
    }
}

vocabulary! {
    /// One time stamp of the chain.
    Milestone {
        /// 发病
        Onset = "onset",
        /// 最后正常时间 (stroke)
        LastKnownWell = "last_known_well",
        /// 呼救 / 事件
        Call = "call",
        /// 首次医疗接触 (FMC)
        FirstMedicalContact = "first_medical_contact",
        /// 首份心电图
        Ecg = "ecg",
        /// 心电图远程传输
        EcgTransmitted = "ecg_transmitted",
        /// 确诊
        Diagnosis = "diagnosis",
        /// 肌钙蛋白 (POCT) 结果
        Troponin = "troponin",
        /// 离开转出机构
        Departure = "departure",
        /// 到达接收医院大门
        Door = "door",
        /// 启动导管室
        CathLabActivation = "cath_lab_activation",
        /// 导管室团队到达
        CathLabArrival = "cath_lab_arrival",
        /// 球囊扩张 (导丝通过)
        Balloon = "balloon",
        /// 溶栓开始
        Lysis = "lysis",
        /// CT 开始
        CtStart = "ct_start",
        /// CT 结果
        CtResult = "ct_result",
        /// 治疗决策
        Decision = "decision",
        /// 静脉溶栓给药 (needle)
        Needle = "needle",
        /// 团队启动
        TeamActivation = "team_activation",
        /// 手术 / 分娩 / 关键干预
        Intervention = "intervention",
    }
}

vocabulary! {
    /// Where a time stamp came from.
    StampSource {
        /// From a device (ECG machine, CT, monitor).
        Device = "device",
        /// Entered by a person.
        Manual = "manual",
        /// Derived from another record (the encounter's check-in, a report's time).
        Derived = "derived",
    }
}

impl Centre {
    /// The milestones of this centre's chain, in the order they normally happen.
    pub fn chain(self) -> &'static [Milestone] {
        use Milestone as M;
        match self {
            Self::ChestPain => &[
                M::Onset,
                M::FirstMedicalContact,
                M::Ecg,
                M::EcgTransmitted,
                M::Diagnosis,
                M::Troponin,
                M::Departure,
                M::Door,
                M::CathLabActivation,
                M::CathLabArrival,
                M::Balloon,
                M::Lysis,
            ],
            Self::Stroke => &[
                M::LastKnownWell,
                M::FirstMedicalContact,
                M::Departure,
                M::Door,
                M::CtStart,
                M::CtResult,
                M::Decision,
                M::Needle,
            ],
            Self::Trauma | Self::Maternal | Self::Neonatal => &[
                M::Call,
                M::FirstMedicalContact,
                M::Departure,
                M::Door,
                M::TeamActivation,
                M::CtStart,
                M::Intervention,
            ],
        }
    }

    /// The interval metrics of this centre.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            Self::ChestPain => CHEST_PAIN,
            Self::Stroke => STROKE,
            Self::Trauma | Self::Maternal | Self::Neonatal => OTHER,
        }
    }
}

/// One interval metric: from one milestone to another, with its target when one is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// Stable code (`fmc_to_ecg`).
    pub code: &'static str,
    /// Start of the interval.
    pub from: Milestone,
    /// End of the interval.
    pub to: Milestone,
    /// Target in minutes, and whether the target is strict (`<`) or inclusive (`≤`).
    pub target: Option<(i64, Bound)>,
    /// Share of compliant cases the accreditation asks for per month, in percent.
    pub compliance_goal: Option<u8>,
}

/// How a target compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Strictly less than the target.
    Below,
    /// At most the target.
    AtMost,
}

const fn metric(
    code: &'static str,
    from: Milestone,
    to: Milestone,
    target: Option<(i64, Bound)>,
    compliance_goal: Option<u8>,
) -> Metric {
    Metric { code, from, to, target, compliance_goal }
}

use Milestone as Ms;

const CHEST_PAIN: &[Metric] = &[
    metric("fmc_to_ecg", Ms::FirstMedicalContact, Ms::Ecg, Some((10, Bound::Below)), Some(75)),
    metric("ecg_to_diagnosis", Ms::Ecg, Ms::Diagnosis, Some((10, Bound::Below)), None),
    metric("fmc_to_troponin", Ms::FirstMedicalContact, Ms::Troponin, Some((20, Bound::AtMost)), None),
    metric("door_to_balloon", Ms::Door, Ms::Balloon, Some((90, Bound::AtMost)), Some(75)),
    metric(
        "activation_to_cath_lab",
        Ms::CathLabActivation,
        Ms::CathLabArrival,
        Some((30, Bound::Below)),
        None,
    ),
    metric("fmc_to_balloon", Ms::FirstMedicalContact, Ms::Balloon, None, None),
    metric("door_to_lysis", Ms::Door, Ms::Lysis, None, None),
];

const STROKE: &[Metric] = &[
    metric("onset_to_needle", Ms::LastKnownWell, Ms::Needle, Some((270, Bound::AtMost)), None),
    metric("door_to_needle", Ms::Door, Ms::Needle, Some((60, Bound::AtMost)), None),
    metric("door_to_ct", Ms::Door, Ms::CtStart, None, None),
    metric("fmc_to_door", Ms::FirstMedicalContact, Ms::Door, None, None),
];

const OTHER: &[Metric] = &[
    metric("call_to_fmc", Ms::Call, Ms::FirstMedicalContact, None, None),
    metric("fmc_to_door", Ms::FirstMedicalContact, Ms::Door, None, None),
    metric("door_to_team", Ms::Door, Ms::TeamActivation, None, None),
    metric("door_to_intervention", Ms::Door, Ms::Intervention, None, None),
];

/// One case's value of one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseValue {
    /// The metric.
    pub metric: &'static Metric,
    /// Minutes from start to end, when both stamps exist (whole minutes, rounded down).
    pub minutes: Option<i64>,
    /// Whether the value meets the target; `None` without a value or a target.
    pub compliant: Option<bool>,
}

/// The metrics of one case from its stamps (the latest stamp of each milestone counts).
pub fn case_metrics(centre: Centre, stamps: &BTreeMap<Milestone, DateTime<Utc>>) -> Vec<CaseValue> {
    centre
        .metrics()
        .iter()
        .map(|m| {
            let minutes = match (stamps.get(&m.from), stamps.get(&m.to)) {
                (Some(a), Some(b)) if b >= a => Some((*b - *a).num_minutes()),
                _ => None,
            };
            let compliant = minutes.zip(m.target).map(|(v, (t, bound))| match bound {
                Bound::Below => v < t,
                Bound::AtMost => v <= t,
            });
            CaseValue { metric: m, minutes, compliant }
        })
        .collect()
}

/// A stamp out of order: `later` recorded before `earlier` although the chain puts it after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfOrder {
    /// The milestone that should come first.
    pub earlier: Milestone,
    /// The milestone stamped before it.
    pub later: Milestone,
}

/// Stamps that contradict the chain's order (shown as warnings; the stamps are kept as recorded).
pub fn out_of_order(centre: Centre, stamps: &BTreeMap<Milestone, DateTime<Utc>>) -> Vec<OutOfOrder> {
    let chain = centre.chain();
    let mut found = Vec::new();
    for (i, a) in chain.iter().enumerate() {
        for b in &chain[i + 1..] {
            // Balloon and lysis are alternatives; CT may come before or after team activation.
            if let (Some(ta), Some(tb)) = (stamps.get(a), stamps.get(b))
                && tb < ta
                && strictly_ordered(*a, *b)
            {
                found.push(OutOfOrder { earlier: *a, later: *b });
            }
        }
    }
    found
}

fn strictly_ordered(a: Milestone, b: Milestone) -> bool {
    use Milestone as M;
    !matches!(
        (a, b),
        (M::Balloon, M::Lysis)
            | (M::Lysis, M::Balloon)
            | (M::TeamActivation, M::CtStart)
            | (M::Troponin, M::Departure)
            | (M::Diagnosis, M::Troponin)
            | (M::EcgTransmitted, M::Diagnosis)
    )
}

/// A month's summary of one metric over the cases that have it.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthValue {
    /// The metric.
    pub metric: &'static Metric,
    /// Cases with a value.
    pub cases: u32,
    /// Mean minutes (`None` without cases).
    pub mean_minutes: Option<f64>,
    /// Median minutes.
    pub median_minutes: Option<f64>,
    /// Compliant cases (when there is a target).
    pub compliant: u32,
    /// Whether the month meets the compliance goal (when there is one and cases).
    pub meets_goal: Option<bool>,
}

/// Summarises per-case values of one centre for a month (or any period).
pub fn summarise(centre: Centre, cases: &[Vec<CaseValue>]) -> Vec<MonthValue> {
    centre
        .metrics()
        .iter()
        .map(|m| {
            let mut values: Vec<i64> = Vec::new();
            let mut compliant = 0;
            for case in cases {
                if let Some(v) = case.iter().find(|v| v.metric.code == m.code) {
                    if let Some(minutes) = v.minutes {
                        values.push(minutes);
                    }
                    if v.compliant == Some(true) {
                        compliant += 1;
                    }
                }
            }
            values.sort_unstable();
            let n = values.len() as u32;
            let mean = (n > 0).then(|| values.iter().sum::<i64>() as f64 / f64::from(n));
            let median = crate::referral::metrics::median(&values);
            let meets_goal = m
                .compliance_goal
                .filter(|_| n > 0 && m.target.is_some())
                .map(|goal| u64::from(compliant) * 100 >= u64::from(goal) * u64::from(n));
            MonthValue {
                metric: m,
                cases: n,
                mean_minutes: mean,
                median_minutes: median,
                compliant,
                meets_goal,
            }
        })
        .collect()
}
