//! The dispatch postings against a reference reading of the indicator (DESIGN.md §7.1 row 4).

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use yigong_domain::facility::Tier;
use yigong_domain::staffing::{PostingSource, StaffCategory, TitleLevel};

use super::small;
use crate::organisation;

/// Days of `year` covered by the union of the periods, both ends inclusive.
fn days_in_year(periods: &[(NaiveDate, NaiveDate)], year: i32) -> (usize, Option<NaiveDate>) {
    let (start, end) =
        (NaiveDate::from_ymd_opt(year, 1, 1).unwrap(), NaiveDate::from_ymd_opt(year, 12, 31).unwrap());
    let days: BTreeSet<NaiveDate> = periods
        .iter()
        .flat_map(|&(from, to)| from.max(start).iter_days().take_while(move |d| *d <= to.min(end)))
        .collect();
    (days.len(), days.first().copied())
}

#[test]
fn dispatch_ledger_has_long_term_postings_and_the_boundary_cases() {
    let cfg = small();
    let org = organisation(&cfg);
    let y = cfg.today.year();
    let tier = |id| org.institutions.iter().find(|i| i.id == id).and_then(|i| i.kind.tier());
    let mut periods: HashMap<_, Vec<(NaiveDate, NaiveDate)>> = HashMap::new();
    for p in org.postings.iter().filter(|p| p.source == PostingSource::Dispatch) {
        assert_eq!(tier(p.institution_id), Some(Tier::TownshipCentre), "hosts are township centres");
        let (staff, _) = org.staff.iter().find(|(s, _)| s.id == p.staff_id).expect("staff");
        assert!(
            tier(staff.employer_institution_id).is_some_and(Tier::is_county_level),
            "sent by a county hospital"
        );
        periods.entry(p.staff_id).or_default().push((p.valid_from, p.valid_to.expect("dispatches end")));
    }

    let (mut counted, mut listed, mut days_seen) = (0, 0, Vec::new());
    for (staff_id, periods) in &periods {
        let (staff, titles) = org.staff.iter().find(|(s, _)| s.id == *staff_id).expect("staff");
        let (days, first) = days_in_year(periods, y);
        days_seen.push((days, days_in_year(periods, y - 1).0));
        if staff.category != StaffCategory::Physician || days < 183 {
            continue;
        }
        let first = first.expect("some days");
        match titles.iter().rev().find(|t| t.since <= first).and_then(|t| t.level) {
            None => listed += 1,
            Some(level) if level >= TitleLevel::Intermediate => counted += 1,
            Some(_) => {}
        }
    }
    assert_eq!((counted, listed), (21, 1), "physicians counted and listed with an unknown title in {y}");
    let long_term = days_seen.iter().filter(|(d, _)| *d >= 183).count();
    assert!(long_term >= 18, "{long_term} long-term postings");
    for case in [(182, 0), (183, 0), (90, 122), (120, 0)] {
        assert!(days_seen.contains(&case), "boundary case {case:?} in {days_seen:?}");
    }
    // Coverage: every township centre hosts a long-term physician on `today`.
    for centre in org.institutions.iter().filter(|i| i.kind.tier() == Some(Tier::TownshipCentre)) {
        assert!(
            org.postings.iter().any(|p| p.source == PostingSource::Dispatch
                && p.institution_id == centre.id
                && p.active_on(cfg.today)),
            "{} hosts a dispatched physician",
            centre.name
        );
    }
}
