//! Referral metrics computed by the database (DESIGN.md §7.3): the count of each measure by
//! direction, priority and a group key, and the median minutes to acceptance, over a period —
//! so a year of 110,000 referrals is counted where it lies instead of crossing the wire.
//!
//! The definition of every measure is [`Measure::time`] in the domain; [`measure_sql`] states it
//! again in SQL, and the conformance suite holds the two equal on both backends by comparing
//! these aggregates with the domain's tally of [`metric_rows`].

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use uuid::Uuid;
use yigong_domain::ids::{ConsortiumId, InstitutionId};
use yigong_domain::referral::green::Centre;
use yigong_domain::referral::metrics::Measure;
use yigong_domain::referral::{Direction, Priority, State};

use super::{parse, parse_opt};
use crate::bind::{Bind, bind_values};
use crate::{Backend, StoreError, Tx, on_tx};

/// How counts are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// The calendar month (China time, `YYYY-MM`) of the time the measure counts at.
    Month,
    /// The receiving institution (out-of-network referrals have no key).
    Receiving,
    /// The sending institution.
    Sending,
}

/// Which referrals: the period `[from, to)`, the moment that decides what is overdue, and the
/// institutions of the viewer's reach (`None`: the whole consortium).
#[derive(Debug, Clone, Copy)]
pub struct Reach<'a> {
    /// First instant.
    pub from: DateTime<Utc>,
    /// First instant after.
    pub to: DateTime<Utc>,
    /// Now.
    pub now: DateTime<Utc>,
    /// A referral is in reach when one of these sent or receives it.
    pub institutions: Option<&'a [InstitutionId]>,
}

/// How many referrals of one direction and priority count for `measure` in group `key`
/// (`None`: no group, e.g. out of network by receiving institution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// Measure.
    pub measure: Measure,
    /// Direction.
    pub direction: Direction,
    /// Priority.
    pub priority: Priority,
    /// Month `YYYY-MM` or institution id.
    pub key: Option<String>,
    /// How many.
    pub n: u64,
}

/// The median minutes from submission to acceptance of one priority, in one group or
/// (`total`) over the whole reach.
#[derive(Debug, Clone, PartialEq)]
pub struct Median {
    /// Priority.
    pub priority: Priority,
    /// Over everything (then `key` is `None`).
    pub total: bool,
    /// Group key.
    pub key: Option<String>,
    /// Median minutes.
    pub minutes: f64,
}

/// The time column a measure counts at, and the condition a referral meets to count (`$4` is
/// now). Mirrors [`Measure::time`].
fn measure_sql(measure: Measure) -> (&'static str, String) {
    match measure {
        Measure::Submitted => ("submitted_at", String::new()),
        Measure::Arrived => ("arrived_at", String::new()),
        Measure::Accepted => ("accepted_at", String::new()),
        Measure::Rejected => ("rejected_at", String::new()),
        Measure::AcceptedArrived => ("accepted_at", " AND arrived_at IS NOT NULL".into()),
        Measure::CompletedUp => ("completed_at", " AND direction = 'upward'".into()),
        Measure::ClosedLoop => (
            "completed_at",
            " AND direction = 'upward' AND closed_at IS NOT NULL AND closed_loop IS TRUE".into(),
        ),
        Measure::Overdue => ("sla_due", format!(" AND sla_due <= $4 AND state IN ({})", live_states())),
    }
}

fn live_states() -> String {
    State::ALL.iter().filter(|s| s.is_live()).map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
}

/// The period condition of a measure: in `[from, to)`, but "overdue" is now, whatever the period.
fn in_period(measure: Measure, column: &str) -> String {
    if measure == Measure::Overdue { String::new() } else { format!(" AND {column} >= $2 AND {column} < $3") }
}

/// The group key of a referral counted at `column`.
fn key_sql(backend: Backend, group: GroupBy, column: &str) -> String {
    match (group, backend) {
        (GroupBy::Month, Backend::Sqlite) => format!("strftime('%Y-%m', {column}, '+8 hours')"),
        (GroupBy::Month, Backend::Postgres) => {
            format!("to_char(({column} AT TIME ZONE 'UTC') + INTERVAL '8 hours', 'YYYY-MM')")
        }
        (GroupBy::Receiving, _) => "to_institution_id".into(),
        (GroupBy::Sending, _) => "from_institution_id".into(),
    }
}

