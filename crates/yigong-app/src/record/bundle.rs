//! Transaction and batch Bundles (R4 §3.1.0.11): `urn:uuid:` identities become server ids and
//! every reference to them is rewritten; a transaction is one database transaction, so one
//! bad entry stores none of them; a batch answers each entry on its own.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use uuid::Uuid;
use yigong_domain::access::{Actor, Permission};
use yigong_fhir::resource::{self as res, BundleEntry, BundleKind, Method, OutcomeIssue};

use super::{FhirError, SearchParams, Stored, WriteRequest, query, write_in};
use crate::Ctx;

/// Upper bound on the entries of one Bundle.
pub const MAX_ENTRIES: usize = 1_000;

/// What one entry did.
enum Done {
    Written { stored: Stored, created: bool },
    Deleted,
    Read(Stored),
    Searched(Value),
}

fn entry_issue(e: &BundleEntry, error: FhirError) -> FhirError {
    let prefix = |issues: Vec<OutcomeIssue>| {
        issues
            .into_iter()
            .map(|mut i| {
                i.diagnostics = format!("entry {} ({:?} {}): {}", e.index, e.method, e.url, i.diagnostics);
                i
            })
            .collect::<Vec<_>>()
    };
    match error {
        FhirError::Invalid(i) => FhirError::Invalid(prefix(i)),
        FhirError::Unprocessable(i) => FhirError::Unprocessable(prefix(i)),
        FhirError::NotFound(m) => FhirError::NotFound(format!("entry {}: {m}", e.index)),
        FhirError::PreconditionFailed(m) => FhirError::PreconditionFailed(format!("entry {}: {m}", e.index)),
        FhirError::Conflict(m) => FhirError::Conflict(format!("entry {}: {m}", e.index)),
        FhirError::NotAllowed(m) => FhirError::NotAllowed(format!("entry {}: {m}", e.index)),
        FhirError::Gone(m) => FhirError::Gone(format!("entry {}: {m}", e.index)),
        other => other,
    }
}

/// The type and id of an entry's URL: `Patient/1` → (`Patient`, Some(`1`)); `Patient?x=y` →
/// (`Patient`, None) with the query.
fn split_url(url: &str) -> (&str, Option<&str>, Option<&str>) {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let mut parts = path.split('/');
    let ty = parts.next().unwrap_or_default();
    (ty, parts.next().filter(|s| !s.is_empty()), query)
}

/// Processes a Bundle of type `transaction` or `batch`; returns the response Bundle.
pub async fn process_bundle(ctx: &Ctx, actor: &Actor, bundle: Value) -> Result<Value, FhirError> {
    let (kind, mut entries) = res::bundle_requests(&bundle).map_err(FhirError::Invalid)?;
    // A batch's entries are checked one by one when processed (one bad entry fails alone); a
    // transaction's all at once, before anything is stored.
    let issues: Vec<OutcomeIssue> = yigong_fhir::validate::validate_as(&bundle, "Bundle")
        .into_iter()
        .filter(|i| i.severity == yigong_fhir::validate::Severity::Error)
        .filter(|i| {
            kind == BundleKind::Transaction
                || !(i.expression.starts_with("Bundle.entry[") && i.expression.contains("].resource"))
        })
        .map(|i| OutcomeIssue::error(i.code.as_str(), Some(i.expression), i.message))
        .collect();
    if !issues.is_empty() {
        return Err(FhirError::Invalid(issues));
    }
    if entries.len() > MAX_ENTRIES {
        return Err(FhirError::Invalid(vec![OutcomeIssue::error(
            "too-costly",
            Some("Bundle.entry".into()),
            format!("a Bundle may hold at most {MAX_ENTRIES} entries (got {})", entries.len()),
        )]));
    }
    // Server ids for creates, and the identity map of fullUrls.
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut assigned: HashMap<usize, String> = HashMap::new();
    for e in &entries {
        let (ty, id, _) = split_url(&e.url);
        match e.method {
            Method::Post => {
                let new = Uuid::now_v7().to_string();
                if let Some(full) = &e.full_url {
                    ids.insert(full.clone(), format!("{ty}/{new}"));
                }
                assigned.insert(e.index, new);
            }
            Method::Put => {
                if let (Some(full), Some(id)) = (&e.full_url, id)
                    && full.starts_with("urn:")
                {
                    ids.insert(full.clone(), format!("{ty}/{id}"));
                }
            }
            _ => {}
        }
    }
    // Roles that may never write clinical data are refused before anything is stored.
    for e in &entries {
        if e.method != Method::Get
            && let Ok(ty) = super::check_type(split_url(&e.url).0)
        {
            super::gate(ctx, actor, ty, Permission::PatientWrite, "write").await?;
        }
    }
    let has_patient = entries.iter().any(|e| e.method != Method::Get && split_url(&e.url).0 == "Patient");
    let model = super::patient_model(ctx, actor, has_patient).await?;
    let model = model.as_deref();
    let result = match kind {
        BundleKind::Transaction => transaction(ctx, actor, &mut entries, ids, assigned, model).await,
        BundleKind::Batch => batch(ctx, actor, &mut entries, ids, assigned, model).await,
    };
    super::settle(ctx, actor, result).await
}

