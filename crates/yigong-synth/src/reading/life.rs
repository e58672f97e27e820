//! One item's life: acquisition (and for a lab item its specimen's road to the county), receipt,
//! the wait on the worklist, the claim, the reports and the delivery, drawn around the limit of
//! `sla`; the fates that end otherwise; the critical value and what the site did about it; then
//! the whole life put in time and cut at now when it is still live, and the columns the
//! platform's transitions would have written derived from the trail.

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;
use uuid::Uuid;
use yigong_domain::ids::InstitutionId;
use yigong_domain::reading::report::ReportDraft;
use yigong_domain::reading::{
    CriticalState, ExamKind, ItemState, ItemTransition, LEASE, Party, QualityReason, SpecimenStep, Urgency,
    due_at,
};

use super::year::{Gen, Placement, Spec};
use super::{
    Fate, Patient, SynthCritical, SynthExam, SynthExamEvent, SynthImages, SynthReport, SynthSpecimenStep,
    imaging, text,
};
use crate::referrals::{CLINIC_HOURS, URGENT_HOURS, china, draw_day, time_on, utc};
use crate::rng::SynthRng;

/// Wards order in the morning round, less later.
const INPATIENT_HOURS: [u32; 24] = [0, 0, 0, 0, 0, 0, 1, 4, 10, 10, 8, 6, 3, 3, 6, 6, 4, 2, 1, 1, 1, 0, 0, 0];
/// Afternoon clinic: what is still waiting at midnight was ordered then.
const AFTERNOON_HOURS: [u32; 24] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 8, 8, 6, 3, 0, 0, 0, 0, 0, 0];
/// Physical examinations: fasting, in the morning.
const EXAM_HOURS: [u32; 24] = [0, 0, 0, 0, 0, 0, 0, 10, 10, 8, 4, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0];

fn minutes(rng: &mut SynthRng, lo: i64, hi: i64) -> TimeDelta {
    TimeDelta::seconds(rng.random_range(lo * 60..=hi * 60))
}

