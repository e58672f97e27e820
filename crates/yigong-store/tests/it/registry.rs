//! Registry tables: round trips, constraints, pagination, tenancy.

use chrono::{NaiveDate, TimeZone, Utc};
use yigong_domain::facility::Membership;
use yigong_domain::facility::{
    Consortium, Department, DepartmentKind, Institution, InstitutionKind, NewConsortium, Ownership, Service,
    Tier,
};
use yigong_domain::identity::{CountyCode, DivisionCode, ResidentId, Sex};
use yigong_domain::ids::*;
use yigong_domain::page::PageRequest;
use yigong_domain::population::{HealthRecord, Household};
use yigong_domain::staffing::{PostingSource, StaffCategory, TitleLevel};
use yigong_domain::{Posting, Staff, TitleRecord};
use yigong_store::institution::Filter;
use yigong_store::{Db, StoreError, consortium, department, institution, population, staff};

fn at(day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, 8, 30, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn new_consortium(db: &Db, county: &str) -> Consortium {
    let mut tx = db.begin_write().await.unwrap();
    let new = NewConsortium {
        name: format!("{county}医共体"),
        county_code: CountyCode::parse(county).unwrap(),
        founded_on: date(2020, 1, 1),
    };
    let c = consortium::insert(&mut tx, ConsortiumId::new_v7(), &new, at(1)).await.unwrap();
    tx.commit().await.unwrap();
    c
}

fn institution_row(
    c: &Consortium,
    code: &str,
    tier: Tier,
    division: &str,
    parent: Option<InstitutionId>,
) -> Institution {
    Institution {
        id: InstitutionId::new_v7(),
        consortium_id: c.id,
        code: code.into(),
        name: format!("{code} 卫生院"),
        kind: InstitutionKind::Member(tier),
        is_central: false,
        division_code: DivisionCode::parse(division).unwrap(),
        parent_id: parent,
        credit_code: None,
        licence_no: Some("PDY12345".into()),
        ownership: Ownership::Public,
        services: vec![Service::EcgCentre, Service::ImagingCentre],
        beds: 30,
        address: Some("青岚大道1号".into()),
        created_at: at(2),
        updated_at: at(2),
    }
}

async fn insert(db: &Db, i: &Institution) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await.unwrap();
    institution::insert(&mut tx, i).await?;
    tx.commit().await
}

