//! The shared health record as FHIR R4 resources: current versions, history, and the search
//! index of the documented parameters (tokens, strings, dates, references).
//!
//! Bodies are stored as the caller serialised them; this module never parses them. Search
//! conditions become `resource_id IN (SELECT … FROM fhir_<kind> …)` over the index tables'
//! primary keys, so every condition is an index range, and results come back in a stable order.

use uuid::Uuid;
use yigong_domain::ids::ConsortiumId;

use crate::population::values_clause;
use crate::{Backend, StoreError, Tx, classify, on_tx};

/// Binds every value of a dynamic query, in order.
macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Uuid(v) => q.bind(*v),
                Bind::Text(v) => q.bind(v.as_str()),
                Bind::I64(v) => q.bind(*v),
                Bind::Bool(v) => q.bind(*v),
            };
        }
        q
    }};
}

/// Rows per multi-row INSERT (at most 11 columns): far below both parameter limits.
const CHUNK: usize = 500;

/// The current version of a resource.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResourceRow {
    /// Resource type (`Observation`).
    pub resource_type: String,
    /// Logical id.
    pub resource_id: String,
    /// Version, from 1.
    pub version_id: i64,
    /// When this version was stored (epoch milliseconds).
    pub last_updated_ms: i64,
    /// Whether the current version is a delete.
    pub deleted: bool,
    /// Owning member institution.
    pub institution_id: Option<Uuid>,
    /// The patient record it is about.
    pub record_id: Option<Uuid>,
    /// When it happened (epoch milliseconds).
    pub occurred_ms: Option<i64>,
    /// The registry table a projected resource mirrors.
    pub registry_kind: Option<String>,
    /// The resource JSON (none for a delete).
    pub body: Option<String>,
}

/// One stored version.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HistoryRow {
    /// Resource type.
    pub resource_type: String,
    /// Logical id.
    pub resource_id: String,
    /// Version.
    pub version_id: i64,
    /// When it was stored (epoch milliseconds).
    pub last_updated_ms: i64,
    /// `POST`, `PUT` or `DELETE`.
    pub method: String,
    /// The resource JSON (none for a delete).
    pub body: Option<String>,
}

/// One search-index value of a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum IndexRow {
    /// A coded value: `system` is empty when the value has none.
    Token {
        /// Parameter code.
        param: String,
        /// Code system (empty if none).
        system: String,
        /// Code.
        code: String,
    },
    /// Normalised text.
    String {
        /// Parameter code.
        param: String,
        /// Normalised value.
        value: String,
    },
    /// A period `[start_ms, end_ms)`.
    Date {
        /// Parameter code.
        param: String,
        /// Start (inclusive).
        start_ms: i64,
        /// End (exclusive).
        end_ms: i64,
    },
    /// A reference to another resource.
    Reference {
        /// Parameter code.
        param: String,
        /// Target type.
        target_type: String,
        /// Target id.
        target_id: String,
    },
}

/// A write of one resource version.
#[derive(Debug, Clone)]
pub struct Write<'a> {
    /// The new current row (its `version_id` is the new version).
    pub row: &'a ResourceRow,
    /// `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// Who wrote it.
    pub author: Option<Uuid>,
    /// The index values of the new version (empty for a delete).
    pub index: &'a [IndexRow],
    /// The index values of the version it replaces, derived from its body, which are deleted
    /// (the index tables have no per-resource index: a resource's rows are found by value).
    pub previous_index: &'a [IndexRow],
}

/// A history row with its body: stored in the row for superseded versions, taken from the
/// current row for the current version (so the current body is stored once).
const HISTORY_SELECT: &str = "SELECT h.resource_type, h.resource_id, h.version_id, h.last_updated_ms, h.method, \
     CASE WHEN h.body IS NOT NULL THEN h.body \
          WHEN h.method <> 'DELETE' AND r.version_id = h.version_id THEN r.body END AS body \
     FROM fhir_history h JOIN fhir_resource r ON r.consortium_id = h.consortium_id \
     AND r.resource_type = h.resource_type AND r.resource_id = h.resource_id";

const COLUMNS: &str = "resource_type, resource_id, version_id, last_updated_ms, deleted, institution_id, \
                       record_id, occurred_ms, registry_kind, body";

/// The current version of one resource, deleted or not.
pub async fn get(
    tx: &mut Tx,
    consortium: ConsortiumId,
    resource_type: &str,
    id: &str,
) -> Result<Option<ResourceRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM fhir_resource WHERE consortium_id = $1 AND resource_type = $2 AND resource_id = $3"
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid()).bind(resource_type).bind(id)
        .fetch_optional(conn).await)?)
}

