//! `/api/openapi.json` and a browsable page at `/api/docs` rendered on the server from the
//! same description, so it needs no script or CDN.

use std::fmt::Write;
use std::sync::Arc;

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::OpenApi;

use crate::AppState;

/// The description and the docs page.
pub fn router(openapi: Arc<OpenApi>) -> Router<AppState> {
    let json = openapi.clone();
    let page = Html(render(&openapi));
    Router::new()
        .route("/api/openapi.json", get(move || async move { Json(json.as_ref().clone()).into_response() }))
        .route("/api/docs", get(move || async move { page.clone() }))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn render(api: &OpenApi) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} — API</title>\
         <style>body{{font-family:system-ui,\"Noto Sans CJK SC\",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;\
         color:#1a1a1a;line-height:1.5}}code{{background:#f2f2f2;padding:0 .2rem}}.m{{display:inline-block;min-width:4rem;\
         font-weight:bold}}.get{{color:#0b5394}}.post{{color:#38761d}}.put{{color:#b45f06}}.delete{{color:#990000}}\
         li{{margin:.3rem 0}}</style></head><body><h1>{}</h1><p>{} · <a href=\"/api/openapi.json\">openapi.json</a> \
         (OpenAPI {})</p>",
        escape(&api.info.title),
        escape(&api.info.title),
        escape(api.info.description.as_deref().unwrap_or("")),
        serde_json::to_value(&api.openapi)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    );
    body.push_str("<ul>");
    for (path, item) in &api.paths.paths {
        let ops = [
            ("get", &item.get),
            ("post", &item.post),
            ("put", &item.put),
            ("patch", &item.patch),
            ("delete", &item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let summary = op.summary.as_deref().or(op.description.as_deref()).unwrap_or("");
            let _ = write!(
                body,
                "<li><span class=\"m {method}\">{}</span> <code>{}</code> — {}</li>",
                method.to_uppercase(),
                escape(path),
                escape(summary)
            );
        }
    }
    body.push_str("</ul><p>Errors: <code>{\"error\": code, \"message\": text, \"fields\": {field: {code, message}}}</code>. \
                   Lists: <code>?page_size=1..500&amp;cursor=…</code> → <code>{\"items\": [...], \"next_cursor\": …}</code>.</p>\
                   </body></html>");
    body
}
