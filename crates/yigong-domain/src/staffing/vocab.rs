//! Controlled vocabularies of the staff registry.

vocabulary! {
    /// Professional category (人员类别).
    StaffCategory {
        /// 执业医师
        Physician = "physician",
        /// 执业助理医师
        AssistantPhysician = "assistant_physician",
        /// 乡村医生
        VillageDoctor = "village_doctor",
        /// 护士
        Nurse = "nurse",
        /// 药师
        Pharmacist = "pharmacist",
        /// 技师
        Technician = "technician",
        /// 公共卫生人员
        PublicHealth = "public_health",
        /// 管理人员
        Admin = "admin",
    }
}

vocabulary! {
    /// Professional title level (职称).
    TitleLevel {
        /// 初级 (医士/医师, 护士/护师, 药士/药师, 技士/技师)
        Junior = "junior",
        /// 中级 (主治医师, 主管护师/药师/技师)
        Intermediate = "intermediate",
        /// 副高 (副主任医师/护师/药师/技师)
        AssociateSenior = "associate_senior",
        /// 正高 (主任医师/护师/药师/技师)
        Senior = "senior",
    }
}

impl TitleLevel {
    /// At least intermediate (中级及以上), the bar of the dispatch indicator.
    pub fn at_least_intermediate(self) -> bool {
        self >= Self::Intermediate
    }
}

vocabulary! {
    /// Practice registration category (执业类别).
    PracticeCategory {
        /// 临床
        Clinical = "clinical",
        /// 中医
        Tcm = "tcm",
        /// 口腔
        Dental = "dental",
        /// 公共卫生
        PublicHealth = "public_health",
    }
}

vocabulary! {
    /// Basis of a posting; the only source of privileges at a site.
    PostingSource {
        /// 人事关系 / regular employment
        Employment = "employment",
        /// 下沉 / 驻点: dispatched from another member
        Dispatch = "dispatch",
        /// 多机构执业
        MultiSite = "multi_site",
        /// 远程会诊
        Teleconsultation = "teleconsultation",
    }
}