/// Current, not deleted versions of several resources of one type (any order).
pub async fn get_many(
    tx: &mut Tx,
    consortium: ConsortiumId,
    resource_type: &str,
    ids: &[String],
) -> Result<Vec<ResourceRow>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let mut q = Sql::new(tx.backend());
        q.push(&format!("SELECT {COLUMNS} FROM fhir_resource WHERE consortium_id = "));
        q.bind(Bind::Uuid(consortium.as_uuid()));
        q.push(" AND resource_type = ");
        q.bind(Bind::Text(resource_type.to_owned()));
        q.push(" AND deleted = ");
        q.bind(Bind::Bool(false));
        q.push(" AND resource_id IN (");
        q.bind_list(chunk.iter().map(|s| Bind::Text(s.clone())));
        q.push(")");
        out.extend(q.fetch_rows(tx).await?);
    }
    Ok(out)
}

/// One stored version.
pub async fn version(
    tx: &mut Tx,
    consortium: ConsortiumId,
    resource_type: &str,
    id: &str,
    version_id: i64,
) -> Result<Option<HistoryRow>, StoreError> {
    let sql = format!(
        "{HISTORY_SELECT} WHERE h.consortium_id = $1 AND h.resource_type = $2 AND h.resource_id = $3 AND h.version_id = $4"
    );
    Ok(on_tx!(tx, conn => sqlx::query_as(&sql).bind(consortium.as_uuid()).bind(resource_type).bind(id)
        .bind(version_id).fetch_optional(conn).await)?)
}

