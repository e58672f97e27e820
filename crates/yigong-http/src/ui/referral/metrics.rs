//! Referral metrics (DESIGN.md §7.3): a period grouped by month, receiving or sending
//! institution; server-rendered SVG bars; every number links to the de-identified referrals
//! behind it; and the green-channel centres' month.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;
use yigong_app::AppError;
use yigong_app::referral::{self, Group, MetricsQuery};
use yigong_domain::referral::green::{Centre, MonthValue};
use yigong_domain::referral::metrics::{Measure, Ratio, Tally};
use yigong_domain::referral::{Direction, Priority};

use super::super::{Chrome, Signed, Tr, chrome, error_page, render};
use super::{all_institutions, label, minutes, names_of, percent};
use crate::AppState;

/// The period and grouping, as the form sends them.
#[derive(Deserialize, Default, Clone)]
pub struct MetricsParams {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    measure: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    dir: String,
    #[serde(default)]
    priority: String,
}

/// A number with the link to what it counts.
struct Cell {
    text: String,
    href: Option<String>,
    title: String,
}

struct TableRow {
    label: String,
    cells: Vec<Cell>,
    total: bool,
}

/// A rectangle of a chart.
struct Bar {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
    class: &'static str,
    title: String,
}

/// A month label under a chart.
struct Tick {
    x: i64,
    text: String,
}

struct Chart {
    title: String,
    bars: Vec<Bar>,
    ticks: Vec<Tick>,
    max: String,
    legend: Vec<(&'static str, String)>,
}

struct GreenRow {
    metric: String,
    target: String,
    cases: String,
    mean: String,
    median: String,
    compliant: String,
    goal: String,
    goal_class: &'static str,
}

struct GreenTable {
    centre: String,
    cases: String,
    rows: Vec<GreenRow>,
}

#[derive(Template)]
#[template(path = "referral_metrics.html")]
struct MetricsPage {
    chrome: Chrome,
    from: String,
    to: String,
    month: String,
    /// (code, label, selected)
    groups: Vec<(&'static str, String, bool)>,
    headers: Vec<String>,
    rows: Vec<TableRow>,
    charts: Vec<Chart>,
    green: Vec<GreenTable>,
    computed: String,
}

struct Period {
    from: NaiveDate,
    to: NaiveDate,
    group: Group,
}

fn period(p: &MetricsParams, today: NaiveDate) -> Period {
    let parse = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let default_from = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(11)))
        .unwrap_or(today - Duration::days(365));
    Period {
        from: parse(&p.from).unwrap_or(default_from),
        to: parse(&p.to).unwrap_or(today),
        group: Group::parse(&p.group).unwrap_or(Group::Month),
    }
}

fn query_of(p: &Period) -> String {
    format!("from={}&to={}&group={}", p.from, p.to, p.group.as_str())
}

/// The link behind one number.
fn drill_href(
    p: &Period,
    measure: Measure,
    key: Option<&str>,
    dir: Option<Direction>,
    priority: Option<Priority>,
) -> String {
    let mut href = format!("/referrals/metrics/drill?measure={}&{}", measure.as_str(), query_of(p));
    if let Some(k) = key {
        href.push_str(&format!("&key={}", super::super::form_urlencoded_component(k)));
    }
    if let Some(d) = dir {
        href.push_str(&format!("&dir={}", d.as_str()));
    }
    if let Some(pr) = priority {
        href.push_str(&format!("&priority={}", pr.as_str()));
    }
    href
}

fn ratio_title(r: Ratio) -> String {
    format!("{}/{}", r.num, r.den)
}

