//! Storage errors, classified once so that callers match what they can act on.

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or reference rule refused the write; `rule` names it (SQLite names no
    /// constraint, so the caller does).
    #[error("conflict: {rule}")]
    Conflict {
        /// The rule, e.g. `institution_code_taken`.
        rule: &'static str,
    },
    /// A row referenced by the write does not exist.
    #[error("missing reference: {rule}")]
    MissingReference {
        /// The rule, as named by the caller.
        rule: &'static str,
    },
    /// A stored value could not be read back into a domain type.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database URL or options are wrong.
    #[error("database configuration: {0}")]
    Config(String),
    /// The database could not be reached or opened.
    #[error("cannot open database: {0}")]
    Connect(#[source] sqlx::Error),
    /// Migrations failed.
    #[error("cannot migrate database: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database: {0}")]
    Backend(#[from] sqlx::Error),
}

/// Classifies a write error: unique violations become [`StoreError::Conflict`] and foreign
/// key violations [`StoreError::MissingReference`], both named by the caller's rule.
pub fn classify(error: sqlx::Error, unique_rule: &'static str) -> StoreError {
    if let sqlx::Error::Database(db) = &error {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => return StoreError::Conflict { rule: unique_rule },
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                return StoreError::MissingReference { rule: "reference_missing" };
            }
            _ => {}
        }
    }
    StoreError::Backend(error)
}