async fn transaction(
    ctx: &Ctx,
    actor: &Actor,
    entries: &mut [BundleEntry],
    mut ids: HashMap<String, String>,
    mut assigned: HashMap<usize, String>,
    model: Option<&yigong_mpi::Model>,
) -> Result<Value, FhirError> {
    let mut tx = ctx.db.begin_write().await?;
    // Conditional creates that match point their identity at what exists.
    let mut matched: HashMap<usize, Stored> = HashMap::new();
    for e in entries.iter() {
        if let (Method::Post, Some(q)) = (e.method, &e.if_none_exist) {
            let (ty, _, _) = split_url(&e.url);
            let ty = super::check_type(ty).map_err(|err| entry_issue(e, err))?;
            let found = query::conditional_matches(ctx, &mut tx, actor, ty, q)
                .await
                .map_err(|err| entry_issue(e, err))?;
            match found.as_slice() {
                [] => {}
                [one] => {
                    if let Some(full) = &e.full_url {
                        ids.insert(full.clone(), format!("{ty}/{}", one.resource_id));
                    }
                    assigned.remove(&e.index);
                    matched.insert(e.index, Stored::from_row(one));
                }
                more => {
                    return Err(entry_issue(
                        e,
                        FhirError::PreconditionFailed(format!(
                            "ifNoneExist matched {} resources",
                            more.len()
                        )),
                    ));
                }
            }
        }
    }
    res::rewrite_bundle(entries, &ids);
    check_unresolved(entries)?;
    let mut done: HashMap<usize, Done> = HashMap::new();
    let mut reads = Vec::new();
    for i in dependency_order(entries, &assigned) {
        let e = &entries[i];
        if let Some(stored) = matched.remove(&e.index) {
            done.insert(e.index, Done::Written { stored, created: false });
            continue;
        }
        if e.method == Method::Get {
            reads.push(i);
            continue;
        }
        let result = write_entry(ctx, &mut tx, actor, e, assigned.get(&e.index).cloned(), model).await;
        done.insert(e.index, result.map_err(|err| entry_issue(e, err))?);
    }
    tx.commit().await?;
    for i in reads {
        let e = &entries[i];
        done.insert(e.index, read_entry(ctx, actor, e).await.map_err(|err| entry_issue(e, err))?);
    }
    Ok(response_bundle("transaction-response", entries, done.into_iter().map(|(k, v)| (k, Ok(v))).collect()))
}