/// Versions of one resource (or of every resource of a type when `id` is `None`), newest
/// first, stored at or after `since_ms`.
pub async fn history(
    tx: &mut Tx,
    consortium: ConsortiumId,
    resource_type: &str,
    id: Option<&str>,
    since_ms: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Vec<HistoryRow>, StoreError> {
    let mut q = Sql::new(tx.backend());
    q.push(HISTORY_SELECT);
    q.push(" WHERE h.consortium_id = ");
    q.bind(Bind::Uuid(consortium.as_uuid()));
    q.push(" AND h.resource_type = ");
    q.bind(Bind::Text(resource_type.to_owned()));
    if let Some(id) = id {
        q.push(" AND h.resource_id = ");
        q.bind(Bind::Text(id.to_owned()));
    }
    if let Some(since) = since_ms {
        q.push(" AND h.last_updated_ms >= ");
        q.bind(Bind::I64(since));
    }
    q.push(" ORDER BY h.last_updated_ms DESC, h.resource_id, h.version_id DESC LIMIT ");
    q.bind(Bind::I64(limit));
    q.push(" OFFSET ");
    q.bind(Bind::I64(offset));
    q.fetch_rows(tx).await
}

/// Stores a new version: the current row (inserted or replaced), its history row, and its
/// index rows in place of the previous version's. `row.version_id` must be the previous
/// version + 1 (1 for a new resource); a concurrent writer that got there first makes this
/// fail with a conflict rather than overwrite.
pub async fn put(tx: &mut Tx, consortium: ConsortiumId, write: Write<'_>) -> Result<(), StoreError> {
    let r = write.row;
    let c = consortium.as_uuid();
    if r.version_id == 1 {
        let sql = format!(
            "INSERT INTO fhir_resource (consortium_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        on_tx!(tx, conn => sqlx::query(&sql).bind(c).bind(&r.resource_type).bind(&r.resource_id)
            .bind(r.version_id).bind(r.last_updated_ms).bind(r.deleted).bind(r.institution_id)
            .bind(r.record_id).bind(r.occurred_ms).bind(&r.registry_kind).bind(&r.body)
            .execute(conn).await.map(drop))
        .map_err(|e| classify(e, "fhir_resource_exists"))?;
    } else {
        // The version being superseded keeps its body in its history row from now on.
        const KEEP: &str = "UPDATE fhir_history SET body = (SELECT r.body FROM fhir_resource r \
                            WHERE r.consortium_id = $1 AND r.resource_type = $2 AND r.resource_id = $3) \
                            WHERE consortium_id = $1 AND resource_type = $2 AND resource_id = $3 AND version_id = $4";
        on_tx!(tx, conn => sqlx::query(KEEP).bind(c).bind(&r.resource_type).bind(&r.resource_id)
            .bind(r.version_id - 1).execute(conn).await.map(drop))?;
        const SQL: &str = "UPDATE fhir_resource SET version_id = $4, last_updated_ms = $5, deleted = $6, \
                           institution_id = $7, record_id = $8, occurred_ms = $9, registry_kind = $10, body = $11 \
                           WHERE consortium_id = $1 AND resource_type = $2 AND resource_id = $3 AND version_id = $12";
        let done = on_tx!(tx, conn => sqlx::query(SQL).bind(c).bind(&r.resource_type).bind(&r.resource_id)
            .bind(r.version_id).bind(r.last_updated_ms).bind(r.deleted).bind(r.institution_id)
            .bind(r.record_id).bind(r.occurred_ms).bind(&r.registry_kind).bind(&r.body)
            .bind(r.version_id - 1).execute(conn).await.map(|d| d.rows_affected()))
        .map_err(|e| classify(e, "fhir_resource_exists"))?;
        if done != 1 {
            return Err(StoreError::Conflict { rule: "fhir_version_conflict" });
        }
        delete_index(tx, consortium, &r.resource_type, &r.resource_id, write.previous_index).await?;
    }
    const HISTORY: &str = "INSERT INTO fhir_history (consortium_id, resource_type, resource_id, version_id, \
                           last_updated_ms, method, author_user_id, institution_id, body) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    // The current version's body is read from fhir_resource (see HISTORY_SELECT).
    on_tx!(tx, conn => sqlx::query(HISTORY).bind(c).bind(&r.resource_type).bind(&r.resource_id)
        .bind(r.version_id).bind(r.last_updated_ms).bind(write.method).bind(write.author)
        .bind(r.institution_id).bind(None::<String>).execute(conn).await.map(drop))
    .map_err(|e| classify(e, "fhir_version_conflict"))?;
    insert_index(tx, consortium, &r.resource_type, &r.resource_id, write.index).await
}

/// Inserts many new resources (version 1, method `POST`) with their index rows, in multi-row
/// statements: the bulk path of the synthetic county and of imports.
pub async fn insert_many(
    tx: &mut Tx,
    consortium: ConsortiumId,
    rows: &[(ResourceRow, Vec<IndexRow>)],
    author: Option<Uuid>,
) -> Result<(), StoreError> {
    let c = consortium.as_uuid();
    let backend = tx.backend();
    for chunk in rows.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO fhir_resource (consortium_id, {COLUMNS}) VALUES {}",
            values_clause(backend, chunk.len(), 11)
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(&sql);
            for (r, _) in chunk {
                q = q.bind(c).bind(&r.resource_type).bind(&r.resource_id).bind(r.version_id)
                    .bind(r.last_updated_ms).bind(r.deleted).bind(r.institution_id).bind(r.record_id)
                    .bind(r.occurred_ms).bind(&r.registry_kind).bind(&r.body);
            }
            q.execute(conn).await.map(drop)
        })
        .map_err(|e| classify(e, "fhir_resource_exists"))?;
        let sql = format!(
            "INSERT INTO fhir_history (consortium_id, resource_type, resource_id, version_id, last_updated_ms, \
             method, author_user_id, institution_id, body) VALUES {}",
            values_clause(backend, chunk.len(), 9)
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(&sql);
            for (r, _) in chunk {
                q = q.bind(c).bind(&r.resource_type).bind(&r.resource_id).bind(r.version_id)
                    .bind(r.last_updated_ms).bind("POST").bind(author).bind(r.institution_id).bind(None::<String>);
            }
            q.execute(conn).await.map(drop)
        })?;
    }
    let mut tokens = Vec::new();
    let mut strings = Vec::new();
    let mut dates = Vec::new();
    let mut refs = Vec::new();
    for (r, index) in rows {
        split_index(
            &r.resource_type,
            &r.resource_id,
            index,
            &mut tokens,
            &mut strings,
            &mut dates,
            &mut refs,
        );
    }
    insert_split(tx, consortium, &tokens, &strings, &dates, &refs).await
}

