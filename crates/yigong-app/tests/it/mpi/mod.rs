//! Master patient index use cases (`yigong_app::mpi`) on SQLite and PostgreSQL: registration,
//! access and audit, steward operations, bulk import and matching.
//!
//! Every test is an `async fn(Backend)` run once per backend by [`on_both!`]. The fixture is a
//! small consortium of the fictitious county 990121 (a county hospital, a township centre and
//! one of its village service points) with accounts made through `auth::create_user` and
//! resolved by `access::resolve_actor`, as a request would. Demographics come from
//! [`synth`], a deterministic generator independent of `yigong-synth`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use uuid::Uuid;
use yigong_app::auth::{self, UserDraft};
use yigong_app::mpi::{self, ImportReport, ImportRow, MatchReport, Progress, Registered, RegistrarChoice};
use yigong_app::{AppError, Ctx, ManualClock};
use yigong_domain::access::Actor;
use yigong_domain::facility::{ConsortiumDraft, InstitutionDraft};
use yigong_domain::ids::{ConsortiumId, InstitutionId, PatientRecordId, PersonId};
use yigong_domain::page::PageRequest;
use yigong_domain::patient::RegistrationDraft;
use yigong_store::audit::{AuditRow, Filter};
use yigong_testkit::{Backend, TestDb};

mod access;
mod bulk;
mod register;
mod steward;
pub mod synth;

use synth::Resident;

/// Runs each named `async fn(Backend)` as two tests, `<name>::sqlite` and `<name>::postgres`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(yigong_testkit::Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                super::$name(yigong_testkit::Backend::Postgres).await;
            }
        }
    )*};
}
pub(crate) use on_both;

const PASSWORD: &str = "correct-horse-42";

/// A consortium with three institutions, a steward, and a database to match in.
pub struct Fixture {
    pub ctx: Ctx,
    pub clock: Arc<ManualClock>,
    pub consortium: ConsortiumId,
    /// H01, the county hospital.
    pub hospital: InstitutionId,
    /// T01, a township centre.
    pub township: InstitutionId,
    /// V001, a village service point under T01.
    pub village: InstitutionId,
    /// A consortium manager: the role that holds `mpi_steward`.
    pub steward: Actor,
    users: AtomicUsize,
    _db: TestDb,
}