impl Gen<'_> {
    /// Builds the life of `spec` for patient `p` and puts it in time; `None` when it cannot be
    /// placed (a repeated order that would not end before now).
    pub(super) fn build(&mut self, spec: Spec, p: &Patient, placement: Placement) -> Option<SynthExam> {
        let net = self.net;
        let item = spec.item;
        let kind = item.kind;
        let site = &net.sites[spec.site];
        let hospital = &net.sites[net.hospital];
        let base = self.now;
        let registration = p.registration(net, spec.site);
        let orderer = self.clinician(spec.site);
        let reader = self.reader(kind.centre());
        let who = p.who();
        let question = text::question(&mut self.rng, item, spec.urgency, who);
        let mut x = SynthExam {
            id: Uuid::nil(),
            accession_no: String::new(),
            patient_source: registration.source.clone(),
            patient_local_id: registration.local_id.clone(),
            ordering_institution: site.id,
            ordering_staff: orderer.as_ref().map(|o| o.staff),
            item_code: item.code,
            urgency: spec.urgency,
            question,
            head: spec.head,
            complex: spec.complex,
            state: ItemState::Ordered,
            version: 1,
            lease_until: None,
            reading_institution: None,
            received_at: None,
            due_at: None,
            preliminary_at: None,
            final_at: None,
            delivered_at: None,
            hr: false,
            specimen_step: None,
            cancel_reason: None,
            created_at: base,
            updated_at: base,
            events: vec![event(
                None,
                ItemState::Ordered,
                ItemState::Ordered,
                Party::OrderingSite,
                Some(site.id),
                base,
            )],
            reports: Vec::new(),
            critical: None,
            specimen: Vec::new(),
            images: None,
        };
        let emergency = spec.urgency.due_at_preliminary();
        let lab = kind == ExamKind::Lab;
        let rng = &mut self.rng;
        // Acquisition, and for lab items the road to the county.
        let acquired = base
            + match kind {
                ExamKind::Ecg if emergency => minutes(rng, 1, 5),
                ExamKind::Ecg => minutes(rng, 3, 20),
                ExamKind::Lab => minutes(rng, 2, 18),
                _ if emergency => minutes(rng, 5, 20),
                ExamKind::Dr => minutes(rng, 10, 60),
                ExamKind::Ultrasound => minutes(rng, 10, 90),
                _ => minutes(rng, 15, 120),
            };
        let labelled = base + (acquired - base) / 4;
        let packed = acquired + if emergency { minutes(rng, 2, 10) } else { minutes(rng, 15, 120) };
        let transit = packed + minutes(rng, 0, 20);
        let received = if lab {
            transit + if emergency { minutes(rng, 20, 40) } else { minutes(rng, 30, 90) }
        } else {
            acquired
                + match kind {
                    ExamKind::Ecg => minutes(rng, 0, 2),
                    ExamKind::Pathology => minutes(rng, 12 * 60, 26 * 60),
                    ExamKind::Ct | ExamKind::Mr => minutes(rng, 3, 12),
                    _ => minutes(rng, 2, 8),
                }
        };
        let limit = yigong_domain::reading::sla(kind, spec.urgency, spec.head, spec.complex);
        let per_mille =
            if rng.random_bool(0.1) { rng.random_range(1_050..=2_500) } else { rng.random_range(150..=950) };
        let delay = (limit * per_mille / 1_000).max(TimeDelta::minutes(2));
        let counted = received + delay;
        let claimed = (counted - minutes(rng, 2, 25)).max(received + (counted - received) / 3);
        let prelim = (emergency && imaging(kind)).then_some(counted);
        let finalised = match prelim {
            Some(at) if matches!(kind, ExamKind::Ct | ExamKind::Mr) => at + minutes(rng, 20, 180),
            Some(at) => at + minutes(rng, 5, 60),
            None => counted,
        };
        let testing = received + (claimed - received) / 3;
        let lab_place = format!("{}检验中心", hospital.name);
        let specimen = |x: &mut SynthExam,
                        step: SpecimenStep,
                        at: DateTime<Utc>,
                        reason: Option<QualityReason>,
                        temperature: Option<&'static str>| {
            let (place, institution) = match step {
                SpecimenStep::Labelled | SpecimenStep::Collected => (site.name.clone(), Some(site.id)),
                SpecimenStep::Packed => (format!("{}，转运箱{}-01", site.name, site.code), Some(site.id)),
                SpecimenStep::InTransit => ("县域检验物流专线".to_owned(), None),
                _ => (lab_place.clone(), Some(hospital.id)),
            };
            x.specimen.push(SynthSpecimenStep { step, place, institution, reason, temperature, at });
        };
        let cold = if item.code == "LAB-URINE" { "室温" } else { "4℃" };
        let draft = text::report(rng, item, who, spec.critical);
        let fate = spec.fate;
        // Cancelled before the images or the specimen.
        if fate == Fate::Cancelled {
            let reason = text::cancel_reason(rng);
            if !lab && rng.random_bool(0.2) {
                push(
                    &mut x,
                    ItemTransition::Acquire,
                    ItemState::Acquired,
                    Party::OrderingSite,
                    Some(site.id),
                    acquired,
                );
                let at = acquired + minutes(rng, 5, 60);
                push_with(
                    &mut x,
                    ItemTransition::Cancel,
                    ItemState::Cancelled,
                    Party::OrderingSite,
                    Some(site.id),
                    at,
                    Some(reason),
                );
            } else {
                let at = base + minutes(rng, 10, 6 * 60);
                push_with(
                    &mut x,
                    ItemTransition::Cancel,
                    ItemState::Cancelled,
                    Party::OrderingSite,
                    Some(site.id),
                    at,
                    Some(reason),
                );
            }
        } else if lab {
            specimen(&mut x, SpecimenStep::Labelled, labelled, None, None);
            specimen(&mut x, SpecimenStep::Collected, acquired, None, None);
            push(
                &mut x,
                ItemTransition::Acquire,
                ItemState::Acquired,
                Party::OrderingSite,
                Some(site.id),
                acquired,
            );
            specimen(&mut x, SpecimenStep::Packed, packed, None, None);
            specimen(&mut x, SpecimenStep::InTransit, transit, None, Some(cold));
            if fate == Fate::Rejected {
                let reason = text::specimen_reject(rng);
                specimen(&mut x, SpecimenStep::Rejected, received, Some(reason), None);
                push(&mut x, ItemTransition::Receive, ItemState::Received, Party::System, None, received);
                push_with(
                    &mut x,
                    ItemTransition::RejectQuality,
                    ItemState::RejectedQuality,
                    Party::Reader,
                    Some(hospital.id),
                    received,
                    Some(reason.as_str().to_owned()),
                );
                specimen(
                    &mut x,
                    SpecimenStep::Discarded,
                    received + minutes(rng, 24 * 60, 72 * 60),
                    None,
                    None,
                );
            } else {
                specimen(&mut x, SpecimenStep::Received, received, None, Some(cold));
                push(&mut x, ItemTransition::Receive, ItemState::Received, Party::System, None, received);
                push(&mut x, ItemTransition::Queue, ItemState::Queued, Party::System, None, received);
                specimen(&mut x, SpecimenStep::Testing, testing, None, None);
            }
        } else {
            push(
                &mut x,
                ItemTransition::Acquire,
                ItemState::Acquired,
                Party::OrderingSite,
                Some(site.id),
                acquired,
            );
            push(&mut x, ItemTransition::Receive, ItemState::Received, Party::System, None, received);
            push(&mut x, ItemTransition::Queue, ItemState::Queued, Party::System, None, received);
            if fate == Fate::Rejected {
                let reason = text::image_reject(rng).as_str().to_owned();
                if rng.random_bool(0.6) {
                    push_with(
                        &mut x,
                        ItemTransition::RejectQuality,
                        ItemState::RejectedQuality,
                        Party::Reader,
                        Some(hospital.id),
                        claimed,
                        Some(reason),
                    );
                } else {
                    claim(&mut x, hospital.id, claimed);
                    let at = claimed + minutes(rng, 2, 10);
                    push_with(
                        &mut x,
                        ItemTransition::RejectQuality,
                        ItemState::RejectedQuality,
                        Party::Holder,
                        Some(hospital.id),
                        at,
                        Some(reason),
                    );
                }
            }
        }
        if !matches!(fate, Fate::Cancelled | Fate::Rejected) {
            claim(&mut x, hospital.id, claimed);
            let sign = |x: &mut SynthExam,
                        status: &'static str,
                        draft: ReportDraft,
                        at: DateTime<Utc>,
                        reason: Option<String>| {
                let version = x.reports.len() as i32 + 1;
                x.reports.push(SynthReport {
                    version,
                    status,
                    draft,
                    hr: false,
                    author: reader.staff,
                    author_name: reader.name.clone(),
                    institution: hospital.id,
                    reason,
                    signed_at: at,
                });
                version
            };
            if let Some(at) = prelim {
                let v = sign(&mut x, "preliminary", draft.clone(), at, None);
                push_report(
                    &mut x,
                    ItemTransition::ReportPreliminary,
                    ItemState::Preliminary,
                    Party::Holder,
                    hospital.id,
                    at,
                    v,
                    None,
                );
            }
            let v = sign(&mut x, "final", draft.clone(), finalised, None);
            push_report(
                &mut x,
                ItemTransition::Finalise,
                ItemState::Final,
                Party::Holder,
                hospital.id,
                finalised,
                v,
                None,
            );
            push(&mut x, ItemTransition::Deliver, ItemState::Delivered, Party::System, None, finalised);
            if lab {
                specimen(&mut x, SpecimenStep::Released, finalised, None, None);
            }
            if fate == Fate::Amended {
                let at = finalised + minutes(rng, 60, 72 * 60);
                let (amended, reason) = text::amend(rng, &draft);
                let v = sign(&mut x, "amended", amended, at, Some(reason.clone()));
                let party = if rng.random_bool(0.8) { Party::Holder } else { Party::Supervisor };
                push_report(
                    &mut x,
                    ItemTransition::Amend,
                    ItemState::Amended,
                    party,
                    hospital.id,
                    at,
                    v,
                    Some(reason),
                );
                push(&mut x, ItemTransition::Deliver, ItemState::Delivered, Party::System, None, at);
            }
            if draft.critical {
                let first = x.reports[0].signed_at;
                let acknowledger = orderer.as_ref().map_or_else(|| "值班医生".to_owned(), |o| o.name.clone());
                let finding = draft.critical_text.clone().unwrap_or_default();
                x.critical = Some(self.critical(first, finding, acknowledger, fate != Fate::CriticalOpen));
            }
        }
        if spec.images && kind == ExamKind::Ct {
            x.images = Some(SynthImages {
                slices: self.rng.random_range(16..=24),
                patient_name: p.record.name.clone(),
                sex: p.record.sex,
                birth_date: p.record.birth_date,
                study_date: self.today,
            });
        }
        // Into time.
        let end = last_time(&x);
        let until = match placement {
            Placement::Past => {
                let hours = match spec.urgency {
                    Urgency::Emergency | Urgency::Green => &URGENT_HOURS,
                    Urgency::Inpatient => &INPATIENT_HOURS,
                    Urgency::PhysicalExam => &EXAM_HOURS,
                    Urgency::Outpatient => &CLINIC_HOURS,
                };
                let day = draw_day(&mut self.rng, self.first, self.today - TimeDelta::days(1));
                let t0 = utc(time_on(&mut self.rng, day, hours));
                let mut delta = t0 - base;
                if end + delta >= self.now {
                    delta -= TimeDelta::days((end + delta - self.now).num_seconds().div_euclid(86_400) + 1);
                }
                shift(&mut x, delta);
                None
            }
            Placement::At(t0) => {
                if end + (t0 - base) >= self.now {
                    return None;
                }
                shift(&mut x, t0 - base);
                None
            }
            Placement::Live(state) => {
                let (enter, leave) = interval(&x, state)?;
                let waits = matches!(state, ItemState::Ordered | ItemState::Acquired | ItemState::Queued);
                let u = if waits && matches!(spec.urgency, Urgency::Outpatient | Urgency::PhysicalExam) {
                    // Ordered at yesterday afternoon's clinic and still waiting.
                    let day = self.today - TimeDelta::days(1);
                    let t0 = utc(time_on(&mut self.rng, day, &AFTERNOON_HOURS));
                    (base + (self.now - t0)).max(enter + minutes(&mut self.rng, 1, 5))
                } else {
                    // The worklist's backlog: a queued item may wait past its limit.
                    let span = if state == ItemState::Queued {
                        (leave - enter).max(limit * 3 / 2)
                    } else {
                        leave - enter
                    };
                    enter + TimeDelta::seconds(self.rng.random_range(0..span.num_seconds().max(1)))
                };
                if u >= leave {
                    let extra = u - leave + minutes(&mut self.rng, 1, 30);
                    delay_after(&mut x, enter, extra);
                }
                shift(&mut x, self.now - u);
                Some(self.now)
            }
            Placement::CriticalOpen => {
                let flagged = x.critical.as_ref()?.identified_at;
                let ago = minutes(&mut self.rng, 5, 50);
                shift(&mut x, self.now - ago - flagged);
                Some(self.now)
            }
        };
        whole_seconds(&mut x);
        if let Some(until) = until {
            cut(&mut x, until);
        }
        if let Some(d) = x.images.as_mut() {
            d.study_date = china(x.created_at).date();
        }
        self.settle(&mut x);
        Some(x)
    }

    /// A critical value flagged at `at`: closed (acknowledged within 15 minutes mostly, a few
    /// late and escalated), or open (the ordering site has not acknowledged, or not disposed).
    fn critical(
        &mut self,
        at: DateTime<Utc>,
        finding: String,
        acknowledger: String,
        closed: bool,
    ) -> SynthCritical {
        let rng = &mut self.rng;
        let late = rng.random_bool(0.15);
        let acknowledged = at + if late { minutes(rng, 16, 45) } else { minutes(rng, 1, 14) };
        let escalated =
            late.then(|| at + TimeDelta::minutes(15) + TimeDelta::seconds(rng.random_range(0..60)));
        let mut c = SynthCritical {
            id: Uuid::nil(),
            state: CriticalState::Notified,
            version: 1,
            read_back: None,
            identified_at: at,
            notified_at: Some(at),
            acknowledged_at: None,
            acknowledged_name: None,
            disposition: None,
            disposition_note: None,
            disposed_at: None,
            closed_at: None,
            escalated_at: None,
            finding,
        };
        if !closed {
            // Open: its state is settled against the clock once placed (see `settle`).
            c.acknowledged_at = Some(acknowledged);
            c.acknowledged_name = Some(acknowledger);
            return c;
        }
        let disposed = acknowledged + minutes(rng, 5, 40);
        let (disposition, note) = text::disposition(rng, &c.finding);
        c.state = CriticalState::Closed;
        c.version = 4 + i32::from(escalated.is_some());
        c.read_back = Some(format!("复述：{}，已知晓", c.finding));
        c.acknowledged_at = Some(acknowledged);
        c.acknowledged_name = Some(acknowledger);
        c.disposition = Some(disposition);
        c.disposition_note = Some(note);
        c.disposed_at = Some(disposed);
        c.closed_at = Some(disposed + minutes(rng, 1, 30));
        c.escalated_at = escalated;
        c
    }

    /// Derives the item's columns from its trail, reports and specimen chain (what the
    /// platform's transitions would have written), the HR marks from the QC, and an open
    /// critical value's state from the clock.
    fn settle(&mut self, x: &mut SynthExam) {
        let item = x.item();
        for r in &mut x.reports {
            r.hr = self.hr(item.code, r.signed_at);
        }
        x.state = ItemState::Ordered;
        x.version = 1 + x.specimen.len() as i32;
        for e in x.events.iter().skip(1) {
            x.version += 1;
            x.state = e.to;
            match e.transition {
                Some(ItemTransition::Receive) => {
                    x.received_at = Some(e.at);
                    x.due_at = Some(due_at(item.kind, x.urgency, x.head, x.complex, e.at));
                }
                Some(ItemTransition::Claim) => {
                    x.lease_until = e.lease_until;
                    x.reading_institution = e.institution;
                }
                Some(ItemTransition::ReportPreliminary) => x.preliminary_at = Some(e.at),
                Some(ItemTransition::Finalise) => x.final_at = Some(e.at),
                Some(ItemTransition::Deliver) => x.delivered_at = Some(e.at),
                Some(ItemTransition::Cancel | ItemTransition::RejectQuality) => {
                    x.cancel_reason = e.reason.clone()
                }
                _ => {}
            }
        }
        x.created_at = x.events[0].at;
        x.updated_at = x.events.last().map_or(x.created_at, |e| e.at);
        x.hr = x.reports.last().is_some_and(|r| r.hr);
        x.specimen_step = x.specimen.last().map(|s| s.step);
        if let Some(c) = x.critical.as_mut()
            && c.state != CriticalState::Closed
        {
            let due = c.identified_at + TimeDelta::minutes(15);
            let acknowledged = c.acknowledged_at.filter(|a| *a <= self.now && self.rng.random_bool(0.5));
            c.escalated_at = None;
            match acknowledged {
                Some(a) => {
                    c.state = CriticalState::Acknowledged;
                    c.read_back = Some(format!("复述：{}，已知晓", c.finding));
                    c.escalated_at = (a > due).then(|| due + TimeDelta::seconds(30));
                }
                None => {
                    c.state = CriticalState::Notified;
                    c.acknowledged_at = None;
                    c.acknowledged_name = None;
                    c.escalated_at = (due <= self.now).then(|| due + TimeDelta::seconds(30));
                }
            }
            c.version = 1 + i32::from(acknowledged.is_some()) + i32::from(c.escalated_at.is_some());
        }
    }
}

