//! The vocabularies of the reading centres (DESIGN.md §6.2, §6.3).

vocabulary! {
    /// A consortium reading centre; each has one worklist.
    Centre {
        /// 影像诊断中心: DR, ultrasound, CT, MR.
        Imaging = "imaging",
        /// 心电诊断中心.
        Ecg = "ecg",
        /// 检验中心.
        Lab = "lab",
        /// 病理诊断中心.
        Pathology = "pathology",
    }
}

vocabulary! {
    /// What is examined, as the turnaround table counts it.
    ExamKind {
        /// Electrocardiogram.
        Ecg = "ecg",
        /// Digital radiography (DR, CR, DX).
        Dr = "dr",
        /// Computed tomography.
        Ct = "ct",
        /// Magnetic resonance.
        Mr = "mr",
        /// Ultrasound.
        Ultrasound = "ultrasound",
        /// Laboratory panel.
        Lab = "lab",
        /// Pathology.
        Pathology = "pathology",
    }
}

vocabulary! {
    /// The clinical setting of an order; the worklist's first sort key, in this order.
    Urgency {
        /// A green-channel case.
        Green = "green",
        /// Emergency.
        Emergency = "emergency",
        /// Inpatient.
        Inpatient = "inpatient",
        /// Outpatient.
        Outpatient = "outpatient",
        /// Health check (体检).
        PhysicalExam = "physical_exam",
    }
}

vocabulary! {
    /// Where an exam item is (DESIGN.md §6.2).
    ItemState {
        /// Ordered at the grassroots site.
        Ordered = "ordered",
        /// Images taken or specimen collected at the site.
        Acquired = "acquired",
        /// Complete at the county centre.
        Received = "received",
        /// On the centre's worklist.
        Queued = "queued",
        /// A reader holds it (lease).
        Claimed = "claimed",
        /// Preliminary report signed.
        Preliminary = "preliminary",
        /// Final report signed.
        Final = "final",
        /// Back at the ordering site.
        Delivered = "delivered",
        /// A final report is being amended.
        Amended = "amended",
        /// Cancelled before reading.
        Cancelled = "cancelled",
        /// Returned for quality (re-acquisition is a new item).
        RejectedQuality = "rejected_quality",
    }
}

vocabulary! {
    /// What may happen to an exam item.
    ItemTransition {
        /// The site has taken the images or the specimen.
        Acquire = "acquire",
        /// Everything arrived at the centre.
        Receive = "receive",
        /// Put on the worklist.
        Queue = "queue",
        /// A reader takes it (atomic: one winner).
        Claim = "claim",
        /// The holder renews the lease.
        Renew = "renew",
        /// The holder gives it back.
        Release = "release",
        /// A supervisor assigns it to a named reader.
        Assign = "assign",
        /// The lease ran out: back on the worklist.
        ExpireLease = "expire_lease",
        /// Preliminary report.
        ReportPreliminary = "report_preliminary",
        /// Final report, signed.
        Finalise = "finalise",
        /// Returned to the ordering site.
        Deliver = "deliver",
        /// A new version of a delivered report (reason required).
        Amend = "amend",
        /// Cancelled by the ordering site (reason required).
        Cancel = "cancel",
        /// Returned for quality (reason required).
        RejectQuality = "reject_quality",
    }
}

vocabulary! {
    /// Who asks for a transition, seen from the item.
    Party {
        /// A clinician of the ordering site (or its technician).
        OrderingSite = "ordering_site",
        /// A reader of the item's centre who does not hold it.
        Reader = "reader",
        /// The reader who holds the claim.
        Holder = "holder",
        /// The centre's supervisor (may assign, release and reject).
        Supervisor = "supervisor",
        /// The platform (ingest, lease expiry, delivery).
        System = "system",
    }
}

vocabulary! {
    /// Why a received item is returned unread.
    QualityReason {
        /// Images unreadable (motion, exposure, positioning).
        ImageQuality = "image_quality",
        /// Wrong body part or protocol.
        WrongProtocol = "wrong_protocol",
        /// Specimen haemolysed.
        Haemolysis = "haemolysis",
        /// Not enough specimen.
        Volume = "volume",
        /// Wrong tube.
        Tube = "tube",
        /// Label missing or wrong.
        Label = "label",
        /// Too long in transport.
        Overtime = "overtime",
        /// Other (text).
        Other = "other",
    }
}

vocabulary! {
    /// A step of a specimen's chain (DESIGN.md §6.2).
    SpecimenStep {
        /// Barcode printed and stuck.
        Labelled = "labelled",
        /// Collected from the patient.
        Collected = "collected",
        /// Packed into a transport box.
        Packed = "packed",
        /// In transport (temperature logged).
        InTransit = "in_transit",
        /// Received at the centre.
        Received = "received",
        /// Refused at the centre.
        Rejected = "rejected",
        /// On the analyser.
        Testing = "testing",
        /// Results released.
        Released = "released",
        /// Kept for re-testing.
        Retained = "retained",
        /// Discarded.
        Discarded = "discarded",
    }
}

vocabulary! {
    /// Where a critical value (危急值) is.
    CriticalState {
        /// Flagged by the reader or the lab.
        Identified = "identified",
        /// The ordering site was told.
        Notified = "notified",
        /// A named clinician there read it back.
        Acknowledged = "acknowledged",
        /// What was done is recorded.
        Disposed = "disposed",
        /// Closed.
        Closed = "closed",
    }
}

vocabulary! {
    /// What the ordering site did about a critical value.
    Disposition {
        /// Treated locally.
        TreatedLocally = "treated_locally",
        /// Sent by green channel.
        GreenChannel = "green_channel",
        /// Urgent referral up.
        UrgentReferral = "urgent_referral",
        /// The patient could not be reached: escalated.
        Unreachable = "unreachable",
    }
}

vocabulary! {
    /// Kind of a recognisable item (结果互认).
    RecognitionKind {
        /// 检查: ultrasound, X-ray, CT, MR, electrophysiology, nuclear medicine.
        Exam = "exam",
        /// 检验.
        Lab = "lab",
    }
}

vocabulary! {
    /// How far a recognisable result is recognised.
    RecognitionScope {
        /// Within the consortium.
        Consortium = "consortium",
        /// Within the prefecture.
        Prefecture = "prefecture",
        /// Within the province.
        Province = "province",
    }
}

vocabulary! {
    /// Why a recognisable result is not recognised and the test is repeated: the six national
    /// grounds, then the provincial extras (enabled per province).
    RetestGround {
        /// The result does not fit the presentation (condition changed).
        ConditionChanged = "condition_changed",
        /// A fast-changing value.
        FastChanging = "fast_changing",
        /// Before surgery, transfusion or another major intervention.
        PreMajorIntervention = "pre_major_intervention",
        /// Emergency.
        Emergency = "emergency",
        /// Forensic, disability or retirement appraisal.
        Appraisal = "appraisal",
        /// Other (text).
        Other = "other",
        /// The patient asks for it (provincial).
        PatientRequest = "patient_request",
        /// The producer failed external quality assessment (provincial).
        ProducerFailedEqa = "producer_failed_eqa",
        /// Too old for this purpose (provincial).
        TooOld = "too_old",
    }
}

impl RetestGround {
    /// One of the national grounds (the rest are provincial extras).
    pub fn is_national(self) -> bool {
        !matches!(self, Self::PatientRequest | Self::ProducerFailedEqa | Self::TooOld)
    }
}