async fn batch(
    ctx: &Ctx,
    actor: &Actor,
    entries: &mut [BundleEntry],
    ids: HashMap<String, String>,
    assigned: HashMap<usize, String>,
    model: Option<&yigong_mpi::Model>,
) -> Result<Value, FhirError> {
    // Entries of a batch may not depend on each other (R4 §3.1.0.11.1), but a client that
    // names its own fullUrls still gets them rewritten.
    res::rewrite_bundle(entries, &ids);
    let mut results: HashMap<usize, Result<Done, FhirError>> = HashMap::new();
    for e in entries.iter() {
        let result = match e.method {
            Method::Get => read_entry(ctx, actor, e).await,
            _ => {
                let outcome = async {
                    let mut tx = ctx.db.begin_write().await?;
                    if let (Method::Post, Some(q)) = (e.method, &e.if_none_exist) {
                        let (ty, _, _) = split_url(&e.url);
                        let ty = super::check_type(ty)?;
                        let found = query::conditional_matches(ctx, &mut tx, actor, ty, q).await?;
                        match found.as_slice() {
                            [] => {}
                            [one] => {
                                return Ok(Done::Written { stored: Stored::from_row(one), created: false });
                            }
                            more => {
                                return Err(FhirError::PreconditionFailed(format!(
                                    "ifNoneExist matched {} resources",
                                    more.len()
                                )));
                            }
                        }
                    }
                    let done =
                        write_entry(ctx, &mut tx, actor, e, assigned.get(&e.index).cloned(), model).await?;
                    tx.commit().await?;
                    Ok(done)
                };
                outcome.await
            }
        };
        let result = super::settle(ctx, actor, result).await;
        results.insert(e.index, result.map_err(|err| entry_issue(e, err)));
    }
    Ok(response_bundle("batch-response", entries, results))
}

