//! Dispatch postings (下沉/驻点, source `dispatch`) from the county hospitals to the township
//! centres, including the boundary cases of the dispatch indicator (DESIGN.md §7.1 row 4).
//!
//! In the current year Y (the year of `today`) the indicator should count **21** physicians:
//! one long-term posting per township centre (18) plus two more at central centres, and the
//! 183-day case. It should list one physician with an unknown title, and not count the
//! 182-day case, the cross-year 122 + 90 case, the early end, the mid-posting promotion, the
//! junior physician and the nurse. The cases assume `today` in the second half of Y, as in
//! [`crate::SynthConfig::demo`].

use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;
use rand::seq::SliceRandom;
use yigong_domain::facility::{Department, Institution, Tier};
use yigong_domain::ids::{InstitutionId, PostingId};
use yigong_domain::staffing::{PostingSource, StaffCategory, TitleLevel};
use yigong_domain::{Posting, Staff, TitleRecord};

use crate::SynthConfig;
use crate::rng::{IdGen, SynthRng};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// The last day of a posting covering `days` days from `from`, both ends inclusive.
fn last_day(from: NaiveDate, days: u64) -> NaiveDate {
    from + Days::new(days - 1)
}

/// Writes dispatch postings to a host's general-practice department.
struct Ledger<'a> {
    cfg: &'a SynthConfig,
    departments: &'a [Department],
    postings: &'a mut Vec<Posting>,
    ids: &'a mut IdGen,
}

impl Ledger<'_> {
    fn post(&mut self, rng: &mut SynthRng, who: &Staff, host: &Institution, from: NaiveDate, to: NaiveDate) {
        let department = self
            .departments
            .iter()
            .find(|d| d.institution_id == host.id && d.subject_code.as_deref() == Some("02"));
        let position =
            if who.category == StaffCategory::Nurse { "下沉驻点护士" } else { "下沉驻点医师" };
        self.postings.push(Posting {
            id: PostingId::from_uuid(self.ids.next(rng)),
            consortium_id: host.consortium_id,
            staff_id: who.id,
            institution_id: host.id,
            department_id: department.map(|d| d.id),
            position: Some(position.to_owned()),
            source: PostingSource::Dispatch,
            valid_from: from,
            valid_to: Some(to),
            created_at: self.cfg.created_at,
        });
    }
}

/// County physicians whose title in force on `day` satisfies `want` and who were not promoted
/// since (so a case does not hinge on a later promotion), in random order.
fn county_physicians(
    rng: &mut SynthRng,
    staff: &[(Staff, Vec<TitleRecord>)],
    county: &[InstitutionId],
    day: NaiveDate,
    want: impl Fn(Option<TitleLevel>) -> bool,
) -> Vec<usize> {
    let mut found: Vec<usize> = (0..staff.len())
        .filter(|&k| {
            let (s, titles) = &staff[k];
            s.category == StaffCategory::Physician
                && county.contains(&s.employer_institution_id)
                && titles.last().is_some_and(|t| t.since < day && want(t.level))
        })
        .collect();
    found.shuffle(rng);
    found
}