fn split_index<'a>(
    resource_type: &'a str,
    id: &'a str,
    index: &'a [IndexRow],
    tokens: &mut Vec<(&'a str, &'a str, &'a IndexRow)>,
    strings: &mut Vec<(&'a str, &'a str, &'a IndexRow)>,
    dates: &mut Vec<(&'a str, &'a str, &'a IndexRow)>,
    refs: &mut Vec<(&'a str, &'a str, &'a IndexRow)>,
) {
    let mut seen = std::collections::BTreeSet::new();
    for row in index {
        // The primary keys make duplicates (the same code twice in a resource) an error.
        if !seen.insert(row) {
            continue;
        }
        let entry = (resource_type, id, row);
        match row {
            IndexRow::Token { .. } => tokens.push(entry),
            IndexRow::String { .. } => strings.push(entry),
            IndexRow::Date { .. } => dates.push(entry),
            IndexRow::Reference { .. } => refs.push(entry),
        }
    }
}

async fn insert_index(
    tx: &mut Tx,
    consortium: ConsortiumId,
    resource_type: &str,
    id: &str,
    index: &[IndexRow],
) -> Result<(), StoreError> {
    let (mut tokens, mut strings, mut dates, mut refs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    split_index(resource_type, id, index, &mut tokens, &mut strings, &mut dates, &mut refs);
    insert_split(tx, consortium, &tokens, &strings, &dates, &refs).await
}

type Entry<'a> = (&'a str, &'a str, &'a IndexRow);

async fn insert_split(
    tx: &mut Tx,
    consortium: ConsortiumId,
    tokens: &[Entry<'_>],
    strings: &[Entry<'_>],
    dates: &[Entry<'_>],
    refs: &[Entry<'_>],
) -> Result<(), StoreError> {
    let c = consortium.as_uuid();
    let backend = tx.backend();
    let tables: [(&str, &str, usize, &[Entry<'_>]); 4] = [
        ("fhir_token", "param, code, system", 6, tokens),
        ("fhir_string", "param, value", 5, strings),
        ("fhir_date", "param, start_ms, end_ms", 6, dates),
        ("fhir_reference", "param, target_id, target_type", 6, refs),
    ];
    for (table, columns, width, entries) in tables {
        for chunk in entries.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO {table} (consortium_id, resource_type, {columns}, resource_id) VALUES {}",
                values_clause(backend, chunk.len(), width)
            );
            on_tx!(tx, conn => {
                let mut q = sqlx::query(&sql);
                for (resource_type, id, row) in chunk {
                    q = q.bind(c).bind(*resource_type);
                    q = match row {
                        IndexRow::Token { param, system, code } => q.bind(param).bind(code).bind(system),
                        IndexRow::String { param, value } => q.bind(param).bind(value),
                        IndexRow::Date { param, start_ms, end_ms } => q.bind(param).bind(start_ms).bind(end_ms),
                        IndexRow::Reference { param, target_type, target_id } => {
                            q.bind(param).bind(target_id).bind(target_type)
                        }
                    };
                    q = q.bind(*id);
                }
                q.execute(conn).await.map(drop)
            })?;
        }
    }
    Ok(())
}

async fn delete_index(
    tx: &mut Tx,
    consortium: ConsortiumId,
    resource_type: &str,
    id: &str,
    rows: &[IndexRow],
) -> Result<(), StoreError> {
    let c = consortium.as_uuid();
    for row in rows {
        let done = match row {
            IndexRow::Token { param, system, code } => {
                const SQL: &str = "DELETE FROM fhir_token WHERE consortium_id = $1 AND resource_type = $2 \
                                   AND param = $3 AND code = $4 AND system = $5 AND resource_id = $6";
                on_tx!(tx, conn => sqlx::query(SQL).bind(c).bind(resource_type).bind(param).bind(code)
                    .bind(system).bind(id).execute(conn).await.map(drop))
            }
            IndexRow::String { param, value } => {
                const SQL: &str = "DELETE FROM fhir_string WHERE consortium_id = $1 AND resource_type = $2 \
                                   AND param = $3 AND value = $4 AND resource_id = $5";
                on_tx!(tx, conn => sqlx::query(SQL).bind(c).bind(resource_type).bind(param).bind(value)
                    .bind(id).execute(conn).await.map(drop))
            }
            IndexRow::Date { param, start_ms, end_ms } => {
                const SQL: &str = "DELETE FROM fhir_date WHERE consortium_id = $1 AND resource_type = $2 \
                                   AND param = $3 AND start_ms = $4 AND end_ms = $5 AND resource_id = $6";
                on_tx!(tx, conn => sqlx::query(SQL).bind(c).bind(resource_type).bind(param).bind(start_ms)
                    .bind(end_ms).bind(id).execute(conn).await.map(drop))
            }
            IndexRow::Reference { param, target_type, target_id } => {
                const SQL: &str = "DELETE FROM fhir_reference WHERE consortium_id = $1 AND resource_type = $2 \
                                   AND param = $3 AND target_id = $4 AND target_type = $5 AND resource_id = $6";
                on_tx!(tx, conn => sqlx::query(SQL).bind(c).bind(resource_type).bind(param).bind(target_id)
                    .bind(target_type).bind(id).execute(conn).await.map(drop))
            }
        };
        done?;
    }
    Ok(())
}

/// How a string parameter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMatch {
    /// The value starts with the text (FHIR's default).
    Prefix,
    /// The whole value.
    Exact,
    /// Anywhere in the value.
    Contains,
}

/// One search condition; a resource matches a query when it meets every condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Any of these logical ids.
    Id(Vec<String>),
    /// Stored in `[from_ms, to_ms)`.
    LastUpdated {
        /// Lower bound (inclusive).
        from_ms: Option<i64>,
        /// Upper bound (exclusive).
        to_ms: Option<i64>,
    },
    /// About one of these patient records.
    Record(Vec<Uuid>),
    /// A token; `system: None` matches any system, `Some("")` only values without one.
    Token {
        /// Parameter code.
        param: String,
        /// System.
        system: Option<String>,
        /// Code; `None` matches any code of the system.
        code: Option<String>,
    },
    /// A normalised string.
    String {
        /// Parameter code.
        param: String,
        /// Normalised text.
        value: String,
        /// How it matches.
        how: StringMatch,
    },
    /// A period meeting every bound (the FHIR prefixes translate into an OR of these).
    Date {
        /// Parameter code.
        param: String,
        /// `edge comparison value` (milliseconds), all of which hold.
        bounds: Vec<(Edge, Cmp, i64)>,
    },
    /// A reference; `target_type: None` matches any type.
    Reference {
        /// Parameter code.
        param: String,
        /// Target type.
        target_type: Option<String>,
        /// Target id.
        target_id: String,
    },
    /// Any of the conditions (a comma-separated FHIR value).
    AnyOf(Vec<Condition>),
    /// None of the conditions (`:not`).
    Not(Box<Condition>),
}

/// An edge of an indexed period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// Its start (inclusive).
    Start,
    /// Its end (exclusive).
    End,
}

/// A comparison of an edge with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Logical id.
    Id,
    /// Last stored.
    LastUpdated,
    /// When it happened.
    Occurred,
}

/// A search of one resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Resource type.
    pub resource_type: String,
    /// Conditions, all of which must hold.
    pub conditions: Vec<Condition>,
    /// Sort keys with descending flags; the id always breaks ties.
    pub sort: Vec<(SortKey, bool)>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// The current, not deleted resources matching `query`.
pub async fn search(
    tx: &mut Tx,
    consortium: ConsortiumId,
    query: &Query,
) -> Result<Vec<ResourceRow>, StoreError> {
    let mut q = Sql::new(tx.backend());
    q.push(&format!("SELECT {COLUMNS} FROM fhir_resource r WHERE "));
    where_clause(&mut q, consortium, query);
    q.push(" ORDER BY ");
    // With conditions, the matches are few and found through the index tables: `+` keeps
    // SQLite's planner from walking the (type, updated) index over every resource of the type
    // to avoid a sort. Without conditions, that walk is the plan.
    let plus = if query.conditions.is_empty() { "" } else { "+" };
    for (key, desc) in &query.sort {
        let column = match key {
            SortKey::Id => "r.resource_id".to_owned(),
            SortKey::LastUpdated => format!("{plus}r.last_updated_ms"),
            SortKey::Occurred => format!("{plus}r.occurred_ms"),
        };
        q.push(&column);
        q.push(if *desc { " DESC, " } else { ", " });
    }
    q.push("r.resource_id LIMIT ");
    q.bind(Bind::I64(query.limit));
    q.push(" OFFSET ");
    q.bind(Bind::I64(query.offset));
    q.fetch_rows(tx).await
}

fn where_clause(q: &mut Sql, consortium: ConsortiumId, query: &Query) {
    q.push("r.consortium_id = ");
    q.bind(Bind::Uuid(consortium.as_uuid()));
    q.push(" AND r.resource_type = ");
    q.bind(Bind::Text(query.resource_type.clone()));
    q.push(" AND r.deleted = ");
    q.bind(Bind::Bool(false));
    for c in &query.conditions {
        q.push(" AND ");
        condition(q, consortium, &query.resource_type, c);
    }
}

fn condition(q: &mut Sql, consortium: ConsortiumId, resource_type: &str, c: &Condition) {
    let sub = |q: &mut Sql, table: &str, param: &str| {
        q.push(&format!("r.resource_id IN (SELECT resource_id FROM {table} WHERE consortium_id = "));
        q.bind(Bind::Uuid(consortium.as_uuid()));
        q.push(" AND resource_type = ");
        q.bind(Bind::Text(resource_type.to_owned()));
        q.push(" AND param = ");
        q.bind(Bind::Text(param.to_owned()));
    };
    match c {
        Condition::Id(ids) => {
            q.push("r.resource_id IN (");
            q.bind_list(ids.iter().map(|i| Bind::Text(i.clone())));
            q.push(")");
        }
        Condition::LastUpdated { from_ms, to_ms } => {
            q.push("(1 = 1");
            if let Some(from) = from_ms {
                q.push(" AND r.last_updated_ms >= ");
                q.bind(Bind::I64(*from));
            }
            if let Some(to) = to_ms {
                q.push(" AND r.last_updated_ms < ");
                q.bind(Bind::I64(*to));
            }
            q.push(")");
        }
        Condition::Record(records) => {
            q.push("r.record_id IN (");
            q.bind_list(records.iter().map(|r| Bind::Uuid(*r)));
            q.push(")");
        }
        Condition::Token { param, system, code } => {
            sub(q, "fhir_token", param);
            if let Some(code) = code {
                q.push(" AND code = ");
                q.bind(Bind::Text(code.clone()));
            }
            if let Some(system) = system {
                q.push(" AND system = ");
                q.bind(Bind::Text(system.clone()));
            }
            q.push(")");
        }
        Condition::String { param, value, how } => {
            sub(q, "fhir_string", param);
            match how {
                StringMatch::Exact => {
                    q.push(" AND value = ");
                    q.bind(Bind::Text(value.clone()));
                }
                StringMatch::Prefix => {
                    // A range on the primary key rather than LIKE, which SQLite cannot index
                    // case-sensitively: [value, value + U+10FFFF).
                    q.push(" AND value >= ");
                    q.bind(Bind::Text(value.clone()));
                    q.push(" AND value < ");
                    q.bind(Bind::Text(format!("{value}\u{10FFFF}")));
                }
                StringMatch::Contains => {
                    q.push(" AND value LIKE ");
                    q.bind(Bind::Text(format!("%{}%", escape_like(value))));
                    q.push(" ESCAPE '\\'");
                }
            }
            q.push(")");
        }
        Condition::Date { param, bounds } => {
            sub(q, "fhir_date", param);
            for (edge, cmp, value) in bounds {
                let column = match edge {
                    Edge::Start => "start_ms",
                    Edge::End => "end_ms",
                };
                let op = match cmp {
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                };
                q.push(&format!(" AND {column} {op} "));
                q.bind(Bind::I64(*value));
            }
            q.push(")");
        }
        Condition::Reference { param, target_type, target_id } => {
            sub(q, "fhir_reference", param);
            q.push(" AND target_id = ");
            q.bind(Bind::Text(target_id.clone()));
            if let Some(t) = target_type {
                q.push(" AND target_type = ");
                q.bind(Bind::Text(t.clone()));
            }
            q.push(")");
        }
        Condition::AnyOf(all) => {
            q.push("(");
            for (i, c) in all.iter().enumerate() {
                if i > 0 {
                    q.push(" OR ");
                }
                condition(q, consortium, resource_type, c);
            }
            if all.is_empty() {
                q.push("1 = 0");
            }
            q.push(")");
        }
        Condition::Not(inner) => {
            q.push("NOT (");
            condition(q, consortium, resource_type, inner);
            q.push(")");
        }
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The references of `param` held by the resources `ids` of `resource_type`: `(id, target type,
/// target id)`, for `_include`.
pub async fn references_of(
    tx: &mut Tx,
    consortium: ConsortiumId,
    resource_type: &str,
    ids: &[String],
    param: &str,
) -> Result<Vec<(String, String, String)>, StoreError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut q = Sql::new(tx.backend());
        q.push("SELECT resource_id, target_type, target_id FROM fhir_reference WHERE consortium_id = ");
        q.bind(Bind::Uuid(consortium.as_uuid()));
        q.push(" AND resource_type = ");
        q.bind(Bind::Text(resource_type.to_owned()));
        q.push(" AND param = ");
        q.bind(Bind::Text(param.to_owned()));
        q.push(" AND resource_id IN (");
        q.bind_list(chunk.iter().map(|s| Bind::Text(s.clone())));
        q.push(")");
        out.extend(q.fetch_rows::<(String, String, String)>(tx).await?);
    }
    out.sort();
    Ok(out)
}

/// A filter of the patient timeline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineFilter {
    /// Only these resource types (all when empty).
    pub types: Vec<String>,
    /// Only these institutions (all when empty).
    pub institutions: Vec<Uuid>,
    /// Happened at or after.
    pub from_ms: Option<i64>,
    /// Happened before.
    pub to_ms: Option<i64>,
    /// Newer than this (occurred, type, id) position: the keyset cursor of the next page.
    pub before: Option<(i64, String, String)>,
}

/// The current resources about `records`, newest first (those with no time last).
pub async fn timeline(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[Uuid],
    filter: &TimelineFilter,
    limit: i64,
) -> Result<Vec<ResourceRow>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(tx.backend());
    q.push(&format!("SELECT {COLUMNS} FROM fhir_resource WHERE consortium_id = "));
    q.bind(Bind::Uuid(consortium.as_uuid()));
    q.push(" AND deleted = ");
    q.bind(Bind::Bool(false));
    q.push(" AND resource_type <> 'Patient' AND record_id IN (");
    q.bind_list(records.iter().map(|r| Bind::Uuid(*r)));
    q.push(") AND occurred_ms IS NOT NULL");
    if !filter.types.is_empty() {
        q.push(" AND resource_type IN (");
        q.bind_list(filter.types.iter().map(|t| Bind::Text(t.clone())));
        q.push(")");
    }
    if !filter.institutions.is_empty() {
        q.push(" AND institution_id IN (");
        q.bind_list(filter.institutions.iter().map(|i| Bind::Uuid(*i)));
        q.push(")");
    }
    if let Some(from) = filter.from_ms {
        q.push(" AND occurred_ms >= ");
        q.bind(Bind::I64(from));
    }
    if let Some(to) = filter.to_ms {
        q.push(" AND occurred_ms < ");
        q.bind(Bind::I64(to));
    }
    if let Some((at, ty, id)) = &filter.before {
        q.push(" AND (occurred_ms < ");
        q.bind(Bind::I64(*at));
        q.push(" OR (occurred_ms = ");
        q.bind(Bind::I64(*at));
        q.push(" AND (resource_type < ");
        q.bind(Bind::Text(ty.clone()));
        q.push(" OR (resource_type = ");
        q.bind(Bind::Text(ty.clone()));
        q.push(" AND resource_id < ");
        q.bind(Bind::Text(id.clone()));
        q.push("))))");
    }
    q.push(" ORDER BY occurred_ms DESC, resource_type DESC, resource_id DESC LIMIT ");
    q.bind(Bind::I64(limit));
    q.fetch_rows(tx).await
}

/// The institutions holding resources about `records` (for the shared-record access rule:
/// a clinician reads a patient who has been seen within their scope).
pub async fn record_institutions(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(tx.backend());
    q.push("SELECT DISTINCT institution_id FROM fhir_resource WHERE consortium_id = ");
    q.bind(Bind::Uuid(consortium.as_uuid()));
    q.push(" AND record_id IN (");
    q.bind_list(records.iter().map(|r| Bind::Uuid(*r)));
    q.push(") AND institution_id IS NOT NULL");
    q.fetch_scalars(tx).await
}

/// Counts of current resources per type about `records` (the 360° view's tiles).
pub async fn record_type_counts(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[Uuid],
) -> Result<Vec<(String, i64)>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    // Counted here rather than with GROUP BY: a grouping by type would lead SQLite's planner to
    // walk the (consortium, type, updated) index over every resource instead of the patient's.
    let mut q = Sql::new(tx.backend());
    q.push("SELECT resource_type FROM fhir_resource WHERE consortium_id = ");
    q.bind(Bind::Uuid(consortium.as_uuid()));
    q.push(" AND deleted = ");
    q.bind(Bind::Bool(false));
    q.push(" AND record_id IN (");
    q.bind_list(records.iter().map(|r| Bind::Uuid(*r)));
    q.push(")");
    let types: Vec<String> = q.fetch_scalars(tx).await?;
    let mut counts: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for t in types {
        *counts.entry(t).or_default() += 1;
    }
    Ok(counts.into_iter().collect())
}

