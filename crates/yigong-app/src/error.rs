//! The error of every use case.

use yigong_domain::Invalid;
use yigong_store::StoreError;

/// Why a use case did not complete. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input broke a rule; every wrong field is named.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The thing addressed does not exist (or not in this consortium).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for: `consortium`, `institution`, ...
        what: &'static str,
    },
    /// The request conflicts with the current state.
    #[error("conflict: {rule}")]
    Conflict {
        /// Stable rule code.
        rule: &'static str,
    },
    /// A workflow transition not allowed now (409): the current state and what is allowed.
    #[error("{code}: {message}")]
    Transition {
        /// `invalid_transition`, `wrong_party`, `not_due`, `referral_live_exists`.
        code: &'static str,
        /// What was refused, in English.
        message: String,
        /// The current state.
        state: Option<&'static str>,
        /// The transitions allowed from it to the caller.
        allowed: Vec<&'static str>,
    },
    /// No valid credentials: missing, wrong, expired or revoked.
    #[error("not authenticated")]
    Unauthenticated,
    /// Authenticated, but this action is not allowed: `forbidden` (role) or `out_of_scope`.
    #[error("not allowed: {code}")]
    Forbidden {
        /// `forbidden`, `out_of_scope` or `csrf_failed`.
        code: &'static str,
    },
    /// Too many attempts from this client; try again later.
    #[error("too many attempts")]
    TooManyAttempts,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { rule } => Self::Conflict { rule },
            other => Self::Store(other),
        }
    }
}

impl AppError {
    /// A not-found error for `what`.
    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound { what }
    }
}

/// Turns a uniqueness conflict on `rule` into a field error, so the form marks the field.
pub(crate) fn conflict_on_field(
    e: StoreError,
    rule: &'static str,
    field: &'static str,
    message: &str,
) -> AppError {
    match e {
        StoreError::Conflict { rule: r } if r == rule => Invalid::one(field, rule, message).into(),
        other => other.into(),
    }
}
