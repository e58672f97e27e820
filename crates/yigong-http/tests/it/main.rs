//! API tests: the real router in-process (`oneshot`), on SQLite and PostgreSQL.

mod helpers;
mod openapi;
mod registry;

/// Runs an async test body `fn(TestApp)` on both backends.
macro_rules! on_both {
    ($($name:ident => $body:path),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let app = crate::helpers::TestApp::new(yigong_testkit::Backend::Sqlite).await.expect("sqlite");
                $body(app).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(app) = crate::helpers::TestApp::new(yigong_testkit::Backend::Postgres).await else { return };
                $body(app).await;
            }
        }
    )*};
}

on_both! {
    institutions_create_validate_list => crate::registry::institutions_create_validate_list,
    departments => crate::registry::departments,
    staff_and_postings => crate::registry::staff_and_postings,
    error_shape_everywhere => crate::registry::error_shape_everywhere,
    healthz => crate::registry::healthz,
}