/// Whole minutes from submission to acceptance, truncated like `chrono::Duration::num_minutes`
/// (SQLite: to the millisecond).
fn minutes_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CAST(ROUND((julianday(accepted_at) - julianday(submitted_at)) * 86400000.0) AS INTEGER) / 60000"
        }
        Backend::Postgres => "CAST(TRUNC(EXTRACT(EPOCH FROM (accepted_at - submitted_at)) / 60) AS BIGINT)",
    }
}

/// `WITH r AS (…)`: the columns of the referrals the period can count (submitted
/// before `to`, and submitted or changed at `from` or later), in reach. Binds `$1`–`$4` (`$4`,
/// now, is used by the overdue measure only), and the reach's institutions from `$5`.
fn base(reach: &Reach<'_>, binds: &mut Vec<Bind>) -> String {
    let mut scope = String::new();
    if let Some(set) = reach.institutions {
        if set.is_empty() {
            scope.push_str(" AND 1 = 0");
        } else {
            let first = binds.len() + 1;
            let list = (0..set.len()).map(|i| format!("${}", first + i)).collect::<Vec<_>>().join(", ");
            binds.extend(set.iter().map(|i| Bind::Uuid(i.as_uuid())));
            scope = format!(" AND (from_institution_id IN ({list}) OR to_institution_id IN ({list}))");
        }
    }
    format!(
        "WITH r AS (SELECT referral_id, direction, priority, green_centre, state, from_institution_id, \
         to_institution_id, submitted_at, accepted_at, rejected_at, arrived_at, completed_at, closed_at, \
         closed_loop, sla_due FROM referral WHERE consortium_id = $1 AND submitted_at IS NOT NULL \
         AND submitted_at < $3 AND (submitted_at >= $2 OR updated_at >= $2){scope})"
    )
}

fn first_binds(consortium: ConsortiumId, reach: &Reach<'_>) -> Vec<Bind> {
    vec![Bind::Uuid(consortium.as_uuid()), Bind::At(reach.from), Bind::At(reach.to), Bind::At(reach.now)]
}

/// Fetches rows of type `$row`, whose key column is a text for months and a UUID otherwise.
macro_rules! fetch_keyed {
    ($tx:expr, $sql:expr, $binds:expr, $group:expr, $row:ty) => {{
        let sql: &str = $sql;
        let binds: &[Bind] = $binds;
        if $group == GroupBy::Month {
            let rows: Vec<$row> =
                on_tx!($tx, conn => bind_values!(sqlx::query_as(sql), binds).fetch_all(conn).await)?;
            rows
        } else {
            let rows: Vec<<$row as KeyedBy>::ByUuid> =
                on_tx!($tx, conn => bind_values!(sqlx::query_as(sql), binds).fetch_all(conn).await)?;
            rows.into_iter().map(<$row as KeyedBy>::from_uuid).collect()
        }
    }};
}

/// Rows whose group key is a text (month) or, for institutions, a UUID turned into its text.
trait KeyedBy {
    type ByUuid;
    fn from_uuid(row: Self::ByUuid) -> Self;
}

type CountRow = (String, String, Option<String>, i64);
impl KeyedBy for CountRow {
    type ByUuid = (String, String, Option<Uuid>, i64);
    fn from_uuid(r: Self::ByUuid) -> Self {
        (r.0, r.1, r.2.map(|u| u.to_string()), r.3)
    }
}

