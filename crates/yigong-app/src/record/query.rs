//! FHIR search: URL parameters → index conditions, results filtered by what the reader may
//! see, `_include`, `_sort`, `_count` pages. Only the documented parameters exist (DESIGN §8.2):
//! an unknown one is an error naming the ones there are, rather than silently ignored.

use std::collections::{BTreeSet, HashMap};

use yigong_domain::access::{Actor, Basis, Permission, Target};
use yigong_domain::ids::PersonId;
use yigong_fhir::resource::OutcomeIssue;
use yigong_fhir::search::{self as fs, Comparison, DateColumn, ParamType, QueryValue, TokenSystem};
use yigong_store::Tx;
use yigong_store::fhir::{self as store, Cmp, Condition, Edge, Query, ResourceRow, SortKey, StringMatch};

use super::{FhirError, Stored, patient, patient_basis, person_of, static_type};
use crate::access::authorize;
use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// Default page size.
pub const DEFAULT_COUNT: i64 = 20;
/// Largest page.
pub const MAX_COUNT: i64 = 500;
/// Deepest offset a page may start at (beyond it, narrow the search).
pub const MAX_OFFSET: i64 = 10_000;

/// The parameters of a search as they came in the URL (or a form body), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    /// `(name, value)` pairs, percent-decoded.
    pub pairs: Vec<(String, String)>,
}

impl SearchParams {
    /// From decoded pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// Matches the reader may see, in order.
    pub matches: Vec<Stored>,
    /// Resources added by `_include`.
    pub included: Vec<Stored>,
    /// The parameters to repeat for the next page (with its `_offset`), if there may be one.
    pub next: Option<Vec<(String, String)>>,
    /// The parameters of this page as understood (for the `self` link).
    pub this: Vec<(String, String)>,
    /// Matches withheld because the reader may not see their patient.
    pub withheld: usize,
}

/// The parsed form of a search.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub conditions: Vec<Condition>,
    pub sort: Vec<(SortKey, bool)>,
    pub count: i64,
    pub offset: i64,
    pub includes: Vec<(&'static fs::SearchParam, Option<String>)>,
    /// Patient searches go to the index's columns: the raw values of their parameters.
    pub patient: Vec<(String, String, Option<String>)>,
    pub this: Vec<(String, String)>,
}

fn bad(param: &str, message: impl Into<String>) -> FhirError {
    FhirError::Invalid(vec![OutcomeIssue::error("invalid", Some(param.to_owned()), message)])
}

fn ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn parse(ty: &'static str, params: &SearchParams) -> Result<Parsed, FhirError> {
    let mut parsed = Parsed {
        conditions: Vec::new(),
        sort: Vec::new(),
        count: DEFAULT_COUNT,
        offset: 0,
        includes: Vec::new(),
        patient: Vec::new(),
        this: Vec::new(),
    };
    for (name, raw) in &params.pairs {
        let (code, modifier) = match name.split_once(':') {
            Some((c, m)) => (c, Some(m)),
            None => (name.as_str(), None),
        };
        if !matches!(code, "_offset") {
            parsed.this.push((name.clone(), raw.clone()));
        }
        match code {
            "_count" => {
                parsed.count =
                    raw.parse::<i64>().ok().filter(|n| (0..=MAX_COUNT).contains(n)).ok_or_else(|| {
                        bad("_count", format!("_count must be 0–{MAX_COUNT} (got {raw:?})"))
                    })?;
                continue;
            }
            "_offset" => {
                parsed.offset =
                    raw.parse::<i64>().ok().filter(|n| (0..=MAX_OFFSET).contains(n)).ok_or_else(|| {
                        bad("_offset", format!("_offset must be 0–{MAX_OFFSET} (got {raw:?})"))
                    })?;
                continue;
            }
            "_sort" => {
                for key in raw.split(',') {
                    let (desc, key) = match key.strip_prefix('-') {
                        Some(k) => (true, k),
                        None => (false, key),
                    };
                    let sort = match key {
                        "_id" => SortKey::Id,
                        "_lastUpdated" => SortKey::LastUpdated,
                        "date" | "authoredon" | "authored" | "authored-on" | "recorded-date"
                        | "onset-date"
                            if ty != "Patient" =>
                        {
                            SortKey::Occurred
                        }
                        other => {
                            return Err(bad(
                                "_sort",
                                format!(
                                    "cannot sort by {other:?}: use _id, _lastUpdated or the resource's date"
                                ),
                            ));
                        }
                    };
                    parsed.sort.push((sort, desc));
                }
                continue;
            }
            "_include" => {
                let mut parts = raw.split(':');
                let (source, param, target) = (parts.next(), parts.next(), parts.next());
                let (Some(source), Some(param)) = (source, param) else {
                    return Err(bad("_include", format!("{raw:?} is not Type:parameter[:Target]")));
                };
                if source != ty {
                    return Err(bad("_include", format!("_include on a {ty} search must start with {ty}:")));
                }
                let p = fs::param(ty, param)
                    .filter(|p| p.kind == ParamType::Reference)
                    .ok_or_else(|| bad("_include", format!("{ty} has no reference parameter {param:?}")))?;
                parsed.includes.push((p, target.map(str::to_owned)));
                continue;
            }
            "_format" | "_pretty" => continue,
            "_summary" | "_elements" | "_total" | "_contained" | "_revinclude" | "_has" | "_text"
            | "_content" | "_list" | "_query" | "_filter" => {
                return Err(FhirError::Invalid(vec![OutcomeIssue::error(
                    "not-supported",
                    Some(code.to_owned()),
                    format!("{code} is not supported by this server (see /fhir/metadata)"),
                )]));
            }
            _ => {}
        }
        if ty == "Patient" && code != "_lastUpdated" {
            if fs::param(ty, code).is_none() {
                return Err(unknown(ty, code));
            }
            parsed.patient.push((code.to_owned(), raw.clone(), modifier.map(str::to_owned)));
            continue;
        }
        let condition = condition(ty, code, modifier, raw)?;
        parsed.conditions.push(condition);
    }
    if parsed.sort.is_empty() {
        parsed.sort.push((SortKey::LastUpdated, true));
    }
    Ok(parsed)
}