impl Fixture {
    /// `None` where the backend is unavailable (PostgreSQL outside CI).
    pub async fn new(backend: Backend) -> Option<Self> {
        let db = yigong_testkit::db(backend).await?;
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()));
        let mut ctx = Ctx::new(db.db.clone());
        ctx.clock = clock.clone();
        let console = yigong_app::access::console(ConsortiumId::from_uuid(Uuid::nil()));
        let draft = ConsortiumDraft {
            name: "青岚县医疗卫生共同体".into(),
            county_code: "990121".into(),
            founded_on: NaiveDate::from_ymd_opt(2020, 6, 1),
        };
        let c = yigong_app::registry::create_consortium(&ctx, &console, draft).await.unwrap();
        let console = yigong_app::access::console(c.id);
        let institution =
            |code: &str, name: &str, tier: &str, division: &str, parent: Option<InstitutionId>| {
                InstitutionDraft {
                    code: code.into(),
                    name: name.into(),
                    tier: Some(tier.into()),
                    division_code: division.into(),
                    parent_id: parent,
                    ..InstitutionDraft::default()
                }
            };
        let create = |draft| yigong_app::registry::create_institution(&ctx, &console, c.id, draft);
        let hospital = create(institution("H01", "青岚县人民医院", "county_general", "990121000000", None))
            .await
            .unwrap()
            .id;
        let township = create(institution("T01", "东关镇卫生院", "township_centre", "990121101000", None))
            .await
            .unwrap()
            .id;
        let village = create(institution(
            "V001",
            "上河村卫生服务点",
            "village_service_point",
            "990121101201",
            Some(township),
        ))
        .await
        .unwrap()
        .id;
        let mut fixture = Self {
            ctx,
            clock,
            consortium: c.id,
            hospital,
            township,
            village,
            steward: yigong_app::access::console(c.id),
            users: AtomicUsize::new(0),
            _db: db,
        };
        fixture.steward = fixture.actor("consortium_manager", None).await;
        Some(fixture)
    }

    /// A new account with `role` at `institution`, resolved into its actor.
    pub async fn actor(&self, role: &str, institution: Option<InstitutionId>) -> Actor {
        let n = self.users.fetch_add(1, Ordering::Relaxed);
        let console = yigong_app::access::console(self.consortium);
        let draft = UserDraft {
            username: format!("user{n}"),
            display_name: format!("user{n}"),
            password: PASSWORD.into(),
            role: role.into(),
            institution_id: institution,
            staff_id: None,
        };
        let user = auth::create_user(&self.ctx, &console, self.consortium, draft).await.unwrap();
        let mut tx = self.ctx.db.begin().await.unwrap();
        yigong_app::access::resolve_actor(&self.ctx, &mut tx, &user.account, &user.roles[0], None)
            .await
            .unwrap()
    }

    /// Moves the clock a minute on, so registrations and operations have distinct instants.
    pub fn tick(&self) {
        self.clock.advance(Duration::minutes(1));
    }

    /// Registers (after a tick).
    pub async fn register(
        &self,
        actor: &Actor,
        draft: &RegistrationDraft,
        choice: RegistrarChoice,
    ) -> Result<Registered, AppError> {
        self.tick();
        mpi::register(&self.ctx, actor, draft, choice).await
    }

    /// Imports rows as source `code`.
    pub async fn import(&self, code: &str, rows: Vec<ImportRow>) -> ImportReport {
        self.tick();
        mpi::import_rows(&self.ctx, self.consortium, code, rows, &Progress::none()).await.unwrap()
    }

    /// Runs the matcher over the whole consortium with the stored (or default) model.
    pub async fn rematch(&self) -> MatchReport {
        self.tick();
        mpi::rematch(&self.ctx, self.consortium, None, &Progress::none()).await.unwrap()
    }

    /// Loads `n` residents as source `GW` and a quarter of them again, with typing
    /// differences, plus `extra` others as source `YB`; then matches. Returns the residents of
    /// `GW` (local ids `GW<i>`; the duplicates are `YB<i>` for `i < n / 4`).
    pub async fn populate(&self, seed: u64, n: usize, extra: usize) -> (Vec<Resident>, MatchReport) {
        let (gw, yb) = synth::two_sources(seed, n, extra);
        self.import("GW", gw.iter().enumerate().map(|(i, r)| r.import_row(i, format!("GW{i}"))).collect())
            .await;
        self.import("YB", yb).await;
        let report = self.rematch().await;
        (gw, report)
    }

    /// The person an imported or registered record is linked to now, by source and local id.
    pub async fn person_of_local(&self, source: &str, local_id: &str) -> PersonId {
        let mut tx = self.ctx.db.begin().await.unwrap();
        let links = yigong_store::mpi::linked_local_ids(&mut tx, self.consortium).await.unwrap();
        links
            .into_iter()
            .find(|(_, s, l, _)| s == source && l == local_id)
            .map(|(p, _, _, _)| p)
            .unwrap_or_else(|| panic!("no open link for {source}/{local_id}"))
    }

    /// The person a record is linked to now (read from the store, not through a use case).
    pub async fn person_of(&self, record: PatientRecordId) -> Option<PersonId> {
        let mut tx = self.ctx.db.begin().await.unwrap();
        yigong_store::mpi::person_of(&mut tx, self.consortium, record).await.unwrap()
    }

    /// Records of the consortium.
    pub async fn records(&self) -> i64 {
        let mut tx = self.ctx.db.begin().await.unwrap();
        yigong_store::mpi::count_records(&mut tx, self.consortium).await.unwrap()
    }

    /// Distinct persons that have a record linked now.
    pub async fn linked_persons(&self) -> usize {
        let mut tx = self.ctx.db.begin().await.unwrap();
        let links = yigong_store::mpi::linked_local_ids(&mut tx, self.consortium).await.unwrap();
        links.iter().map(|(p, _, _, _)| *p).collect::<std::collections::HashSet<_>>().len()
    }

    /// Every audit row written by `user`, oldest first.
    pub async fn audit_of(&self, user: Uuid) -> Vec<AuditRow> {
        let mut tx = self.ctx.db.begin().await.unwrap();
        let filter = Filter { actor_user_id: Some(user), ..Filter::default() };
        let page = PageRequest { size: 500, after: None };
        let mut rows =
            yigong_store::audit::list(&mut tx, self.consortium, &filter, &page).await.unwrap().items;
        rows.reverse();
        rows
    }

    /// The open candidate pairs, as the steward lists them.
    pub async fn open_pairs(&self) -> Vec<(PatientRecordId, PatientRecordId)> {
        self.pairs("open").await
    }

    /// The candidate pairs with `status` (first 500), as the steward lists them.
    pub async fn pairs(&self, status: &str) -> Vec<(PatientRecordId, PatientRecordId)> {
        let page = PageRequest { size: 500, after: None };
        let (page, total) = mpi::list_candidates(&self.ctx, &self.steward, status, &page).await.unwrap();
        assert_eq!(page.items.len() as i64, total, "one page holds the whole queue in these tests");
        page.items.iter().map(|c| (c.candidate.record_a, c.candidate.record_b)).collect()
    }
}

/// The pair as the queue stores it: smaller record id first.
pub fn pair(a: PatientRecordId, b: PatientRecordId) -> (PatientRecordId, PatientRecordId) {
    if a < b { (a, b) } else { (b, a) }
}

/// Asserts a validation refusal naming `field` with `code`.
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, AppError>, field: &str, code: &str) {
    match result {
        Err(AppError::Invalid(invalid)) => {
            assert!(
                invalid.fields.iter().any(|f| f.field == field && f.code == code),
                "expected {field}: {code}, got {invalid:?}"
            );
        }
        other => panic!("expected {field}: {code}, got {other:?}"),
    }
}

/// Asserts a `Forbidden` refusal with `code`.
#[track_caller]
pub fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, AppError>, code: &str) {
    match result {
        Err(AppError::Forbidden { code: c }) if c == code => {}
        other => panic!("expected Forbidden({code}), got {other:?}"),
    }
}

/// Asserts a `Conflict` refusal with `rule`.
#[track_caller]
pub fn assert_conflict<T: std::fmt::Debug>(result: Result<T, AppError>, rule: &str) {
    match result {
        Err(AppError::Conflict { rule: r }) if r == rule => {}
        other => panic!("expected Conflict({rule}), got {other:?}"),
    }
}
