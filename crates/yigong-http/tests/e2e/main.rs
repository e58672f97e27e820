//! End-to-end tests: a real server on a free port over the synthetic county's organisation,
//! driven by headless Chromium, on SQLite and PostgreSQL. A failure leaves a screenshot and the
//! page's HTML in `target/test-artifacts/`.

mod pages;
mod patients;
mod reading;
mod record;
mod referral;

use std::net::SocketAddr;

use yigong_app::Ctx;
use yigong_app::auth::UserDraft;
use yigong_domain::access::Role;
use yigong_domain::facility::{InstitutionKind, Tier};
use yigong_domain::ids::ConsortiumId;
use yigong_testkit::{Backend, TestDb};

pub const PASSWORD: &str = "e2e-password-2026";

/// A served county and the accounts of the tests.
pub struct TestServer {
    pub base_url: String,
    /// The server's context, for setting up data through the use cases.
    pub ctx: Ctx,
    /// The synthetic county's consortium.
    pub consortium_id: ConsortiumId,
    _db: TestDb,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> Option<Self> {
        let db = yigong_testkit::db(backend).await?;
        let ctx = Ctx::new(db.db.clone());
        let cfg = yigong_synth::SynthConfig { residents: 0, ..yigong_synth::SynthConfig::demo() };
        let org = yigong_synth::organisation(&cfg);
        let seed = yigong_app::seed::OrganisationSeed {
            consortium: &org.consortium,
            divisions: &org.divisions,
            institutions: &org.institutions,
            departments: &org.departments,
            staff: &org.staff,
            postings: &org.postings,
        };
        yigong_app::seed::load_organisation(&ctx, seed, |_, _| {}).await.unwrap();
        let console = yigong_app::access::console(org.consortium.id);
        let site =
            |pred: fn(&InstitutionKind) -> bool| org.institutions.iter().find(|i| pred(&i.kind)).unwrap().id;
        let accounts = [
            ("admin", Role::SystemAdmin, None),
            (
                "village",
                Role::VillageDoctor,
                Some(site(|k| *k == InstitutionKind::Member(Tier::VillageServicePoint))),
            ),
            (
                "township",
                Role::TownshipDoctor,
                Some(site(|k| *k == InstitutionKind::Member(Tier::TownshipCentre))),
            ),
            ("manager", Role::ConsortiumManager, None),
            (
                "tadmin",
                Role::InstitutionAdmin,
                Some(site(|k| *k == InstitutionKind::Member(Tier::TownshipCentre))),
            ),
        ];
        for (username, role, institution_id) in accounts {
            let draft = UserDraft {
                username: username.into(),
                display_name: format!("{username}测试"),
                password: PASSWORD.into(),
                role: role.as_str().into(),
                institution_id,
                staff_id: None,
            };
            yigong_app::auth::create_user(&ctx, &console, org.consortium.id, draft).await.unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = yigong_http::app(ctx.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Some(Self {
            base_url: format!("http://{addr}"),
            ctx,
            consortium_id: org.consortium.id,
            _db: db,
            task,
        })
    }
}

impl TestServer {
    /// Loads the facility registrations of `residents` synthetic residents (each facility's
    /// list as a source of its own, `HIS-<code>`) and runs the matching once, so the index has
    /// a model estimated over a realistic population before the test registers anyone.
    pub async fn seed_patients(&self, residents: u32) -> yigong_app::mpi::MatchReport {
        let cfg = yigong_synth::SynthConfig { residents, ..yigong_synth::SynthConfig::demo() };
        let org = yigong_synth::organisation(&cfg);
        let mut by_source: std::collections::BTreeMap<String, Vec<yigong_app::mpi::ImportRow>> =
            Default::default();
        for village in yigong_synth::registrations(&cfg, &org) {
            for r in village.registrations {
                let rows = by_source.entry(format!("HIS-{}", r.source)).or_default();
                rows.push(yigong_app::mpi::ImportRow {
                    line: rows.len() as u64 + 2,
                    local_id: r.local_id,
                    values: yigong_store::mpi::Values {
                        name: Some(r.name),
                        sex: Some(r.sex),
                        birth_date: Some(r.birth_date),
                        resident_id: r.resident_id,
                        phone: r.phone,
                        village_code: r.village_code,
                        household_id: r.household_id,
                        e_health_card: r.e_health_card,
                        insurance_number: r.insurance_number,
                        ..Default::default()
                    },
                });
            }
        }
        let none = yigong_app::mpi::Progress::none();
        for (source, rows) in by_source {
            yigong_app::mpi::import_rows(&self.ctx, self.consortium_id, &source, rows, &none).await.unwrap();
        }
        yigong_app::mpi::rematch(&self.ctx, self.consortium_id, None, &none).await.unwrap()
    }
}

/// One test module per entry, running the body on SQLite and on PostgreSQL; an entry may name
/// a setup (`name => body [setup]`) run on the server before the browser starts.
macro_rules! on_both {
    ($($name:ident => $body:path $([$setup:path])?),* $(,)?) => {$(
        mod $name {
            use yigong_testkit::Backend;
            async fn run(backend: Backend) {
                let Some(server) = crate::TestServer::start(backend).await else { return };
                $($setup(&server).await;)?
                let Some(browser) = yigong_testkit::browser::chromium(&server.base_url).await else { return };
                let name = format!("{}_{:?}", stringify!($name), backend);
                yigong_testkit::browser::run(browser, &name, async |page| $body(page).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(Backend::Postgres).await;
            }
        }
    )*};
}

on_both! {
    login_and_language => crate::pages::login_wrong_then_right_and_switch_language,
    institution_tree_and_search => crate::pages::institution_tree_and_search,
    create_institution => crate::pages::create_institution_error_then_success,
    scope_refusal => crate::pages::scope_refusal_is_a_readable_page,
    out_of_scope_write => crate::pages::out_of_scope_write_is_a_readable_page,
    keyboard_and_logout => crate::pages::keyboard_navigation_and_logout,
    registration_with_match => crate::patients::register_then_register_again_with_a_typo
        [crate::patients::seed_population],
    review_queue => crate::patients::steward_merges_a_pair_then_undoes_it [crate::patients::queue_a_pair],
    list_import => crate::patients::steward_imports_a_patient_list,
    patient_360 => crate::record::township_doctor_reads_the_patients_year [crate::record::seed_record],
    reading_order_to_report => crate::reading::order_read_report_and_recognise [crate::reading::seed],
}