fn unknown(ty: &str, code: &str) -> FhirError {
    let known: Vec<&str> = fs::params(ty).iter().map(|p| p.code.as_str()).collect();
    FhirError::Invalid(vec![OutcomeIssue::error(
        "not-supported",
        Some(code.to_owned()),
        format!("{ty} has no search parameter {code:?}; supported: {}", known.join(", ")),
    )])
}

/// One URL parameter as a condition (a comma-separated value is an OR).
fn condition(ty: &str, code: &str, modifier: Option<&str>, raw: &str) -> Result<Condition, FhirError> {
    let param = fs::param(ty, code).ok_or_else(|| unknown(ty, code))?;
    let values = fs::split_values(raw);
    let mut any = Vec::with_capacity(values.len());
    for value in values {
        let parsed = fs::parse_query_value(param, value).map_err(|e| bad(code, e.to_string()))?;
        any.push(one_condition(param, code, modifier, parsed)?);
    }
    let c = if any.len() == 1 { any.pop().expect("one") } else { Condition::AnyOf(any) };
    Ok(if modifier == Some("not") { Condition::Not(Box::new(c)) } else { c })
}

fn one_condition(
    param: &fs::SearchParam,
    code: &str,
    modifier: Option<&str>,
    value: QueryValue,
) -> Result<Condition, FhirError> {
    let unsupported = |m: &str| {
        bad(code, format!("the modifier :{m} is not supported on {} parameter {code}", param.kind.as_str()))
    };
    Ok(match value {
        QueryValue::Token { system, code: token } => {
            if let Some(m) = modifier.filter(|m| *m != "not") {
                return Err(unsupported(m));
            }
            if code == "_id" {
                return Ok(Condition::Id(token.into_iter().collect()));
            }
            let system = match system {
                TokenSystem::Any => None,
                TokenSystem::Absent => Some(String::new()),
                TokenSystem::Is(s) => Some(s),
            };
            Condition::Token { param: code.to_owned(), system, code: token }
        }
        QueryValue::String(s) => {
            let how = match modifier {
                None => StringMatch::Prefix,
                Some("exact") => StringMatch::Exact,
                Some("contains") => StringMatch::Contains,
                Some(m) => return Err(unsupported(m)),
            };
            Condition::String { param: code.to_owned(), value: s, how }
        }
        QueryValue::Date { prefix, period } => {
            if let Some(m) = modifier {
                return Err(unsupported(m));
            }
            let cond = fs::date_sql_bounds(prefix, period);
            let to_bounds = |all: &Vec<fs::DateBound>| -> Vec<(Edge, Cmp, i64)> {
                all.iter()
                    .map(|b| {
                        let edge = match b.column {
                            DateColumn::Start => Edge::Start,
                            DateColumn::End => Edge::End,
                        };
                        let cmp = match b.comparison {
                            Comparison::Lt => Cmp::Lt,
                            Comparison::Le => Cmp::Le,
                            Comparison::Gt => Cmp::Gt,
                            Comparison::Ge => Cmp::Ge,
                        };
                        (edge, cmp, ms(b.value))
                    })
                    .collect()
            };
            if code == "_lastUpdated" {
                // The column itself: an instant, so the period's edges are the same time.
                let mut any = Vec::new();
                for all in &cond.any_of {
                    let mut from = None;
                    let mut to = None;
                    for (edge, cmp, v) in to_bounds(all) {
                        match (edge, cmp) {
                            (Edge::Start, Cmp::Ge) => from = Some(v),
                            (Edge::Start, Cmp::Gt) => from = Some(v + 1),
                            (Edge::Start, Cmp::Lt) => to = Some(v),
                            (Edge::Start, Cmp::Le) => to = Some(v + 1),
                            (Edge::End, Cmp::Gt) => from = Some(v),
                            (Edge::End, Cmp::Ge) => from = Some(v - 1),
                            (Edge::End, Cmp::Le) => to = Some(v),
                            (Edge::End, Cmp::Lt) => to = Some(v - 1),
                        }
                    }
                    any.push(Condition::LastUpdated { from_ms: from, to_ms: to });
                }
                return Ok(if any.len() == 1 { any.pop().expect("one") } else { Condition::AnyOf(any) });
            }
            let mut any: Vec<Condition> = cond
                .any_of
                .iter()
                .map(|all| Condition::Date { param: code.to_owned(), bounds: to_bounds(all) })
                .collect();
            if any.len() == 1 { any.pop().expect("one") } else { Condition::AnyOf(any) }
        }
        QueryValue::Reference { target_type, id } => {
            let target_type = match modifier {
                None => target_type,
                Some(m) if param.targets.iter().any(|t| t == m) => Some(m.to_owned()),
                Some(m) => return Err(unsupported(m)),
            };
            match super::index_alias(&param.resource_type, code) {
                Some(alias) => Condition::Reference {
                    param: alias.to_owned(),
                    target_type: Some("Patient".into()),
                    target_id: id,
                },
                None => Condition::Reference { param: code.to_owned(), target_type, target_id: id },
            }
        }
        QueryValue::Uri(u) => {
            Condition::Token { param: code.to_owned(), system: Some(String::new()), code: Some(u) }
        }
        QueryValue::Quantity { .. } | QueryValue::Number { .. } => {
            return Err(FhirError::Invalid(vec![OutcomeIssue::error(
                "not-supported",
                Some(code.to_owned()),
                format!("{} search ({code}) is not supported by this server yet", param.kind.as_str()),
            )]));
        }
    })
}