/// Adds the dispatch postings, adjusting the title history of the two staff whose title is
/// part of their case (unknown title; promoted mid-posting).
pub(crate) fn add(
    cfg: &SynthConfig,
    institutions: &[Institution],
    departments: &[Department],
    staff: &mut [(Staff, Vec<TitleRecord>)],
    postings: &mut Vec<Posting>,
    rng: &mut SynthRng,
    ids: &mut IdGen,
) {
    let y = cfg.today.year();
    let jan1 = ymd(y, 1, 1);
    let county: Vec<InstitutionId> = institutions
        .iter()
        .filter(|i| i.kind.tier().is_some_and(Tier::is_county_level))
        .map(|i| i.id)
        .collect();
    // Hosts in code order: the three central centres come first.
    let hosts: Vec<&Institution> =
        institutions.iter().filter(|i| i.kind.tier() == Some(Tier::TownshipCentre)).collect();
    let mut qualified =
        county_physicians(rng, staff, &county, jan1, |l| l.is_some_and(TitleLevel::at_least_intermediate));
    let mut junior = county_physicians(rng, staff, &county, jan1, |l| l == Some(TitleLevel::Junior));
    let nurse = (0..staff.len())
        .find(|&k| {
            staff[k].0.category == StaffCategory::Nurse
                && county.contains(&staff[k].0.employer_institution_id)
        })
        .expect("county hospitals employ nurses");
    let mut ledger = Ledger { cfg, departments, postings, ids };
    let mut next_qualified = || qualified.pop().expect("enough qualified county physicians");
    let host = |rng: &mut SynthRng| hosts[rng.random_range(0..hosts.len())];

    // Long-term postings: one physician per township centre and two more at the first central
    // centres; each starts between 2 January and mid-April of Y and is planned for a year, so
    // every one covers well over 183 days of Y and is active on `today`.
    for &centre in hosts.iter().chain(hosts.iter().take(2)) {
        let from = ymd(y, 1, 2) + Days::new(rng.random_range(0..=100));
        ledger.post(rng, &staff[next_qualified()].0, centre, from, last_day(from, 365));
    }

    // Case: exactly 182 days in Y — not counted.
    let (from, h) = (ymd(y, 3, 1), host(rng));
    ledger.post(rng, &staff[next_qualified()].0, h, from, last_day(from, 182));
    // Case: exactly 183 days in Y — counted.
    let h = host(rng);
    ledger.post(rng, &staff[next_qualified()].0, h, from, last_day(from, 183));
    // Case: crossing the year boundary, 1 Sep Y-1 to 31 Mar Y: 122 days in Y-1 and 90 (91 in a
    // leap year) in Y — counted in neither year.
    let h = host(rng);
    ledger.post(rng, &staff[next_qualified()].0, h, ymd(y - 1, 9, 1), ymd(y, 3, 31));
    // Case: planned for a year from 1 Feb but ended early after 120 days; the posting carries
    // the actual end (the dispatch ledger keeps the planned one) — not counted.
    let h = host(rng);
    ledger.post(rng, &staff[next_qualified()].0, h, ymd(y, 2, 1), last_day(ymd(y, 2, 1), 120));
    // Case: a year-long posting of a physician whose title is unknown in the registry — listed,
    // not counted.
    let who = next_qualified();
    let hire = staff[who].1.first().map_or(jan1, |t| t.since);
    staff[who].1 = vec![TitleRecord { level: None, name: None, since: hire }];
    staff[who].0.title_level = None;
    staff[who].0.title_name = None;
    let h = host(rng);
    ledger.post(rng, &staff[who].0, h, ymd(y, 1, 15), last_day(ymd(y, 1, 15), 365));
    // Case: a junior physician promoted to attending (主治) on 1 May, during a posting from
    // 1 February: the title on the first counted day is junior — not counted.
    let who = junior.pop().expect("a junior county physician");
    let promoted = ymd(y, 5, 1).min(cfg.today);
    let name = if staff[who].0.title_name.as_deref() == Some("中医师") {
        "主治中医师"
    } else {
        "主治医师"
    };
    staff[who].1.push(TitleRecord {
        level: Some(TitleLevel::Intermediate),
        name: Some(name.into()),
        since: promoted,
    });
    staff[who].0.title_level = Some(TitleLevel::Intermediate);
    staff[who].0.title_name = Some(name.into());
    let h = host(rng);
    ledger.post(rng, &staff[who].0, h, ymd(y, 2, 1), last_day(ymd(y, 2, 1), 300));
    // Case: a junior physician on a year-long posting — not counted (below 中级).
    let who = junior.pop().expect("another junior county physician");
    let h = host(rng);
    ledger.post(rng, &staff[who].0, h, ymd(y, 1, 10), last_day(ymd(y, 1, 10), 365));
    // Case: a nurse on a year-long posting — not counted (not a physician).
    let h = host(rng);
    ledger.post(rng, &staff[nurse].0, h, ymd(y, 1, 10), last_day(ymd(y, 1, 10), 365));
}