/// The cells of one row.
fn cells(t: Tr, p: &Period, key: Option<&str>, tally: &Tally) -> Vec<Cell> {
    let count = |measure: Measure, dir: Option<Direction>| {
        let n = tally.count(measure, dir);
        Cell {
            text: t.number(n as i64),
            href: (n > 0).then(|| drill_href(p, measure, key, dir, None)),
            title: String::new(),
        }
    };
    let ratio = |r: Ratio, measure: Measure| Cell {
        text: percent(r.percent()),
        href: (r.den > 0).then(|| drill_href(p, measure, key, None, None)),
        title: ratio_title(r),
    };
    let mut out = vec![
        count(Measure::Arrived, Some(Direction::Upward)),
        count(Measure::Submitted, Some(Direction::Upward)),
        count(Measure::Arrived, Some(Direction::Downward)),
        count(Measure::Submitted, Some(Direction::Downward)),
        ratio(tally.acceptance(false), Measure::Accepted),
        ratio(tally.acceptance(true), Measure::Accepted),
    ];
    for pr in Priority::ALL {
        let m = tally.median_accept_minutes(*pr);
        out.push(Cell {
            text: minutes(m),
            href: m.map(|_| drill_href(p, Measure::Accepted, key, None, Some(*pr))),
            title: String::new(),
        });
    }
    out.push(ratio(tally.arrival(), Measure::AcceptedArrived));
    out.push(ratio(tally.closed_loop(), Measure::ClosedLoop));
    out.push(count(Measure::Overdue, None));
    let _ = t;
    out
}

