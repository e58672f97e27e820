//! Values bound to queries built at run time (lists of ids, optional filters, cursors), and
//! fetching their rows on either backend.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{StoreError, Tx, on_tx};

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Uuid(Uuid),
    Text(String),
    Int(i64),
    At(DateTime<Utc>),
}

/// Binds `binds`, in order, to a query of either backend.
macro_rules! bind_values {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                $crate::bind::Bind::Uuid(u) => q.bind(*u),
                $crate::bind::Bind::Text(t) => q.bind(t.clone()),
                $crate::bind::Bind::Int(i) => q.bind(*i),
                $crate::bind::Bind::At(a) => q.bind(*a),
            };
        }
        q
    }};
}
pub(crate) use bind_values;

/// Pushes `b` and answers its placeholder (`$n`).
pub(crate) fn next(binds: &mut Vec<Bind>, b: Bind) -> String {
    binds.push(b);
    format!("${}", binds.len())
}

/// Every row of `sql` with `binds`, as `T`.
pub(crate) async fn fetch_all<T>(tx: &mut Tx, sql: &str, binds: &[Bind]) -> Result<Vec<T>, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    Ok(on_tx!(tx, conn => bind_values!(sqlx::query_as(sql), binds).fetch_all(conn).await)?)
}

/// `UPDATE table SET …` of every column of `columns` (comma-separated, in bind order) but the first
/// two — the consortium and the key, bound as `$1` and `$2` — where the row's version is still the
/// one read (bound last). Optimistic concurrency for rows written whole.
pub(crate) fn versioned_update(table: &str, columns: &str) -> String {
    let names: Vec<&str> = columns.split(',').map(str::trim).collect();
    let sets = names.iter().enumerate().skip(2).map(|(i, c)| format!("{c} = ${}", i + 1)).collect::<Vec<_>>();
    format!(
        "UPDATE {table} SET {} WHERE {} = $1 AND {} = $2 AND version = ${}",
        sets.join(", "),
        names[0],
        names[1],
        names.len() + 1
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_versioned_update_sets_every_column_but_the_key_and_checks_the_version() {
        assert_eq!(
            super::versioned_update("t", "consortium_id, id, a, version"),
            "UPDATE t SET a = $3, version = $4 WHERE consortium_id = $1 AND id = $2 AND version = $5"
        );
    }
}