pub async fn institutions_round_trip(db: &Db) {
    let c = new_consortium(db, "990121").await;
    let t = institution_row(&c, "T01", Tier::TownshipCentre, "990121101000", None);
    let v = institution_row(&c, "V001", Tier::VillageServicePoint, "990121101201", Some(t.id));
    insert(db, &t).await.unwrap();
    insert(db, &v).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert_eq!(institution::get(&mut tx, c.id, v.id).await.unwrap(), v);
    assert_eq!(institution::find_by_code(&mut tx, c.id, "T01").await.unwrap().as_ref(), Some(&t));
    assert!(matches!(
        institution::get(&mut tx, c.id, InstitutionId::new_v7()).await,
        Err(StoreError::NotFound)
    ));
    drop(tx);

    let mut changed = v.clone();
    changed.name = "上河村卫生室".into();
    changed.services = vec![];
    changed.updated_at = at(3);
    let mut tx = db.begin_write().await.unwrap();
    institution::update(&mut tx, &changed).await.unwrap();
    institution::insert_membership(
        &mut tx,
        c.id,
        v.id,
        &Membership {
            valid_from: date(2021, 1, 1),
            valid_to: Some(date(2022, 12, 31)),
            reason: "founding".into(),
        },
    )
    .await
    .unwrap();
    institution::insert_membership(
        &mut tx,
        c.id,
        v.id,
        &Membership { valid_from: date(2024, 1, 1), valid_to: None, reason: "rejoined".into() },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert_eq!(institution::get(&mut tx, c.id, v.id).await.unwrap(), changed);
    let history = institution::memberships(&mut tx, c.id, v.id).await.unwrap();
    assert_eq!(history.iter().map(|m| m.reason.as_str()).collect::<Vec<_>>(), ["founding", "rejoined"]);
    let counts = institution::child_counts(&mut tx, c.id).await.unwrap();
    assert_eq!(counts, vec![(t.id, 1)]);

    let mut c2 = consortium::get(&mut tx, c.id).await.unwrap();
    drop(tx);
    let mut tx = db.begin_write().await.unwrap();
    consortium::set_lead(&mut tx, c.id, t.id).await.unwrap();
    tx.commit().await.unwrap();
    c2.lead_institution_id = Some(t.id);
    let mut tx = db.begin().await.unwrap();
    assert_eq!(consortium::get(&mut tx, c.id).await.unwrap(), c2);
}

pub async fn institution_rules_enforced_by_schema(db: &Db) {
    let c = new_consortium(db, "990121").await;
    let t = institution_row(&c, "T01", Tier::TownshipCentre, "990121101000", None);
    insert(db, &t).await.unwrap();
    // Same code twice.
    let dup = institution_row(&c, "T01", Tier::TownshipCentre, "990121102000", None);
    assert!(matches!(insert(db, &dup).await, Err(StoreError::Conflict { rule: "institution_code_taken" })));
    // Parent that does not exist.
    let orphan =
        institution_row(&c, "V9", Tier::VillageClinic, "990121101201", Some(InstitutionId::new_v7()));
    assert!(matches!(insert(db, &orphan).await, Err(StoreError::MissingReference { .. })));
    // Membership that ends before it starts.
    let mut tx = db.begin_write().await.unwrap();
    let bad =
        Membership { valid_from: date(2024, 1, 1), valid_to: Some(date(2023, 1, 1)), reason: "x".into() };
    assert!(institution::insert_membership(&mut tx, c.id, t.id, &bad).await.is_err());
}

pub async fn institution_list_pages_and_filters(db: &Db) {
    let c = new_consortium(db, "990121").await;
    let t1 = institution_row(&c, "T01", Tier::TownshipCentre, "990121101000", None);
    let t2 = institution_row(&c, "T02", Tier::TownshipCentre, "990121102000", None);
    insert(db, &t1).await.unwrap();
    insert(db, &t2).await.unwrap();
    for n in 0..25 {
        let (parent, township) = if n % 2 == 0 { (&t1, "101") } else { (&t2, "102") };
        let mut v = institution_row(
            &c,
            &format!("V{n:03}"),
            Tier::VillageClinic,
            &format!("990121{township}{:03}", 200 + n),
            Some(parent.id),
        );
        v.name = if n == 7 { "100%_纯村卫生室".into() } else { format!("村卫生室{n}") };
        insert(db, &v).await.unwrap();
    }
    let mut tx = db.begin().await.unwrap();
    // Paging through everything returns each row once, in code order.
    let mut seen = Vec::new();
    let mut page = PageRequest { size: 10, after: None };
    loop {
        let p = institution::list(&mut tx, c.id, &Filter::default(), &page).await.unwrap();
        assert!(p.items.len() <= 10);
        seen.extend(p.items.iter().map(|i| i.code.clone()));
        match p.next_after {
            Some(after) => page.after = Some(after),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len(), 27);

    let children = Filter { parent: Some(t1.id), ..Default::default() };
    let p = institution::list(&mut tx, c.id, &children, &PageRequest::first()).await.unwrap();
    assert_eq!(p.items.len(), 13);
    let in_township = Filter { township_code: Some("990121102000".into()), ..Default::default() };
    let p = institution::list(&mut tx, c.id, &in_township, &PageRequest::first()).await.unwrap();
    assert_eq!(p.items.len(), 13, "12 villages and the centre itself");
    let tier = Filter { tier: Some(Tier::TownshipCentre), ..Default::default() };
    assert_eq!(institution::list(&mut tx, c.id, &tier, &PageRequest::first()).await.unwrap().items.len(), 2);
    // LIKE metacharacters in the search are literal.
    let q = Filter { query: Some("100%_".into()), ..Default::default() };
    let p = institution::list(&mut tx, c.id, &q, &PageRequest::first()).await.unwrap();
    assert_eq!(p.items.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(), ["V007"]);
    let q = Filter { query: Some("%".into()), ..Default::default() };
    assert_eq!(institution::list(&mut tx, c.id, &q, &PageRequest::first()).await.unwrap().items.len(), 1);
    // Case does not matter, on either backend.
    let q = Filter { query: Some("v01".into()), ..Default::default() };
    assert_eq!(institution::list(&mut tx, c.id, &q, &PageRequest::first()).await.unwrap().items.len(), 10);
    let agencies = Filter { agency: Some(true), ..Default::default() };
    assert!(
        institution::list(&mut tx, c.id, &agencies, &PageRequest::first()).await.unwrap().items.is_empty()
    );
}

fn staff_row(c: &Consortium, code: &str, employer: InstitutionId) -> Staff {
    Staff {
        id: StaffId::new_v7(),
        consortium_id: c.id,
        code: code.into(),
        name: "林晓".into(),
        sex: Sex::Female,
        resident_id: Some(ResidentId::parse("11010519491231002X", date(2026, 1, 1)).unwrap()),
        category: StaffCategory::Physician,
        title_level: Some(TitleLevel::Intermediate),
        title_name: Some("主治医师".into()),
        practice_certificate_no: Some("110990121000123".into()),
        practice_category: Some(yigong_domain::staffing::PracticeCategory::Clinical),
        practice_scope: Some("内科专业".into()),
        registered_institution_id: Some(employer),
        multi_site: true,
        employer_institution_id: employer,
        created_at: at(2),
        updated_at: at(2),
    }
}

pub async fn staff_titles_and_postings(db: &Db) {
    let c = new_consortium(db, "990121").await;
    let h = institution_row(&c, "H01", Tier::CountyGeneral, "990121000000", None);
    let t = institution_row(&c, "T01", Tier::TownshipCentre, "990121101000", None);
    insert(db, &h).await.unwrap();
    insert(db, &t).await.unwrap();
    let dep = Department {
        id: DepartmentId::new_v7(),
        consortium_id: c.id,
        institution_id: h.id,
        subject_code: Some("03".into()),
        name: "内科".into(),
        kind: DepartmentKind::Clinical,
        created_at: at(2),
    };
    let s = staff_row(&c, "S001", h.id);
    let mut tx = db.begin_write().await.unwrap();
    department::insert(&mut tx, &dep).await.unwrap();
    staff::insert(&mut tx, &s).await.unwrap();
    let junior =
        TitleRecord { level: Some(TitleLevel::Junior), name: Some("医师".into()), since: date(2015, 7, 1) };
    let inter = TitleRecord {
        level: Some(TitleLevel::Intermediate),
        name: Some("主治医师".into()),
        since: date(2021, 1, 1),
    };
    staff::insert_title(&mut tx, c.id, s.id, &inter).await.unwrap();
    staff::insert_title(&mut tx, c.id, s.id, &junior).await.unwrap();
    let employment = Posting {
        id: PostingId::new_v7(),
        consortium_id: c.id,
        staff_id: s.id,
        institution_id: h.id,
        department_id: Some(dep.id),
        position: Some("内科医师".into()),
        source: PostingSource::Employment,
        valid_from: date(2015, 7, 1),
        valid_to: None,
        created_at: at(2),
    };
    let dispatch = Posting {
        id: PostingId::new_v7(),
        institution_id: t.id,
        department_id: None,
        source: PostingSource::Dispatch,
        valid_from: date(2026, 3, 1),
        valid_to: Some(date(2026, 8, 31)),
        ..employment.clone()
    };
    staff::insert_posting(&mut tx, &employment).await.unwrap();
    staff::insert_posting(&mut tx, &dispatch).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    assert_eq!(staff::find(&mut tx, c.id, s.id).await.unwrap().as_ref(), Some(&s));
    assert_eq!(staff::titles(&mut tx, c.id, s.id).await.unwrap(), vec![junior, inter]);
    let postings = staff::list_postings(&mut tx, c.id, s.id, &PageRequest::first()).await.unwrap();
    assert_eq!(postings.items, vec![dispatch.clone(), employment.clone()], "newest first");
    let one = staff::list_postings(&mut tx, c.id, s.id, &PageRequest { size: 1, after: None }).await.unwrap();
    let rest =
        staff::list_postings(&mut tx, c.id, s.id, &PageRequest { size: 1, after: one.next_after.clone() })
            .await
            .unwrap();
    assert_eq!(rest.items, vec![employment.clone()]);
    assert!(rest.next_after.is_none());

    // The staff list filtered by institution follows the postings' periods.
    let at_township =
        |on| yigong_store::staff::Filter { institution: Some(t.id), on: Some(on), ..Default::default() };
    let during =
        staff::list(&mut tx, c.id, &at_township(date(2026, 5, 1)), &PageRequest::first()).await.unwrap();
    assert_eq!(during.items.len(), 1);
    let last_day =
        staff::list(&mut tx, c.id, &at_township(date(2026, 8, 31)), &PageRequest::first()).await.unwrap();
    assert_eq!(last_day.items.len(), 1, "valid_to is inclusive");
    let after =
        staff::list(&mut tx, c.id, &at_township(date(2026, 9, 1)), &PageRequest::first()).await.unwrap();
    assert!(after.items.is_empty());
    drop(tx);

    let mut tx = db.begin_write().await.unwrap();
    let dup = staff_row(&c, "S001", h.id);
    assert!(matches!(
        staff::insert(&mut tx, &dup).await,
        Err(StoreError::Conflict { rule: "staff_code_taken" })
    ));
}

pub async fn rollback_leaves_nothing(db: &Db) {
    let c = new_consortium(db, "990121").await;
    let t = institution_row(&c, "T01", Tier::TownshipCentre, "990121101000", None);
    {
        let mut tx = db.begin_write().await.unwrap();
        institution::insert(&mut tx, &t).await.unwrap();
        // Dropped without commit.
    }
    let mut tx = db.begin().await.unwrap();
    assert!(institution::find(&mut tx, c.id, t.id).await.unwrap().is_none());
}

pub async fn tenants_are_isolated(db: &Db) {
    let a = new_consortium(db, "990121").await;
    let b = new_consortium(db, "990122").await;
    let ta = institution_row(&a, "T01", Tier::TownshipCentre, "990121101000", None);
    let tb = institution_row(&b, "T01", Tier::TownshipCentre, "990122101000", None);
    insert(db, &ta).await.unwrap();
    insert(db, &tb).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert!(institution::find(&mut tx, b.id, ta.id).await.unwrap().is_none(), "a's row is not b's");
    let listed = institution::list(&mut tx, a.id, &Filter::default(), &PageRequest::first()).await.unwrap();
    assert_eq!(listed.items, vec![ta.clone()]);
    drop(tx);
    // A child in b cannot point at a parent of a: the foreign key includes consortium_id.
    let cross = institution_row(&b, "V001", Tier::VillageClinic, "990122101201", Some(ta.id));
    assert!(matches!(insert(db, &cross).await, Err(StoreError::MissingReference { .. })));
}

pub async fn residents_bulk_load(db: &Db) {
    let c = new_consortium(db, "990121").await;
    let t = institution_row(&c, "T01", Tier::TownshipCentre, "990121101000", None);
    insert(db, &t).await.unwrap();
    let village = DivisionCode::parse("990121101201").unwrap();
    let households: Vec<Household> = (0..700)
        .map(|n| Household {
            id: HouseholdId::new_v7(),
            consortium_id: c.id,
            village_code: village.clone(),
            address: format!("{n}号"),
        })
        .collect();
    let id15 = ResidentId::parse("110105491231002", date(2026, 1, 1)).unwrap();
    let records: Vec<HealthRecord> = households
        .iter()
        .enumerate()
        .map(|(n, h)| HealthRecord {
            id: HealthRecordId::new_v7(),
            consortium_id: c.id,
            record_no: format!("990121101201{n:05}"),
            household_id: Some(h.id),
            household_relation: Some("02".into()),
            name: "王伟".into(),
            sex: Sex::Female,
            birth_date: date(1949, 12, 31),
            resident_id: (n == 3).then(|| id15.clone()),
            phone: Some("13800000000".into()),
            village_code: village.clone(),
            address: h.address.clone(),
            managing_institution_id: t.id,
            created_at: at(2),
        })
        .collect();
    let mut tx = db.begin_write().await.unwrap();
    population::insert_households(&mut tx, &households).await.unwrap();
    population::insert_health_records(&mut tx, &records).await.unwrap();
    let division = yigong_domain::population::Division {
        code: "990121101201".into(),
        level: "village",
        name: "上河村委会".into(),
        parent_code: Some("990121101000".into()),
        valid_from: date(2024, 1, 1),
        urban_rural_class: Some("220".into()),
        population: Some(1234),
    };
    population::insert_division(&mut tx, &division, 2026).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert_eq!(population::count_health_records(&mut tx, c.id).await.unwrap(), 700);
    assert_eq!(population::health_records_by_institution(&mut tx, c.id).await.unwrap(), vec![(t.id, 700)]);
    assert!(population::county_has_villages(&mut tx, "990121").await.unwrap());
    assert!(!population::county_has_villages(&mut tx, "990122").await.unwrap());
    assert_eq!(
        population::division_name(&mut tx, "990121101201", date(2026, 1, 1)).await.unwrap().as_deref(),
        Some("上河村委会")
    );
    assert!(
        population::division_name(&mut tx, "990121101201", date(2023, 1, 1)).await.unwrap().is_none(),
        "not valid yet"
    );
    let kids = population::divisions(&mut tx, Some("990121101000"), date(2026, 1, 1)).await.unwrap();
    assert_eq!(kids.len(), 1);
    // Loading the same households again is a conflict, and nothing half-written remains.
    drop(tx);
    let mut tx = db.begin_write().await.unwrap();
    assert!(population::insert_households(&mut tx, &households[..10]).await.is_err());
}
