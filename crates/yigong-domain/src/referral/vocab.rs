//! The closed vocabularies of two-way referral (DESIGN.md §6.1).

vocabulary! {
    /// Which way a referral goes.
    Direction {
        /// 上转: up to a higher tier (county-to-county transfers are upward and lateral).
        Upward = "upward",
        /// 下转: back down to the township or village.
        Downward = "downward",
    }
}

vocabulary! {
    /// How fast the receiver must answer.
    Priority {
        /// 普通
        Routine = "routine",
        /// 紧急
        Urgent = "urgent",
        /// 绿色通道: skips approval and pages the receiving centre at once.
        Green = "green",
    }
}

vocabulary! {
    /// Where a referral stands.
    State {
        /// 草稿: invisible to the receiver.
        Draft = "draft",
        /// 已提交: waiting for the receiving referral centre.
        Submitted = "submitted",
        /// 已接收: department assigned.
        Accepted = "accepted",
        /// 已预约: slot or bed booked.
        Scheduled = "scheduled",
        /// 已到达: checked in at the receiver.
        Arrived = "arrived",
        /// 诊治中
        InCare = "in_care",
        /// 已完成: outcome recorded.
        Completed = "completed",
        /// 已闭环
        Closed = "closed",
        /// 已拒绝
        Rejected = "rejected",
        /// 已撤销
        Cancelled = "cancelled",
        /// 已过期: accepted but the patient never came.
        Expired = "expired",
        /// 未到诊: scheduled but the patient never came.
        NoShow = "no_show",
        /// 转出医共体外: handed off to an institution outside the network.
        SentOut = "sent_out",
    }
}

vocabulary! {
    /// What can happen to a referral.
    Transition {
        /// draft → submitted (green: → accepted at once).
        Submit = "submit",
        /// submitted → accepted.
        Accept = "accept",
        /// submitted → rejected.
        Reject = "reject",
        /// Sent on to another department or institution; stays submitted, the SLA restarts.
        Redirect = "redirect",
        /// accepted → scheduled.
        Schedule = "schedule",
        /// A new slot; stays scheduled.
        Reschedule = "reschedule",
        /// accepted/scheduled → arrived (checked in).
        Arrive = "arrive",
        /// arrived → in care.
        StartCare = "start_care",
        /// in care → completed, with the outcome.
        Complete = "complete",
        /// completed → closed (the loop rule, or a reason why nothing comes back down).
        Close = "close",
        /// Withdrawn by the sender before arrival.
        Cancel = "cancel",
        /// accepted → expired (timer).
        Expire = "expire",
        /// scheduled → no-show (timer).
        MarkNoShow = "mark_no_show",
        /// draft/submitted → sent out of network.
        SendOut = "send_out",
    }
}

vocabulary! {
    /// The side and function of whoever performs a transition, relative to the referral.
    Party {
        /// A clinician of the sending institution (the first doctor decides).
        SendingClinician = "sending_clinician",
        /// The sending institution's referral centre.
        SendingCentre = "sending_centre",
        /// The receiving institution's referral centre (转诊中心).
        ReceivingCentre = "receiving_centre",
        /// A clinician of the receiving institution (designated doctor, desk, ward).
        ReceivingClinician = "receiving_clinician",
        /// The platform's timers and loop rule.
        System = "system",
    }
}

vocabulary! {
    /// 上转原因 (coded; free text beside it).
    UpReason {
        /// 超出本机构救治能力
        BeyondRescueCapability = "beyond_rescue_capability",
        /// 诊断超出本机构条件
        DiagnosisBeyondLocal = "diagnosis_beyond_local",
        /// 突发事件批量伤员
        MassCasualty = "mass_casualty",
        /// 设备条件限制
        EquipmentLimits = "equipment_limits",
        /// 超出核准诊疗科目
        OutsideLicensedScope = "outside_licensed_scope",
        /// 需进一步检查
        FurtherExamination = "further_examination",
        /// 其他
        Other = "other",
    }
}

vocabulary! {
    /// 下转原因 (coded; free text beside it).
    DownReason {
        /// 诊断明确
        DiagnosisClear = "diagnosis_clear",
        /// 慢性病长期管理
        ChronicLongTermCare = "chronic_long_term_care",
        /// 急性期后病情稳定
        StableAfterAcute = "stable_after_acute",
        /// 康复
        Rehabilitation = "rehabilitation",
        /// 老年护理
        ElderlyCare = "elderly_care",
        /// 患者意愿
        PatientWish = "patient_wish",
        /// 其他
        Other = "other",
    }
}

vocabulary! {
    /// How care at the receiver ended.
    Outcome {
        /// 门诊诊治后返回
        Outpatient = "outpatient",
        /// 住院治疗后出院
        AdmittedDischarged = "admitted_discharged",
        /// 死亡
        Died = "died",
        /// 继续转诊
        TransferredOn = "transferred_on",
    }
}

vocabulary! {
    /// Why a completed up-referral closes without a down-referral; all but
    /// `lost_to_follow_up` count as closed loops.
    NoDownReason {
        /// 门诊意见已返回
        OutpatientOpinionReturned = "outpatient_opinion_returned",
        /// 死亡
        Died = "died",
        /// 转出本县
        TransferredOutOfCounty = "transferred_out_of_county",
        /// 在接收机构继续治疗
        ContinuingCareAtReceiver = "continuing_care_at_receiver",
        /// 失访 (closes without counting)
        LostToFollowUp = "lost_to_follow_up",
    }
}

vocabulary! {
    /// Why a referral was withdrawn.
    CancelReason {
        /// 已由绿色通道转诊取代
        SupersededByGreen = "superseded_by_green",
        /// 患者拒绝转诊
        PatientDeclined = "patient_declined",
        /// 病情变化
        ConditionChanged = "condition_changed",
        /// 误填
        EnteredInError = "entered_in_error",
        /// 其他
        Other = "other",
    }
}

vocabulary! {
    /// Why a receiver refused a referral.
    RejectReason {
        /// 无床位
        NoBed = "no_bed",
        /// 超出本机构能力
        BeyondCapability = "beyond_capability",
        /// 不符合转诊指征
        NotIndicated = "not_indicated",
        /// 资料不全
        IncompleteInformation = "incomplete_information",
        /// 其他
        Other = "other",
    }
}

vocabulary! {
    /// Who must look at an unanswered referral.
    Escalation {
        /// Within its SLA.
        None = "none",
        /// Past 1× the SLA: the receiving centre's on-duty coordinator.
        OnDuty = "on_duty",
        /// Past 2× the SLA or redirected more than twice: the consortium's medical affairs office (医务部).
        MedicalAffairs = "medical_affairs",
    }
}

vocabulary! {
    /// Insurance referral certificate classes (configured per insurer region).
    CertificateClass {
        /// One admission: valid 3 months.
        SingleAdmission = "single_admission",
        /// Cancer, transplant, uraemia and other long-term conditions: valid 1 year.
        LongTerm = "long_term",
    }
}
