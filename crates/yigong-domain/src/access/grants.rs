//! Relationship grants: access that follows a relationship (a dispatch posting, a referral, a
//! reading assignment, an emergency) rather than the actor's scope. Each is valid for a window
//! and names its basis and the record that created it.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::{Basis, Target};
use crate::ids::InstitutionId;
use crate::staffing::{Posting, PostingSource};

/// Hours a break-glass grant lasts.
pub const BREAK_GLASS_HOURS: i64 = 4;

/// What a grant opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantSubject {
    /// Everything of one host institution (dispatch).
    Institution(InstitutionId),
    /// One patient (break-glass, referral, reading).
    Patient(Uuid),
}

/// An active relationship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The basis it gives.
    pub basis: Basis,
    /// What it opens.
    pub subject: GrantSubject,
    /// From when.
    pub valid_from: DateTime<Utc>,
    /// Until when (exclusive).
    pub valid_until: DateTime<Utc>,
    /// The record that created it (posting, break-glass, referral id).
    pub source_id: Uuid,
}

impl Grant {
    /// Whether the grant covers `target` at `now`.
    pub fn covers(&self, target: &Target, now: DateTime<Utc>) -> bool {
        if now < self.valid_from || now >= self.valid_until {
            return false;
        }
        match self.subject {
            GrantSubject::Institution(i) => target.institution_id == Some(i),
            GrantSubject::Patient(p) => target.patient == Some(p),
        }
    }
}

fn china_midnight(day: NaiveDate) -> DateTime<Utc> {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    china
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("fixed offset")
        .to_utc()
}

/// The grant a dispatch posting gives at its host institution, for the posting's days (China
/// time, both ends inclusive). Other postings give none.
pub fn dispatch_grant(posting: &Posting) -> Option<Grant> {
    if posting.source != PostingSource::Dispatch {
        return None;
    }
    let until = match posting.valid_to {
        Some(last) => china_midnight(last + Duration::days(1)),
        None => DateTime::<Utc>::MAX_UTC,
    };
    Some(Grant {
        basis: Basis::Dispatch,
        subject: GrantSubject::Institution(posting.institution_id),
        valid_from: china_midnight(posting.valid_from),
        valid_until: until,
        source_id: posting.id.as_uuid(),
    })
}

/// An emergency grant on one patient for [`BREAK_GLASS_HOURS`] from `now`.
pub fn break_glass(patient: Uuid, now: DateTime<Utc>, source_id: Uuid) -> Grant {
    Grant {
        basis: Basis::BreakGlass,
        subject: GrantSubject::Patient(patient),
        valid_from: now,
        valid_until: now + Duration::hours(BREAK_GLASS_HOURS),
        source_id,
    }
}