fn event(
    transition: Option<ItemTransition>,
    from: ItemState,
    to: ItemState,
    party: Party,
    institution: Option<InstitutionId>,
    at: DateTime<Utc>,
) -> SynthExamEvent {
    SynthExamEvent {
        transition,
        from,
        to,
        party,
        institution,
        at,
        reason: None,
        lease_until: None,
        report_version: None,
    }
}

fn push(
    x: &mut SynthExam,
    t: ItemTransition,
    to: ItemState,
    party: Party,
    institution: Option<InstitutionId>,
    at: DateTime<Utc>,
) {
    push_with(x, t, to, party, institution, at, None);
}

fn push_with(
    x: &mut SynthExam,
    t: ItemTransition,
    to: ItemState,
    party: Party,
    institution: Option<InstitutionId>,
    at: DateTime<Utc>,
    reason: Option<String>,
) {
    let last = x.events.last().expect("created first");
    let mut e = event(Some(t), last.to, to, party, institution, at.max(last.at));
    e.reason = reason;
    x.events.push(e);
}

fn claim(x: &mut SynthExam, hospital: InstitutionId, at: DateTime<Utc>) {
    push(x, ItemTransition::Claim, ItemState::Claimed, Party::Reader, Some(hospital), at);
    let e = x.events.last_mut().expect("just pushed");
    e.lease_until = Some(e.at + LEASE);
}

