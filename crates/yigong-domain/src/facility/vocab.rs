//! Controlled vocabularies of the organisation model.

vocabulary! {
    /// Tier of a member institution (DESIGN.md §2).
    Tier {
        /// 县级综合医院
        CountyGeneral = "county_general",
        /// 县中医院
        CountyTcm = "county_tcm",
        /// 县妇幼保健院
        CountyMch = "county_mch",
        /// 其他县级医院
        CountyOther = "county_other",
        /// 乡镇卫生院 (central or general, see `is_central`)
        TownshipCentre = "township_centre",
        /// 社区卫生服务中心
        CommunityCentre = "community_centre",
        /// 社区卫生服务站
        CommunityStation = "community_station",
        /// 村卫生室
        VillageClinic = "village_clinic",
        /// 乡镇卫生院延伸的村级服务点
        VillageServicePoint = "village_service_point",
        /// 诊所 / 门诊部
        PrivateClinic = "private_clinic",
    }
}

impl Tier {
    /// Grassroots (基层) in the NHC statistical sense: township, community, village, clinics.
    pub fn is_grassroots(self) -> bool {
        !self.is_county_level()
    }

    /// A county-level hospital.
    pub fn is_county_level(self) -> bool {
        matches!(self, Self::CountyGeneral | Self::CountyTcm | Self::CountyMch | Self::CountyOther)
    }

    /// The tier a parent must have, if this tier takes a parent at all.
    pub fn parent_tier(self) -> Option<Tier> {
        match self {
            Self::VillageServicePoint | Self::VillageClinic => Some(Self::TownshipCentre),
            Self::CommunityStation => Some(Self::CommunityCentre),
            _ => None,
        }
    }

    /// Whether a parent is mandatory: a village service point belongs to its township centre.
    pub fn parent_required(self) -> bool {
        matches!(self, Self::VillageServicePoint)
    }
}

vocabulary! {
    /// Kinds of agency tied to a county; agencies are never consortium members.
    AgencyKind {
        /// 卫生健康局
        HealthBureau = "health_bureau",
        /// 疾病预防控制中心
        Cdc = "cdc",
        /// 医疗保障局
        InsuranceBureau = "insurance_bureau",
    }
}

vocabulary! {
    /// Ownership of an institution.
    Ownership {
        /// 公立 (government-run, including collective village clinics)
        Public = "public",
        /// 民营
        Private = "private",
    }
}

vocabulary! {
    /// Services an institution offers that other workflows route to.
    Service {
        /// 影像诊断中心
        ImagingCentre = "imaging_centre",
        /// 心电诊断中心
        EcgCentre = "ecg_centre",
        /// 医学检验中心
        LabCentre = "lab_centre",
        /// 病理诊断中心
        PathologyCentre = "pathology_centre",
        /// 发热门诊
        FeverClinic = "fever_clinic",
        /// 哨点医院
        SentinelSite = "sentinel_site",
        /// 胸痛中心
        ChestPainCentre = "chest_pain_centre",
        /// 卒中中心
        StrokeCentre = "stroke_centre",
        /// 创伤中心
        TraumaCentre = "trauma_centre",
        /// 危重孕产妇救治中心
        MaternalCentre = "maternal_centre",
        /// 危重儿童和新生儿救治中心
        NeonatalCentre = "neonatal_centre",
        /// 远程会诊
        Teleconsultation = "teleconsultation",
        /// 转诊中心
        ReferralCentre = "referral_centre",
    }
}