/// A patient search on the index's own columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientQuery {
    /// Resident ID number (exact).
    pub resident_id: Option<String>,
    /// A source's local id (exact), optionally within one source.
    pub local_id: Option<(Option<Uuid>, String)>,
    /// Records whose name (or family or given name) starts with this.
    pub name: Option<String>,
    /// Birth dates in `[from, to]` as ISO text.
    pub birth_between: Option<(String, String)>,
    /// Any of these sex values as the sources wrote them (`male`, `1`, `男`, …).
    pub sex_in: Option<Vec<String>>,
    /// Only these records.
    pub records: Option<Vec<Uuid>>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Record ids matching a patient query, in record-id order.
pub async fn search_patients(
    tx: &mut Tx,
    consortium: ConsortiumId,
    query: &PatientQuery,
) -> Result<Vec<Uuid>, StoreError> {
    let mut q = Sql::new(tx.backend());
    q.push("SELECT record_id FROM mpi_record WHERE consortium_id = ");
    q.bind(Bind::Uuid(consortium.as_uuid()));
    if let Some(id) = &query.resident_id {
        q.push(" AND resident_id = ");
        q.bind(Bind::Text(id.clone()));
    }
    if let Some((source, local)) = &query.local_id {
        q.push(" AND local_id = ");
        q.bind(Bind::Text(local.clone()));
        if let Some(source) = source {
            q.push(" AND source_id = ");
            q.bind(Bind::Uuid(*source));
        }
    }
    if let Some(name) = &query.name {
        let upper = format!("{name}\u{10FFFF}");
        q.push(" AND ((name >= ");
        q.bind(Bind::Text(name.clone()));
        q.push(" AND name < ");
        q.bind(Bind::Text(upper.clone()));
        q.push(") OR (family_name >= ");
        q.bind(Bind::Text(name.clone()));
        q.push(" AND family_name < ");
        q.bind(Bind::Text(upper.clone()));
        q.push(") OR (given_name >= ");
        q.bind(Bind::Text(name.clone()));
        q.push(" AND given_name < ");
        q.bind(Bind::Text(upper));
        q.push("))");
    }
    if let Some((from, to)) = &query.birth_between {
        q.push(" AND birth_date >= ");
        q.bind(Bind::Text(from.clone()));
        q.push(" AND birth_date <= ");
        q.bind(Bind::Text(to.clone()));
    }
    if let Some(sexes) = &query.sex_in {
        q.push(" AND sex IN (");
        q.bind_list(sexes.iter().map(|s| Bind::Text(s.clone())));
        q.push(")");
    }
    if let Some(records) = &query.records {
        q.push(" AND record_id IN (");
        q.bind_list(records.iter().map(|r| Bind::Uuid(*r)));
        q.push(")");
    }
    // `+` keeps SQLite from walking the primary key in record order (to avoid a sort) instead
    // of looking the identifier up in its index; PostgreSQL plans this well (and has no `+` on UUIDs).
    q.push(match tx.backend() {
        Backend::Sqlite => " ORDER BY +record_id LIMIT ",
        Backend::Postgres => " ORDER BY record_id LIMIT ",
    });
    q.bind(Bind::I64(query.limit));
    q.push(" OFFSET ");
    q.bind(Bind::I64(query.offset));
    q.fetch_scalars(tx).await
}