#[allow(clippy::too_many_arguments)]
fn push_report(
    x: &mut SynthExam,
    t: ItemTransition,
    to: ItemState,
    party: Party,
    hospital: InstitutionId,
    at: DateTime<Utc>,
    version: i32,
    reason: Option<String>,
) {
    push_with(x, t, to, party, Some(hospital), at, reason);
    x.events.last_mut().expect("just pushed").report_version = Some(version);
}

/// The last instant of the item's life so far.
fn last_time(x: &SynthExam) -> DateTime<Utc> {
    let c = x.critical.as_ref();
    x.events
        .iter()
        .map(|e| e.at)
        .chain(x.specimen.iter().map(|s| s.at))
        .chain(c.and_then(|c| c.closed_at.or(c.acknowledged_at)))
        .max()
        .unwrap_or(x.created_at)
}

/// When the item enters `state` and when it leaves it; a claim is held for at most 25 minutes
/// before its report (so the lease of a live claim is still running).
fn interval(x: &SynthExam, state: ItemState) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = x.events.iter().position(|e| e.to == state)?;
    let enter = x.events[start].at;
    let leave = x.events[start + 1..].iter().find(|e| e.to != state).map(|e| e.at)?;
    let leave = if state == ItemState::Claimed { leave.min(enter + TimeDelta::minutes(25)) } else { leave };
    (leave > enter).then_some((enter, leave))
}