/// Searches `ty` and filters the page by what the reader may see; audited with the patients
/// whose data was returned.
pub(crate) async fn search(
    ctx: &Ctx,
    actor: &Actor,
    ty: &'static str,
    params: &SearchParams,
) -> Result<SearchResult, FhirError> {
    let parsed = parse(ty, params)?;
    let consortium = actor.consortium_id;
    let clinical = super::is_clinical(ty);
    let basis_gate = if clinical {
        if !yigong_domain::access::role_permits(actor.role, Permission::PatientRead) {
            let target = Target::consortium(consortium);
            authorize(ctx, actor, Permission::PatientRead, &target, Event::of("search", ty)).await?;
        }
        None
    } else {
        Some(
            authorize(
                ctx,
                actor,
                Permission::RegistryRead,
                &Target::consortium(consortium),
                Event::of("search", ty),
            )
            .await?,
        )
    };
    let mut tx = ctx.db.begin().await?;
    // One more than the page tells whether there is a next one.
    let rows: Vec<ResourceRow> = if ty == "Patient" {
        patient::search_rows(ctx, &mut tx, consortium, &parsed, parsed.count + 1, parsed.offset).await?
    } else {
        let query = Query {
            resource_type: ty.to_owned(),
            conditions: parsed.conditions.clone(),
            sort: parsed.sort.clone(),
            limit: parsed.count + 1,
            offset: parsed.offset,
        };
        store::search(&mut tx, consortium, &query).await?
    };
    let more = rows.len() as i64 > parsed.count;
    let rows: Vec<ResourceRow> = rows.into_iter().take(parsed.count as usize).collect();
    let mut filter = Visibility::default();
    let mut matches = Vec::with_capacity(rows.len());
    let mut withheld = 0;
    for row in &rows {
        if filter.may_read(ctx, &mut tx, actor, row).await? {
            matches.push(row.clone());
        } else {
            withheld += 1;
        }
    }
    let mut included = Vec::new();
    if !parsed.includes.is_empty() && !matches.is_empty() {
        let ids: Vec<String> = matches.iter().map(|r| r.resource_id.clone()).collect();
        let mut seen = BTreeSet::new();
        for (param, target) in &parsed.includes {
            let indexed = super::index_alias(ty, &param.code).unwrap_or(&param.code);
            let refs = store::references_of(&mut tx, consortium, ty, &ids, indexed).await?;
            let mut by_type: HashMap<String, Vec<String>> = HashMap::new();
            let only =
                target.clone().or_else(|| super::index_alias(ty, &param.code).map(|_| "Patient".to_owned()));
            for (_, target_type, target_id) in refs {
                if only.as_ref().is_some_and(|t| *t != target_type) || static_type(&target_type).is_none() {
                    continue;
                }
                if seen.insert((target_type.clone(), target_id.clone())) {
                    by_type.entry(target_type).or_default().push(target_id);
                }
            }
            for (target_type, target_ids) in by_type {
                let rows = if target_type == "Patient" {
                    patient::rows_by_ids(ctx, &mut tx, consortium, &target_ids).await?
                } else {
                    store::get_many(&mut tx, consortium, &target_type, &target_ids).await?
                };
                for row in rows {
                    if filter.may_read(ctx, &mut tx, actor, &row).await? {
                        included.push(row);
                    }
                }
            }
        }
    }
    tx.commit().await?;
    // Audited with the patients whose data went out (codes and ids only).
    let persons: Vec<String> = filter.shown.iter().map(|p| p.as_uuid().to_string()).collect();
    let names: Vec<&str> = parsed.this.iter().map(|(n, _)| n.as_str()).collect();
    let mut event = Event::of("search", ty);
    event.patient_id = (filter.shown.len() == 1).then(|| filter.shown.iter().next().expect("one").as_uuid());
    event.detail = Some(format!(
        "params={} returned={} included={} withheld={withheld} patients={}",
        names.join(","),
        matches.len(),
        included.len(),
        persons.join(",")
    ));
    let basis = basis_gate.or(filter.basis).unwrap_or(Basis::OwnInstitution);
    audit::record_read(ctx, actor, consortium, basis, event).await?;
    let next = more.then(|| {
        let mut next = parsed.this.clone();
        next.push(("_offset".into(), (parsed.offset + parsed.count).to_string()));
        next
    });
    let mut this = parsed.this.clone();
    if parsed.offset > 0 {
        this.push(("_offset".into(), parsed.offset.to_string()));
    }
    Ok(SearchResult {
        matches: matches.iter().map(Stored::from_row).collect(),
        included: included.iter().map(Stored::from_row).collect(),
        next,
        this,
        withheld,
    })
}