/// Monthly up and down counts, and the closed-loop rate per month, as bars.
fn charts(t: Tr, months: &[(String, String, Tally)]) -> Vec<Chart> {
    const W: i64 = 640;
    const H: i64 = 160;
    const TOP: i64 = 10;
    let n = months.len().max(1) as i64;
    let slot = (W - 20) / n;
    let max = months
        .iter()
        .flat_map(|(_, _, t)| {
            [
                t.count(Measure::Arrived, Some(Direction::Upward)),
                t.count(Measure::Arrived, Some(Direction::Downward)),
            ]
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let mut counts = Chart {
        title: t.get("referral.metrics.chart_counts").to_owned(),
        bars: vec![],
        ticks: vec![],
        max: t.number(max as i64),
        legend: vec![("up", label(t, "direction", "upward")), ("down", label(t, "direction", "downward"))],
    };
    let mut loops = Chart {
        title: t.get("referral.metrics.chart_loop").to_owned(),
        bars: vec![],
        ticks: vec![],
        max: "100%".into(),
        legend: vec![("loop", t.get("referral.metrics.closed_loop").to_owned())],
    };
    for (i, (key, _, tally)) in months.iter().enumerate() {
        let x0 = 20 + i as i64 * slot;
        let w = ((slot - 6) / 2).max(2);
        for (j, (dir, class)) in
            [(Direction::Upward, "up"), (Direction::Downward, "down")].into_iter().enumerate()
        {
            let v = tally.count(Measure::Arrived, Some(dir));
            let h = (v as i64 * (H - TOP)) / max as i64;
            counts.bars.push(Bar {
                x: x0 + j as i64 * w,
                y: H - h,
                w: w - 1,
                h,
                class,
                title: format!("{key} {} {v}", label(t, "direction", dir.as_str())),
            });
        }
        let r = tally.closed_loop();
        if let Some(pct) = r.percent() {
            let h = ((pct * (H - TOP) as f64) / 100.0).round() as i64;
            loops.bars.push(Bar {
                x: x0,
                y: H - h,
                w: (slot - 6).max(2),
                h,
                class: "loop",
                title: format!("{key} {} ({})", percent(Some(pct)), ratio_title(r)),
            });
        }
        let tick = Tick { x: x0, text: key.get(2..).unwrap_or(key).to_owned() };
        counts.ticks.push(Tick { x: tick.x, text: tick.text.clone() });
        loops.ticks.push(tick);
    }
    vec![counts, loops]
}

/// One entry per month of the period, empty months included.
fn every_month(p: &Period, groups: Vec<(String, String, Tally)>) -> Vec<(String, String, Tally)> {
    let mut by_key: std::collections::BTreeMap<String, (String, Tally)> =
        groups.into_iter().map(|(k, l, t)| (k, (l, t))).collect();
    let mut out = Vec::new();
    let mut month = NaiveDate::from_ymd_opt(p.from.year(), p.from.month(), 1).unwrap_or(p.from);
    while month <= p.to && out.len() < 60 {
        let key = month.format("%Y-%m").to_string();
        let (label, tally) = by_key.remove(&key).unwrap_or_else(|| (key.clone(), Tally::default()));
        out.push((key, label, tally));
        match month.checked_add_months(chrono::Months::new(1)) {
            Some(m) => month = m,
            None => break,
        }
    }
    out
}

fn green_table(t: Tr, centre: Centre, values: &[MonthValue], cases: usize) -> GreenTable {
    let rows = values
        .iter()
        .map(|m| {
            let target = m.metric.target.map_or_else(String::new, |(n, bound)| {
                let key = if bound == yigong_domain::referral::green::Bound::Below {
                    "referral.target_below"
                } else {
                    "referral.target_at_most"
                };
                t.fmt(key, &[("n", &n.to_string())])
            });
            let compliant = if m.metric.target.is_some() && m.cases > 0 {
                percent(Some(f64::from(m.compliant) * 100.0 / f64::from(m.cases)))
            } else {
                "—".to_owned()
            };
            let goal_text = m.metric.compliance_goal.map(|g| format!("≥ {g}%")).unwrap_or_default();
            let (mark, class) = match m.meets_goal {
                Some(true) => ("✓", "ok"),
                Some(false) => ("✗", "bad"),
                None => ("—", "none"),
            };
            GreenRow {
                metric: label(t, "metric", m.metric.code),
                target,
                cases: t.number(i64::from(m.cases)),
                mean: minutes(m.mean_minutes),
                median: minutes(m.median_minutes),
                compliant,
                goal: if goal_text.is_empty() { mark.to_owned() } else { format!("{mark} ({goal_text})") },
                goal_class: class,
            }
        })
        .collect();
    GreenTable { centre: label(t, "centre", centre.as_str()), cases: t.number(cases as i64), rows }
}

/// GET /referrals/metrics.
pub async fn metrics_page(
    State(ctx): State<AppState>,
    signed: Signed,
    Query(p): Query<MetricsParams>,
) -> Response {
    let s = &signed.session;
    let today = ctx.today();
    let per = period(&p, today);
    let q = MetricsQuery { from: per.from, to: per.to, group: per.group };
    let result = async {
        let report = referral::metrics(&ctx, &s.actor, &q).await?;
        let monthly = if per.group == Group::Month {
            report.groups.clone()
        } else {
            referral::metrics(&ctx, &s.actor, &MetricsQuery { group: Group::Month, ..q.clone() })
                .await?
                .groups
        };
        let month = if p.month.trim().is_empty() {
            today.format("%Y-%m").to_string()
        } else {
            p.month.trim().to_owned()
        };
        let mut green = Vec::new();
        for centre in Centre::ALL {
            let (values, cases) = referral::green_month(&ctx, &s.actor, *centre, &month).await?;
            green.push((*centre, values, cases));
        }
        Ok::<_, AppError>((report, monthly, month, green))
    }
    .await;
    let (report, monthly, month, green) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "referrals").await;
    let t = chrome.t;
    let mut rows: Vec<TableRow> = report
        .groups
        .iter()
        .map(|(key, name, tally)| TableRow {
            label: name.clone(),
            cells: cells(t, &per, Some(key), tally),
            total: false,
        })
        .collect();
    rows.push(TableRow {
        label: t.get("referral.metrics.total").to_owned(),
        cells: cells(t, &per, None, &report.total),
        total: true,
    });
    let mut headers: Vec<String> = [
        "referral.metrics.up_arrived",
        "referral.metrics.up_submitted",
        "referral.metrics.down_arrived",
        "referral.metrics.down_submitted",
        "referral.metrics.acceptance",
        "referral.metrics.acceptance_green",
    ]
    .iter()
    .map(|k| t.get(k).to_owned())
    .collect();
    for pr in Priority::ALL {
        headers.push(
            t.fmt("referral.metrics.median_accept", &[("priority", &label(t, "priority", pr.as_str()))]),
        );
    }
    headers.extend(
        ["referral.metrics.arrival", "referral.metrics.closed_loop", "referral.metrics.overdue"]
            .iter()
            .map(|k| t.get(k).to_owned()),
    );
    let groups = [Group::Month, Group::Receiving, Group::Sending]
        .iter()
        .map(|g| (g.as_str(), label(t, "group", g.as_str()), *g == per.group))
        .collect();
    let green = green.iter().map(|(c, v, n)| green_table(t, *c, v, *n)).collect();
    let page = MetricsPage {
        from: per.from.to_string(),
        to: per.to.to_string(),
        month,
        groups,
        headers,
        rows,
        charts: charts(t, &every_month(&per, monthly)),
        green,
        computed: t.datetime(report.computed_at),
        chrome,
    };
    render(StatusCode::OK, &page)
}

struct DrillRow {
    slip_no: String,
    direction: String,
    priority: String,
    priority_code: &'static str,
    state: String,
    from: String,
    to: String,
    submitted: String,
    accepted: String,
    arrived: String,
    closed: String,
}

#[derive(Template)]
#[template(path = "referral_drill.html")]
struct DrillPage {
    chrome: Chrome,
    heading: String,
    scope: String,
    back: String,
    rows: Vec<DrillRow>,
}

/// GET /referrals/metrics/drill: the referrals behind one number, de-identified.
pub async fn drill(State(ctx): State<AppState>, signed: Signed, Query(p): Query<MetricsParams>) -> Response {
    let s = &signed.session;
    let per = period(&p, ctx.today());
    let Some(measure) = Measure::parse(&p.measure) else {
        return error_page(&ctx, s, signed.lang, &signed.path, AppError::not_found("measure")).await;
    };
    let q = MetricsQuery { from: per.from, to: per.to, group: per.group };
    let key = Some(p.key.trim()).filter(|k| !k.is_empty());
    let result = async {
        let list = referral::drill_down(&ctx, &s.actor, &q, measure, key).await?;
        let institutions = all_institutions(&ctx, &s.actor).await?;
        Ok::<_, AppError>((list, names_of(&institutions)))
    }
    .await;
    let (list, names) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&ctx, s, signed.lang, &signed.path, e).await,
    };
    let chrome = chrome(&ctx, Some(s), signed.lang, &signed.path, "referrals").await;
    let t = chrome.t;
    let dir = Direction::parse(&p.dir);
    let priority = Priority::parse(&p.priority);
    let when = |d: Option<chrono::DateTime<chrono::Utc>>| d.map(|x| t.datetime(x)).unwrap_or_default();
    let rows = list
        .iter()
        .filter(|r| dir.is_none_or(|d| r.direction == d) && priority.is_none_or(|pr| r.priority == pr))
        .map(|r| DrillRow {
            slip_no: r.slip_no.clone(),
            direction: label(t, "direction", r.direction.as_str()),
            priority: label(t, "priority", r.priority.as_str()),
            priority_code: r.priority.as_str(),
            state: label(t, "state", r.state.as_str()),
            from: names.get(&r.from_institution_id).cloned().unwrap_or_default(),
            to: r
                .to_institution_id
                .and_then(|i| names.get(&i).cloned())
                .or_else(|| r.external_institution.clone())
                .unwrap_or_default(),
            submitted: when(r.submitted_at),
            accepted: when(r.accepted_at),
            arrived: when(r.arrived_at),
            closed: when(r.closed_at),
        })
        .collect();
    let mut scope = vec![format!("{} – {}", t.date(per.from), t.date(per.to))];
    if let Some(k) = key {
        let shown = uuid::Uuid::parse_str(k)
            .ok()
            .and_then(|u| names.get(&yigong_domain::ids::InstitutionId::from_uuid(u)).cloned())
            .unwrap_or_else(|| k.to_owned());
        scope.push(shown);
    }
    if let Some(d) = dir {
        scope.push(label(t, "direction", d.as_str()));
    }
    if let Some(pr) = priority {
        scope.push(label(t, "priority", pr.as_str()));
    }
    let page = DrillPage {
        heading: label(t, "measure", measure.as_str()),
        scope: scope.join(" · "),
        back: format!("/referrals/metrics?{}", query_of(&per)),
        rows,
        chrome,
    };
    render(StatusCode::OK, &page)
}