/// Applies `f` to every instant of the item.
fn each_time(x: &mut SynthExam, mut f: impl FnMut(&mut DateTime<Utc>)) {
    f(&mut x.created_at);
    f(&mut x.updated_at);
    for e in &mut x.events {
        f(&mut e.at);
        if let Some(l) = &mut e.lease_until {
            f(l);
        }
    }
    for r in &mut x.reports {
        f(&mut r.signed_at);
    }
    for s in &mut x.specimen {
        f(&mut s.at);
    }
    if let Some(c) = &mut x.critical {
        for t in [
            Some(&mut c.identified_at),
            c.notified_at.as_mut(),
            c.acknowledged_at.as_mut(),
            c.disposed_at.as_mut(),
            c.closed_at.as_mut(),
            c.escalated_at.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            f(t);
        }
    }
}

/// Moves everything by `delta`.
fn shift(x: &mut SynthExam, delta: TimeDelta) {
    each_time(x, |t| *t += delta);
}

/// Moves what happens after `after` later by `extra` (an item kept waiting).
fn delay_after(x: &mut SynthExam, after: DateTime<Utc>, extra: TimeDelta) {
    each_time(x, |t| {
        if *t > after {
            *t += extra;
        }
    });
}

/// Drops the fractions of seconds (instants stay in order; equal ones stay equal).
fn whole_seconds(x: &mut SynthExam) {
    each_time(x, |t| *t = DateTime::from_timestamp(t.timestamp(), 0).expect("in range"));
}

/// Forgets what happens after `until`.
fn cut(x: &mut SynthExam, until: DateTime<Utc>) {
    x.events.retain(|e| e.at <= until);
    x.reports.retain(|r| r.signed_at <= until);
    x.specimen.retain(|s| s.at <= until);
    if x.critical.as_ref().is_some_and(|c| c.identified_at > until) {
        x.critical = None;
    }
}