/// The China calendar months (`YYYY-MM`) that `[from, to)` touches, each with the instant it
/// starts (UTC); the first starts at `from` or before.
fn months(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(String, DateTime<Utc>)> {
    let china = |at: DateTime<Utc>| (at + Duration::hours(8)).date_naive();
    let start_of = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - Duration::hours(8);
    let mut out = Vec::new();
    let mut month = china(from).with_day(1).expect("day 1");
    while start_of(month) < to {
        out.push((format!("{:04}-{:02}", month.year(), month.month()), start_of(month)));
        month = month.checked_add_months(Months::new(1)).expect("a month later");
    }
    out
}

/// The bucket a referral counts in for the time in `column`: 0 outside `[from, to)` (`$2`, `$3`),
/// else the month's position from 1 (month starts bound from `$first`), or 1 without months.
fn bucket(column: &str, months: usize, first: usize) -> String {
    let mut sql = format!("CASE WHEN {column} IS NULL OR {column} < $2 OR {column} >= $3 THEN 0");
    for k in 1..months {
        sql.push_str(&format!(" WHEN {column} < ${} THEN {k}", first + k - 1));
    }
    sql.push_str(&format!(" ELSE {} END", months.max(1)));
    sql
}

/// One group of the single scan: direction, priority, institution key, the bucket of each
/// time, the flags, how many.
type ScanRow = (String, String, Option<Uuid>, i32, i32, i32, i32, i32, i32, i32, i64);

/// The counts of every measure in reach, by direction, priority and `group`, and the median
/// minutes to acceptance per priority, by group and over everything. One scan of the covering
/// index buckets each referral's times by month (or period) with plain comparisons; the
/// overdue count, which is "now", is a second small query over the live referrals.
pub async fn aggregate(
    tx: &mut Tx,
    consortium: ConsortiumId,
    reach: &Reach<'_>,
    group: GroupBy,
) -> Result<(Vec<Count>, Vec<Median>), StoreError> {
    let backend = tx.backend();
    let mut binds = first_binds(consortium, reach);
    let with = base(reach, &mut binds);
    let months = if group == GroupBy::Month { months(reach.from, reach.to) } else { Vec::new() };
    let first = binds.len() + 1;
    binds.extend(months.iter().skip(1).map(|(_, start)| Bind::At(*start)));
    let n = months.len();
    let key = match (group, backend) {
        (GroupBy::Month, Backend::Sqlite) => "NULL",
        (GroupBy::Month, Backend::Postgres) => "CAST(NULL AS UUID)",
        (GroupBy::Receiving, _) => "to_institution_id",
        (GroupBy::Sending, _) => "from_institution_id",
    };
    let sql = format!(
        "{with} SELECT direction, priority, {key} AS k, {sub} AS b_sub, {arr} AS b_arr, {acc} AS b_acc, {rej} AS b_rej, \
         {comp} AS b_comp, CASE WHEN arrived_at IS NOT NULL THEN 1 ELSE 0 END AS arrived, \
         CASE WHEN closed_at IS NOT NULL AND closed_loop IS TRUE THEN 1 ELSE 0 END AS looped, COUNT(*) \
         FROM r GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
        sub = bucket("submitted_at", n, first),
        arr = bucket("arrived_at", n, first),
        acc = bucket("accepted_at", n, first),
        rej = bucket("rejected_at", n, first),
        comp = bucket("completed_at", n, first),
    );
    let rows: Vec<ScanRow> =
        on_tx!(tx, conn => bind_values!(sqlx::query_as(&sql), &binds).fetch_all(conn).await)?;
    let key_of = |b: i32, inst: Option<Uuid>| -> Option<Option<String>> {
        let b = usize::try_from(b).ok().filter(|b| *b > 0)?;
        Some(match group {
            GroupBy::Month => months.get(b - 1).map(|(label, _)| label.clone()),
            _ => inst.map(|u| u.to_string()),
        })
    };
    let mut counts = Vec::new();
    for (d, p, inst, b_sub, b_arr, b_acc, b_rej, b_comp, arrived, looped, total) in rows {
        let direction = parse("direction", &d, Direction::parse)?;
        let priority = parse("priority", &p, Priority::parse)?;
        let up = direction == Direction::Upward;
        let n = u64::try_from(total).unwrap_or_default();
        let measures = [
            (Measure::Submitted, b_sub, true),
            (Measure::Arrived, b_arr, true),
            (Measure::Accepted, b_acc, true),
            (Measure::Rejected, b_rej, true),
            (Measure::AcceptedArrived, b_acc, arrived == 1),
            (Measure::CompletedUp, b_comp, up),
            (Measure::ClosedLoop, b_comp, up && looped == 1),
        ];
        for (measure, b, holds) in measures {
            if let (true, Some(key)) = (holds, key_of(b, inst)) {
                counts.push(Count { measure, direction, priority, key, n });
            }
        }
    }
    counts.extend(overdue(tx, consortium, reach, group).await?);

    // Medians: minutes to acceptance counted by (priority, bucket, minutes).
    let minutes = minutes_sql(backend);
    let sql = format!(
        "{with} SELECT priority, {key} AS k, {acc} AS b, {minutes} AS m, COUNT(*) FROM r \
         WHERE accepted_at IS NOT NULL AND accepted_at >= $2 AND accepted_at < $3 GROUP BY 1, 2, 3, 4",
        acc = bucket("accepted_at", n, first),
    );
    let rows: Vec<(String, Option<Uuid>, i32, i64, i64)> =
        on_tx!(tx, conn => bind_values!(sqlx::query_as(&sql), &binds).fetch_all(conn).await)?;
    // (priority, group key or none for the total) → (minutes, how many).
    type Values = Vec<(i64, u64)>;
    let mut by_group: BTreeMap<(Priority, Option<String>), Values> = BTreeMap::new();
    for (p, inst, b, m, c) in rows {
        let priority = parse("priority", &p, Priority::parse)?;
        let c = u64::try_from(c).unwrap_or_default();
        by_group.entry((priority, None)).or_default().push((m, c));
        if let Some(Some(key)) = key_of(b, inst) {
            by_group.entry((priority, Some(key))).or_default().push((m, c));
        }
    }
    let medians = by_group
        .into_iter()
        .filter_map(|((priority, key), mut values)| {
            values.sort_unstable();
            let minutes = weighted_median(&values)?;
            Some(Median { priority, total: key.is_none(), key, minutes })
        })
        .collect();
    Ok((counts, medians))
}

/// The median of values given with their counts, sorted by value (the mean of the two middle
/// values when the count is even, as [`yigong_domain::referral::metrics::median`]).
fn weighted_median(sorted: &[(i64, u64)]) -> Option<f64> {
    let total: u64 = sorted.iter().map(|(_, c)| c).sum();
    if total == 0 {
        return None;
    }
    let nth = |k: u64| {
        let mut seen = 0;
        sorted.iter().find(|(_, c)| {
            seen += c;
            seen >= k
        })
    };
    let (lo, hi) = (nth(total.div_ceil(2))?.0, nth(total / 2 + 1)?.0);
    Some(if total % 2 == 1 { lo as f64 } else { (lo + hi) as f64 / 2.0 })
}

/// Live referrals past their SLA now, keyed by the month of their due time or by institution.
async fn overdue(
    tx: &mut Tx,
    consortium: ConsortiumId,
    reach: &Reach<'_>,
    group: GroupBy,
) -> Result<Vec<Count>, StoreError> {
    let backend = tx.backend();
    let mut binds = first_binds(consortium, reach);
    let with = base(reach, &mut binds);
    let (column, condition) = measure_sql(Measure::Overdue);
    let sql = format!(
        "{with} SELECT direction, priority, {key} AS k, COUNT(*) FROM r WHERE {column} IS NOT NULL{condition} \
         GROUP BY 1, 2, 3",
        key = key_sql(backend, group, column),
    );
    let rows: Vec<CountRow> = fetch_keyed!(tx, &sql, &binds, group, CountRow);
    rows.into_iter()
        .map(|(d, p, key, n)| {
            Ok(Count {
                measure: Measure::Overdue,
                direction: parse("direction", &d, Direction::parse)?,
                priority: parse("priority", &p, Priority::parse)?,
                key,
                n: u64::try_from(n).unwrap_or_default(),
            })
        })
        .collect()
}

/// The referrals behind one number: `measure` in reach, in group `key` of `group` (or all), in
/// order of submission, at most `limit`.
pub async fn ids(
    tx: &mut Tx,
    consortium: ConsortiumId,
    reach: &Reach<'_>,
    measure: Measure,
    group: Option<(GroupBy, &str)>,
    limit: i64,
) -> Result<Vec<Uuid>, StoreError> {
    let backend = tx.backend();
    let mut binds = first_binds(consortium, reach);
    let with = base(reach, &mut binds);
    let (column, condition) = measure_sql(measure);
    let mut sql = format!(
        "{with} SELECT referral_id FROM r WHERE {column} IS NOT NULL{period}{condition}",
        period = in_period(measure, column)
    );
    if let Some((g, value)) = group {
        let n = binds.len() + 1;
        match g {
            GroupBy::Month => binds.push(Bind::Text(value.to_owned())),
            GroupBy::Receiving | GroupBy::Sending => match Uuid::parse_str(value) {
                Ok(u) => binds.push(Bind::Uuid(u)),
                Err(_) => return Ok(Vec::new()),
            },
        }
        sql.push_str(&format!(" AND {} = ${n}", key_sql(backend, g, column)));
    }
    let n = binds.len() + 1;
    sql.push_str(&format!(" ORDER BY submitted_at, referral_id LIMIT ${n}"));
    binds.push(Bind::Int(limit));
    let rows: Vec<(Uuid,)> =
        on_tx!(tx, conn => bind_values!(sqlx::query_as(&sql), &binds).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The green-channel referrals of one centre submitted in `[from, to)`, in reach.
pub async fn green_ids(
    tx: &mut Tx,
    consortium: ConsortiumId,
    centre: Centre,
    reach: &Reach<'_>,
) -> Result<Vec<Uuid>, StoreError> {
    let mut binds = first_binds(consortium, reach);
    let with = base(reach, &mut binds);
    let n = binds.len() + 1;
    binds.push(Bind::Text(centre.to_string()));
    let sql = format!(
        "{with} SELECT referral_id FROM r WHERE green_centre = ${n} AND submitted_at >= $2 AND submitted_at < $3 \
         ORDER BY submitted_at, referral_id"
    );
    let rows: Vec<(Uuid,)> =
        on_tx!(tx, conn => bind_values!(sqlx::query_as(&sql), &binds).fetch_all(conn).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The columns metrics need, for referrals submitted before `to` and submitted or changed at
/// `from` or later (no slip: a year at 10× volume is 110,000 rows).
pub async fn metric_rows(
    tx: &mut Tx,
    consortium: ConsortiumId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<yigong_domain::referral::metrics::Row>, StoreError> {
    const SQL: &str = "SELECT referral_id, direction, priority, green_centre, state, from_institution_id, \
        to_institution_id, submitted_at, accepted_at, rejected_at, arrived_at, completed_at, closed_at, closed_loop, sla_due \
        FROM referral WHERE consortium_id = $1 AND submitted_at IS NOT NULL AND submitted_at < $3 \
        AND (submitted_at >= $2 OR updated_at >= $2)";
    type At = Option<DateTime<Utc>>;
    type Raw = (
        Uuid,
        String,
        String,
        Option<String>,
        String,
        Uuid,
        Option<Uuid>,
        At,
        At,
        At,
        At,
        At,
        At,
        Option<bool>,
        At,
    );
    let rows: Vec<Raw> = on_tx!(tx, conn => sqlx::query_as(SQL)
        .bind(consortium.as_uuid()).bind(from).bind(to).fetch_all(conn).await)?;
    rows.into_iter()
        .map(|r| {
            Ok(yigong_domain::referral::metrics::Row {
                id: r.0,
                direction: parse("direction", &r.1, Direction::parse)?,
                priority: parse("priority", &r.2, Priority::parse)?,
                green_centre: parse_opt("green_centre", r.3.as_deref(), Centre::parse)?,
                state: parse("state", &r.4, State::parse)?,
                from_institution: InstitutionId::from_uuid(r.5),
                to_institution: r.6.map(InstitutionId::from_uuid),
                submitted_at: r.7,
                accepted_at: r.8,
                rejected_at: r.9,
                arrived_at: r.10,
                completed_at: r.11,
                closed: r.12.map(|c| (c, r.13.unwrap_or(false))),
                sla_due: r.14,
            })
        })
        .collect()
}
