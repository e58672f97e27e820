//! The application context: database and clock, built by the binary and shared by every
//! request and job.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use yigong_store::Db;

/// The source of "now". Use cases never read the system clock directly, so tests can fix it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant, for tests and reproducible generation.
#[derive(Debug)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A clock that moves only when told, for tests and simulations of expiry and lockout.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(std::sync::Mutex::new(start))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Database and clock.
#[derive(Clone)]
pub struct Ctx {
    /// The database.
    pub db: Db,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Login attempts per client, shared by every request.
    pub throttle: Arc<crate::auth::Throttle>,
    /// Matching models of the master patient index, cached by version.
    pub mpi: Arc<crate::mpi::Models>,
    /// Largest FHIR request body, in bytes.
    pub fhir_max_body: usize,
    /// Group commit of the audit rows of reads.
    pub read_audit: Arc<crate::audit::ReadAudit>,
    /// Referral timers of the consortium (DESIGN.md §6.1 defaults unless configured).
    pub referral: Arc<yigong_domain::referral::Settings>,
    /// The outbound channel of notifications (SMS gateway…).
    pub notifier: Arc<dyn crate::referral::Notifier>,
    /// Where DICOM objects are kept (the binary puts it under the data directory).
    pub objects: Arc<crate::imaging::Objects>,
    /// The registered DICOM nodes, remembered for a short while.
    pub dicom_nodes: Arc<crate::imaging::Nodes>,
    /// Group commit of the index rows of arriving DICOM instances.
    pub ingest_writer: Arc<crate::imaging::IngestWriter>,
    /// The key that signs reading reports (the binary keeps it in the data directory).
    pub signer: Arc<crate::reading::sign::ReportSigner>,
    /// Critical-value limits (DESIGN.md §6.2 defaults).
    pub critical: yigong_domain::reading::critical::CriticalSettings,
}

/// Default [`Ctx::fhir_max_body`]: a resource carrying a 1 MB PDF (base64) with room to spare.
pub const DEFAULT_FHIR_MAX_BODY: usize = 4 * 1024 * 1024;

impl Ctx {
    /// A context on the system clock.
    pub fn new(db: Db) -> Self {
        Self {
            db,
            clock: Arc::new(SystemClock),
            throttle: Arc::default(),
            mpi: Arc::default(),
            fhir_max_body: DEFAULT_FHIR_MAX_BODY,
            read_audit: Arc::default(),
            referral: Arc::default(),
            notifier: Arc::new(crate::referral::LogNotifier),
            objects: Arc::new(crate::imaging::Objects::new(
                std::env::temp_dir().join(format!("yigong-objects-{}", std::process::id())),
            )),
            dicom_nodes: Arc::default(),
            ingest_writer: Arc::default(),
            signer: Arc::new(crate::reading::sign::ReportSigner::generate()),
            critical: Default::default(),
        }
    }

    /// Pings the database and names its kind (`sqlite` or `postgres`).
    pub async fn health(&self) -> Result<&'static str, crate::AppError> {
        self.db.ping().await?;
        Ok(match self.db.backend() {
            yigong_store::Backend::Sqlite => "sqlite",
            yigong_store::Backend::Postgres => "postgres",
        })
    }

    /// The calendar day in China (UTC+8), which dates such as posting periods refer to.
    pub fn today(&self) -> NaiveDate {
        let china = FixedOffset::east_opt(8 * 3600).expect("valid offset");
        self.clock.now().with_timezone(&china).date_naive()
    }
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("db", &self.db).field("referral", &self.referral).finish_non_exhaustive()
    }
}
