//! The store conformance suite: the same assertions on temp-file SQLite and on a throwaway
//! PostgreSQL database, so passing on one backend proves nothing the other breaks.

mod registry;
mod schema;

use yigong_testkit::Backend;

/// Runs `suite` on SQLite and PostgreSQL (the latter skipped only outside CI without servers).
macro_rules! on_both {
    ($($name:ident => $suite:path),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let t = yigong_testkit::db(Backend::Sqlite).await.expect("sqlite always available");
                $suite(&t.db).await;
            }
            #[tokio::test]
            async fn postgres() {
                let Some(t) = yigong_testkit::db(Backend::Postgres).await else { return };
                $suite(&t.db).await;
            }
        }
    )*};
}

on_both! {
    institutions_round_trip => registry::institutions_round_trip,
    institution_rules_enforced_by_schema => registry::institution_rules_enforced_by_schema,
    institution_list_pages_and_filters => registry::institution_list_pages_and_filters,
    staff_titles_and_postings => registry::staff_titles_and_postings,
    rollback_leaves_nothing => registry::rollback_leaves_nothing,
    tenants_are_isolated => registry::tenants_are_isolated,
    residents_bulk_load => registry::residents_bulk_load,
    schema_lint => schema::every_tenant_table_is_keyed_by_consortium,
}
