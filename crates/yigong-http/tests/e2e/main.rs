//! End-to-end tests: a real server on a free port over the synthetic county's organisation,
//! driven by headless Chromium, on SQLite and PostgreSQL. A failure leaves a screenshot and the
//! page's HTML in `target/test-artifacts/`.

mod pages;

use std::net::SocketAddr;

use yigong_app::Ctx;
use yigong_app::auth::UserDraft;
use yigong_domain::access::Role;
use yigong_domain::facility::{InstitutionKind, Tier};
use yigong_testkit::{Backend, TestDb};

pub const PASSWORD: &str = "e2e-password-2026";

/// A served county and the accounts of the tests.
pub struct TestServer {
    pub base_url: String,
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
        let app = yigong_http::app(ctx).into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Some(Self { base_url: format!("http://{addr}"), _db: db, task })
    }
}

macro_rules! on_both {
    ($($name:ident => $body:path),* $(,)?) => {$(
        mod $name {
            use yigong_testkit::Backend;
            async fn run(backend: Backend) {
                let Some(server) = crate::TestServer::start(backend).await else { return };
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
}
