//! The patient's 360° view (全景视图): one timeline across every facility, with quick filters by
//! facility, kind and period, tiles of what the record holds, and the basis of the read.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;
use yigong_app::AppError;
use yigong_app::record::{self, TimelineQuery};
use yigong_domain::ids::{InstitutionId, PersonId};

use super::mpi_labels::short_id;
use super::{Chrome, Signed, Tr, chrome, error_page, render};
use crate::AppState;

/// Entries per page.
const PAGE: i64 = 100;

/// One tile of the timeline.
struct Entry {
    time: String,
    kind: String,
    kind_code: String,
    title: String,
    detail: String,
    flag: Option<String>,
    status: String,
    institution: String,
}

/// A day with its entries.
struct Day {
    label: String,
    entries: Vec<Entry>,
}

/// A bar of the "what the record holds" chart.
struct Bar {
    label: String,
    count: String,
    percent: u32,
}

#[derive(Template)]
#[template(path = "patient_record.html")]
struct RecordPage {
    chrome: Chrome,
    person_id: String,
    heading: String,
    basis: String,
    bars: Vec<Bar>,
    days: Vec<Day>,
    /// (code, label, checked)
    kinds: Vec<(String, String, bool)>,
    /// (id, name, selected)
    facilities: Vec<(String, String, bool)>,
    from: String,
    to: String,
    /// (label, query) of the quick periods.
    periods: Vec<(String, String)>,
    next: Option<String>,
    shown: String,
}

/// The filters, as the form sends them.
#[derive(Deserialize, Default)]
pub struct RecordQuery {
    #[serde(default)]
    kind: Vec<String>,
    #[serde(default)]
    facility: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: String,
}

fn kind_label(t: Tr, kind: &str) -> String {
    let key = format!("record.kind.{kind}");
    if t.has(&key) { t.get(&key).to_owned() } else { kind.to_owned() }
}

fn basis_label(t: Tr, basis: &str) -> String {
    let key = format!("record.basis.{basis}");
    if t.has(&key) { t.get(&key).to_owned() } else { basis.to_owned() }
}

/// GET /patients/{id}/record.
pub async fn patient_record(
    State(ctx): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let s = &signed.session;
    let Some(person) = Uuid::parse_str(&id).ok().map(PersonId::from_uuid) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("person")).await;
    };
    // Repeated `kind=` parameters: read the pairs by hand (serde_urlencoded keeps one).
    let mut q = RecordQuery::default();
    for (k, v) in pairs {
        match k.as_str() {
            "kind" => q.kind.push(v),
            "facility" => q.facility = v,
            "from" => q.from = v,
            "to" => q.to = v,
            "cursor" => q.cursor = v,
            _ => {}
        }
    }
    let parse_day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let query = TimelineQuery {
        types: q.kind.clone(),
        institutions: Uuid::parse_str(q.facility.trim())
            .ok()
            .map(InstitutionId::from_uuid)
            .into_iter()
            .collect(),
        from: parse_day(&q.from),
        to: parse_day(&q.to),
        cursor: (!q.cursor.is_empty()).then(|| q.cursor.clone()),
        limit: PAGE,
    };
    let path = format!("/patients/{person}/record");
    let timeline = match record::timeline(&ctx, &s.actor, person, &query).await {
        Ok(t) => t,
        Err(e) => return error_page(&ctx, s, signed.lang, &path, e).await,
    };
    let heading_name = match yigong_app::mpi::get_person(&ctx, &s.actor, person).await {
        Ok(view) => view.golden.name.map(|n| n.value),
        Err(_) => None,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &path, "patients").await;
    let t = chrome.t;
    let heading = t.fmt(
        "record.heading",
        &[("name", &heading_name.unwrap_or_else(|| t.fmt("person.untitled", &[("id", &short_id(person))])))],
    );
    let max = timeline.counts.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let bars = timeline
        .counts
        .iter()
        .map(|(kind, n)| Bar {
            label: kind_label(t, kind),
            count: t.number(*n),
            percent: ((*n * 100) / max).clamp(1, 100) as u32,
        })
        .collect();
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    let mut days: Vec<Day> = Vec::new();
    for e in &timeline.entries {
        let local = e.occurred.with_timezone(&china);
        let day = t.date(local.date_naive());
        let summary = &e.summary;
        let entry = Entry {
            time: local.format("%H:%M").to_string(),
            kind: kind_label(t, &e.resource_type),
            kind_code: e.resource_type.to_lowercase(),
            title: summary.title.clone().unwrap_or_else(|| kind_label(t, &e.resource_type)),
            detail: summary.detail.clone().unwrap_or_default(),
            flag: summary.flag.clone().filter(|f| f != "N"),
            status: summary.status.clone().unwrap_or_default(),
            institution: e.institution_name.clone().unwrap_or_default(),
        };
        match days.last_mut() {
            Some(d) if d.label == day => d.entries.push(entry),
            _ => days.push(Day { label: day, entries: vec![entry] }),
        }
    }
    let kinds = timeline
        .visible_kinds
        .iter()
        .map(|k| ((*k).to_owned(), kind_label(t, k), q.kind.iter().any(|x| x == k)))
        .collect();
    let facilities = timeline
        .institutions
        .iter()
        .map(|(i, name)| (i.to_string(), name.clone(), i.to_string() == q.facility.trim()))
        .collect();
    let today = ctx.today();
    let periods = [("record.period.month", 30), ("record.period.quarter", 91), ("record.period.year", 365)]
        .iter()
        .map(|(key, days)| (t.get(key).to_owned(), format!("from={}", today - Duration::days(*days))))
        .chain(std::iter::once((t.get("record.period.all").to_owned(), String::new())))
        .collect();
    let next = timeline.next_cursor.as_ref().map(|c| {
        let mut pairs: Vec<String> = q.kind.iter().map(|k| format!("kind={k}")).collect();
        for (k, v) in [("facility", &q.facility), ("from", &q.from), ("to", &q.to)] {
            if !v.is_empty() {
                pairs.push(format!("{k}={v}"));
            }
        }
        pairs.push(format!("cursor={}", c.replace('~', "%7E")));
        pairs.join("&")
    });
    let shown = t.fmt("record.shown", &[("n", &timeline.entries.len().to_string())]);
    let page = RecordPage {
        basis: basis_label(t, timeline.basis.as_str()),
        chrome,
        person_id: person.to_string(),
        heading,
        bars,
        days,
        kinds,
        facilities,
        from: q.from.clone(),
        to: q.to.clone(),
        periods,
        next,
        shown,
    };
    render(StatusCode::OK, &page)
}