/// The resource bodies of these Patient records that were sent over FHIR.
pub async fn patient_bodies(
    tx: &mut Tx,
    consortium: ConsortiumId,
    records: &[Uuid],
) -> Result<Vec<ResourceRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in records.chunks(CHUNK) {
        let mut q = Sql::new(tx.backend());
        q.push(&format!("SELECT {COLUMNS} FROM fhir_resource WHERE consortium_id = "));
        q.bind(Bind::Uuid(consortium.as_uuid()));
        q.push(" AND resource_type = 'Patient' AND record_id IN (");
        q.bind_list(chunk.iter().map(|r| Bind::Uuid(*r)));
        q.push(")");
        out.extend(q.fetch_rows(tx).await?);
    }
    Ok(out)
}

/// A bound value of a dynamic query.
#[derive(Debug, Clone)]
enum Bind {
    Uuid(Uuid),
    Text(String),
    I64(i64),
    Bool(bool),
}

/// A query text with its binds, numbered for the backend as they are pushed.
struct Sql {
    backend: Backend,
    sql: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn new(backend: Backend) -> Self {
        Self { backend, sql: String::with_capacity(256), binds: Vec::new() }
    }

    fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    fn bind(&mut self, b: Bind) {
        self.binds.push(b);
        match self.backend {
            Backend::Sqlite => self.sql.push('?'),
            Backend::Postgres => {
                self.sql.push('$');
                self.sql.push_str(&self.binds.len().to_string());
            }
        }
    }

    fn bind_list(&mut self, items: impl Iterator<Item = Bind>) {
        let mut first = true;
        for b in items {
            if !first {
                self.sql.push_str(", ");
            }
            first = false;
            self.bind(b);
        }
        if first {
            // An empty list matches nothing.
            self.sql.push_str("NULL");
        }
    }

    /// Every row, as `T`.
    async fn fetch_rows<T>(self, tx: &mut Tx) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
            + Send
            + Unpin,
    {
        let (sql, binds) = (self.sql, self.binds);
        Ok(on_tx!(tx, conn => {
            let mut s = sqlx::query_as(&sql);
            s = bind_all!(s, &binds);
            s.fetch_all(conn).await
        })?)
    }

    /// The first column of every row.
    async fn fetch_scalars<T>(self, tx: &mut Tx) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'r> sqlx::Decode<'r, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>
            + Send
            + Unpin,
    {
        let (sql, binds) = (self.sql, self.binds);
        Ok(on_tx!(tx, conn => {
            let mut s = sqlx::query_scalar(&sql);
            s = bind_all!(s, &binds);
            s.fetch_all(conn).await
        })?)
    }
}
