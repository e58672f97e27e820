//! API tests: the real router in-process (`oneshot`), on SQLite and PostgreSQL.

mod auth;
mod dicomweb;
mod fhir;
mod helpers;
mod matrix;
mod mpi;
mod openapi;
mod reading;
mod referral;
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
    authorisation_matrix => crate::matrix::every_route_refuses_and_audits,
    token_issue => crate::auth::token_issue_and_same_answer_for_unknown_user,
    lockout => crate::auth::lockout_after_repeated_failures,
    expiry_and_revocation => crate::auth::tokens_expire_and_revoke_at_once,
    disable_and_password_change => crate::auth::disabling_ends_sessions_and_password_change_ends_others,
    csrf => crate::auth::cookie_sessions_need_the_csrf_token,
    relationship_grants => crate::auth::dispatch_and_break_glass_grants,
    audit_viewer => crate::auth::audit_viewer_filters_and_exports,
    switch_institution => crate::auth::staff_with_two_postings_switch_institution,
    login_form_token => crate::auth::login_form_needs_its_own_token,
    no_escalation => crate::auth::no_escalation_through_accounts_or_postings,
    mpi_api => crate::mpi::import_match_register_read,
    referral_closed_loop => crate::referral::closed_loop,
    referral_green_and_refusals => crate::referral::green_channel_and_refusals,
    referral_timers => crate::referral::timers_expire_and_escalate,
    referral_reminders => crate::referral::reminders_reach_who_must_act,
    referral_concurrent_accept => crate::referral::two_coordinators_accept_at_once,
    dicomweb_stow_qido_wado => crate::dicomweb::stow_qido_wado,
    dicomweb_bad_objects => crate::dicomweb::stow_refuses_bad_objects,
    dimse_with_dcmtk => crate::dicomweb::dimse_echo_and_store_with_dcmtk,
    dicomweb_concurrent => crate::dicomweb::concurrent_senders_index_each_instance_once,
    reading_order_report_back => crate::reading::order_report_and_back,
    reading_fifty_claims => crate::reading::fifty_readers_claim_one_item,
    reading_leases => crate::reading::leases_run_out_and_release,
    reading_critical_values => crate::reading::critical_values_close_at_the_ordering_site,
    reading_recognition => crate::reading::recognition_prompt_and_rate,
    reading_specimen_chain => crate::reading::specimen_chain_moves_a_lab_item,
    reading_dimse_queues => crate::reading::dimse_images_queue_the_item,
    reading_supervisor => crate::reading::supervisor_assigns_and_releases,
    fhir_crud => crate::fhir::create_read_version_delete,
    fhir_transaction => crate::fhir::transaction_rewrites_and_rolls_back,
    fhir_search => crate::fhir::search_pages_filters_and_includes,
    fhir_bad_input => crate::fhir::bad_input_is_refused_and_nothing_stored,
    fhir_match => crate::fhir::patient_match,
    fhir_examples => crate::fhir::official_examples_round_trip,
    fhir_concurrent_writers => crate::fhir::concurrent_writers_all_succeed,
}
