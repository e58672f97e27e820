//! The HTTP face of yigong: the JSON API under `/api/v1`, its OpenAPI description at
//! `/api/openapi.json`, a browsable API page at `/api/docs`, and `/healthz`. Handlers are
//! thin: extract, call one use case in `yigong-app`, convert to a response body.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use yigong_app::Ctx;

pub mod auth;
mod docs;
pub mod dto;
pub mod error;
pub mod page;
pub mod routes;
pub mod ui;

pub use error::{ApiError, ErrorBody};

/// The state every handler receives.
pub type AppState = Arc<Ctx>;

#[derive(OpenApi)]
#[openapi(
    info(title = "yigong 医共 API", description = "County medical consortium platform: organisation and staff registry."),
    modifiers(&BearerScheme),
    tags((name = "registry", description = "Consortia, institutions, departments, staff and postings"),
         (name = "auth", description = "Tokens, the caller's account, break-glass"),
         (name = "access", description = "User administration and the audit trail"),
         (name = "system", description = "Health and description of the service"),
         (name = "record", description = "The shared health record: a patient's 360° view"),
         (name = "reading", description = "Examination at the grassroots, diagnosis at the county: orders, worklists, signed reports, critical values, mutual recognition"),
         (name = "dicomweb", description = "DICOMweb (PS3.18) for the reading centres: STOW-RS, QIDO-RS, WADO-RS with rendered frames"),
         (name = "fhir", description = "HL7 FHIR R4 (4.0.1): the shared health record; bodies are application/fhir+json, errors OperationOutcome"))
)]
struct ApiDoc;

/// Declares the bearer-token security scheme the operations refer to.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("POST /api/v1/auth/token"))
                    .build(),
            ),
        );
    }
}

/// The routes and their OpenAPI description, before state is attached.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::system::router())
        .merge(routes::consortia::router())
        .merge(routes::institutions::router())
        .merge(routes::staff::router())
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::audit::router())
        .merge(routes::mpi::router())
        .merge(routes::fhir::router())
        .merge(routes::record::router())
        .merge(routes::exams::router())
        .merge(routes::referrals::router())
        .merge(routes::dicomweb::router())
        .split_for_parts()
}

/// The whole application: API, description, docs page, fallback, request ids and tracing.
pub fn app(ctx: Ctx) -> Router {
    let (api, openapi) = api();
    let openapi = Arc::new(openapi);
    let request_id = HeaderName::from_static("x-request-id");
    api.merge(docs::router(openapi))
        .merge(ui::router())
        .fallback(ui::fallback)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            // Method, path and request id only: paths carry ids, never names or ID numbers.
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(Arc::new(ctx))
}