/// The transaction's processing order (deletes, creates, updates, reads), with each write
/// after the writes it refers to: an Observation whose subject is a Patient created in the same
/// transaction is stored after it, whatever the Bundle's order. Cycles keep Bundle order.
fn dependency_order(entries: &[BundleEntry], assigned: &HashMap<usize, String>) -> Vec<usize> {
    let order = res::processing_order(entries);
    // Where each entry will live, as references name it.
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let (ty, id, _) = split_url(&e.url);
        match (e.method, id, assigned.get(&e.index)) {
            (Method::Post, _, Some(new)) => {
                at.insert(format!("{ty}/{new}"), i);
            }
            (Method::Put, Some(id), _) => {
                at.insert(format!("{ty}/{id}"), i);
            }
            _ => {}
        }
    }
    let deps: Vec<Vec<usize>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            e.resource
                .as_ref()
                .map(|r| {
                    res::references(r)
                        .iter()
                        .filter_map(|x| at.get(*x).copied())
                        .filter(|&j| j != i)
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let mut placed = vec![false; entries.len()];
    let mut out = Vec::with_capacity(entries.len());
    fn visit(
        i: usize,
        deps: &[Vec<usize>],
        placed: &mut [bool],
        onstack: &mut Vec<usize>,
        out: &mut Vec<usize>,
    ) {
        if placed[i] || onstack.contains(&i) {
            return;
        }
        onstack.push(i);
        for &j in &deps[i] {
            visit(j, deps, placed, onstack, out);
        }
        onstack.pop();
        placed[i] = true;
        out.push(i);
    }
    for i in order {
        let mut onstack = Vec::new();
        visit(i, &deps, &mut placed, &mut onstack, &mut out);
    }
    out
}

/// A transaction may not keep a reference to a `urn:uuid:` that no entry defines.
fn check_unresolved(entries: &[BundleEntry]) -> Result<(), FhirError> {
    let mut issues = Vec::new();
    for e in entries {
        if let Some(r) = &e.resource {
            for reference in res::references(r) {
                if reference.starts_with("urn:uuid:") || reference.starts_with("urn:oid:") {
                    issues.push(OutcomeIssue::error(
                        "not-found",
                        Some(format!("Bundle.entry[{}].resource", e.index)),
                        format!(
                            "entry {}: {reference} is not the fullUrl of any entry of this Bundle",
                            e.index
                        ),
                    ));
                }
            }
        }
    }
    if issues.is_empty() { Ok(()) } else { Err(FhirError::Unprocessable(issues)) }
}

async fn write_entry(
    ctx: &Ctx,
    tx: &mut yigong_store::Tx,
    actor: &Actor,
    e: &BundleEntry,
    assigned: Option<String>,
    model: Option<&yigong_mpi::Model>,
) -> Result<Done, FhirError> {
    let (ty, id, query) = split_url(&e.url);
    match e.method {
        Method::Delete => {
            let Some(id) = id else {
                return Err(FhirError::NotAllowed(format!(
                    "conditional delete ({}?{}) is not supported",
                    ty,
                    query.unwrap_or("")
                )));
            };
            super::delete_in(ctx, tx, actor, ty, id).await?;
            Ok(Done::Deleted)
        }
        Method::Post | Method::Put => {
            let mut resource = e.resource.clone().unwrap_or(Value::Null);
            if e.method == Method::Put && id.is_none() {
                return Err(FhirError::NotAllowed(format!(
                    "conditional update ({ty}?…) is not supported; PUT {ty}/{{id}}"
                )));
            }
            let id = match (e.method, id, assigned) {
                (Method::Put, Some(id), _) => Some(id.to_owned()),
                (Method::Post, _, Some(new)) => {
                    if let Some(obj) = resource.as_object_mut() {
                        obj.insert("id".into(), Value::String(new.clone()));
                    }
                    Some(new)
                }
                _ => None,
            };
            let written = write_in(
                ctx,
                tx,
                actor,
                WriteRequest {
                    resource_type: ty.to_owned(),
                    id,
                    resource,
                    if_match: e.if_match.as_deref().and_then(res::parse_etag),
                    if_none_exist: None,
                    server_assigned: e.method == Method::Post,
                },
                model,
            )
            .await?;
            Ok(Done::Written { stored: written.stored, created: written.created })
        }
        Method::Get => unreachable!("reads are processed after the writes"),
    }
}

async fn read_entry(ctx: &Ctx, actor: &Actor, e: &BundleEntry) -> Result<Done, FhirError> {
    let (ty, id, query) = split_url(&e.url);
    match (id, query) {
        (Some(id), _) => Ok(Done::Read(super::read(ctx, actor, ty, id).await?)),
        (None, q) => {
            let pairs = query::query_pairs(q.unwrap_or(""));
            let result = super::search(ctx, actor, ty, &SearchParams::new(pairs)).await?;
            let entries: Vec<Value> = result
                .matches
                .iter()
                .filter_map(|s| s.body.as_deref())
                .filter_map(|b| yigong_fhir::json::parse(b.as_bytes()).ok())
                .map(|r| json!({"resource": r, "search": {"mode": "match"}}))
                .collect();
            Ok(Done::Searched(json!({"resourceType": "Bundle", "type": "searchset", "entry": entries})))
        }
    }
}

fn response_bundle(
    kind: &str,
    entries: &[BundleEntry],
    mut results: HashMap<usize, Result<Done, FhirError>>,
) -> Value {
    let out: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut response = Map::new();
            let mut entry = Map::new();
            match results.remove(&e.index) {
                Some(Ok(Done::Written { stored, created })) => {
                    let status = if created { "201 Created" } else { "200 OK" };
                    response.insert("status".into(), status.into());
                    response.insert(
                        "location".into(),
                        format!("{}/{}/_history/{}", stored.resource_type, stored.id, stored.version).into(),
                    );
                    response.insert("etag".into(), res::etag(stored.version).into());
                    response.insert("lastModified".into(), res::instant(stored.last_updated).into());
                    entry.insert("fullUrl".into(), format!("{}/{}", stored.resource_type, stored.id).into());
                }
                Some(Ok(Done::Deleted)) => {
                    response.insert("status".into(), "204 No Content".into());
                }
                Some(Ok(Done::Read(stored))) => {
                    response.insert("status".into(), "200 OK".into());
                    response.insert("etag".into(), res::etag(stored.version).into());
                    if let Some(r) =
                        stored.body.as_deref().and_then(|b| yigong_fhir::json::parse(b.as_bytes()).ok())
                    {
                        entry.insert("resource".into(), r);
                    }
                }
                Some(Ok(Done::Searched(bundle))) => {
                    response.insert("status".into(), "200 OK".into());
                    entry.insert("resource".into(), bundle);
                }
                Some(Err(err)) => {
                    response.insert("status".into(), format!("{} {}", err.status(), err.reason()).into());
                    response.insert("outcome".into(), res::operation_outcome(&err.issues()));
                }
                None => {
                    response.insert("status".into(), "500 Internal Server Error".into());
                }
            }
            entry.insert("response".into(), Value::Object(response));
            Value::Object(entry)
        })
        .collect();
    json!({"resourceType": "Bundle", "type": kind, "entry": out})
}