/// Which patients of a result page the reader may see, decided once per patient.
#[derive(Default)]
struct Visibility {
    decided: HashMap<uuid::Uuid, Option<(PersonId, Basis)>>,
    shown: BTreeSet<PersonId>,
    basis: Option<Basis>,
}

impl Visibility {
    async fn may_read(
        &mut self,
        ctx: &Ctx,
        tx: &mut Tx,
        actor: &Actor,
        row: &ResourceRow,
    ) -> Result<bool, AppError> {
        let Some(record) = row.record_id else {
            // Consortium-level resources: readable by everyone the registry is.
            return Ok(true);
        };
        let decision = match self.decided.get(&record) {
            Some(d) => *d,
            None => {
                let d = match person_of(tx, actor.consortium_id, record).await? {
                    Some(person) => patient_basis(ctx, tx, actor, person, Permission::PatientRead)
                        .await?
                        .map(|b| (person, b)),
                    None => None,
                };
                self.decided.insert(record, d);
                d
            }
        };
        match decision {
            Some((person, basis)) => {
                self.shown.insert(person);
                self.basis.get_or_insert(basis);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// The resources an `If-None-Exist` query selects, seen or not by the writer (a conditional
/// create must not duplicate what it cannot see).
pub(crate) async fn conditional_matches(
    ctx: &Ctx,
    tx: &mut Tx,
    actor: &Actor,
    ty: &'static str,
    query: &str,
) -> Result<Vec<ResourceRow>, FhirError> {
    let pairs = query_pairs(query.trim_start_matches('?'));
    if pairs.is_empty() {
        return Err(bad("If-None-Exist", "If-None-Exist needs search parameters"));
    }
    let mut parsed = parse(ty, &SearchParams::new(pairs))?;
    parsed.count = 2;
    parsed.offset = 0;
    let consortium = actor.consortium_id;
    if ty == "Patient" {
        return patient::search_rows(ctx, tx, consortium, &parsed, 2, 0).await;
    }
    let q = Query {
        resource_type: ty.to_owned(),
        conditions: parsed.conditions,
        sort: vec![(SortKey::Id, false)],
        limit: 2,
        offset: 0,
    };
    Ok(store::search(tx, consortium, &q).await?)
}

/// The decoded `name=value` pairs of a query string (without its `?`), in order.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes `%XX` and `+` of a query string part.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
