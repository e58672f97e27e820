//! Notifications of referral steps: in-app rows written in the step's transaction, then handed
//! to a pluggable outbound channel ([`Notifier`]: an SMS gateway, a messaging app) after commit.
//! A notification carries codes and the slip number only, never clinical content.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;
use yigong_domain::access::{Actor, Role};
use yigong_domain::ids::ConsortiumId;
use yigong_domain::referral::{self as domain, Escalation, Priority, State, Transition};
use yigong_store::Tx;
use yigong_store::referral::{self as store, Notification, Referral};

use crate::{AppError, Ctx};

/// An outbound channel. Implementations must not block for long; failures are retried by the
/// next [`deliver_pending`].
pub trait Notifier: Send + Sync {
    /// Sends one notification; `Err` keeps it pending.
    fn send(&self, notification: &Notification) -> Result<(), String>;
}

/// The default channel: a log line with ids and codes (no personal data).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn send(&self, n: &Notification) -> Result<(), String> {
        tracing::info!(
            notification = %n.id,
            kind = %n.kind,
            referral = ?n.referral_id,
            user = ?n.user_id,
            institution = ?n.institution_id.map(|i| i.to_string()),
            urgent = n.urgent,
            "notification sent"
        );
        Ok(())
    }
}

fn new(kind: &str, r: &Referral, now: DateTime<Utc>, urgent: bool) -> Notification {
    Notification {
        id: Uuid::now_v7(),
        user_id: None,
        institution_id: None,
        role: None,
        kind: kind.to_owned(),
        referral_id: Some(r.id),
        order_id: None,
        params: json!({"slip_no": r.slip_no, "state": r.state, "priority": r.priority, "direction": r.direction}),
        urgent,
        created_at: now,
        read_at: None,
        delivered_at: None,
    }
}

/// The notifications of one step: the sending doctor hears of every step; the receiving
/// centre of new and green referrals (a green one pages at once).
pub(super) async fn on_transition(
    tx: &mut Tx,
    r: &Referral,
    transition: Transition,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let consortium = r.consortium_id;
    let green = r.priority == Priority::Green;
    if (transition == Transition::Submit || transition == Transition::Redirect)
        && let Some(to) = r.to_institution_id
    {
        let kind = if green { "green_page" } else { "referral_received" };
        let mut n = new(kind, r, now, green || r.priority == Priority::Urgent);
        n.institution_id = Some(to);
        n.role = Some(Role::ReferralCoordinator.as_str().into());
        store::insert_notification(tx, consortium, &n).await?;
    }
    if let Some(user) = r.from_user_id {
        let kind = match (transition, r.state) {
            (Transition::Submit, State::Accepted) => "referral_accepted".to_owned(),
            (Transition::Submit, _) => return Ok(()),
            (t, _) => format!("referral_{t}"),
        };
        let mut n = new(&kind, r, now, green);
        n.user_id = Some(user);
        store::insert_notification(tx, consortium, &n).await?;
    }
    Ok(())
}

/// Kinds of the reminders [`announce`] makes, beside `referral_{transition}`, `green_page`,
/// `referral_received` and `referral_accepted`.
pub const REMINDER_KINDS: &[&str] = &[ON_DUTY, MEDICAL_AFFAIRS, GREEN_PAGE_UNACKNOWLEDGED, FOLLOW_UP_OVERDUE];

/// Past 1× its SLA: to the receiving centre's on-duty coordinator.
const ON_DUTY: &str = "referral_escalated_on_duty";
/// Past 2× its SLA, or redirected too often: to the consortium's medical affairs office.
const MEDICAL_AFFAIRS: &str = "referral_escalated_medical_affairs";
/// A green page unread past its acknowledgement time: to medical affairs.
const GREEN_PAGE_UNACKNOWLEDGED: &str = "green_page_unacknowledged";
/// A down-referral's follow-up past its due day: to the head of the institution that owes it.
const FOLLOW_UP_OVERDUE: &str = "follow_up_overdue";

/// Announces what is late, once each (DESIGN.md §6.1): escalations of referrals waiting on
/// their receiver (at 1× the SLA the on-duty coordinator, at 2× or after too many redirections
/// the medical affairs office), green pages not acknowledged in time, and overdue follow-ups
/// (the institution's head). Returns how many notifications were made.
pub async fn announce(ctx: &Ctx, consortium: ConsortiumId) -> Result<usize, AppError> {
    let now = ctx.clock.now();
    let settings = &ctx.referral;
    let max_redirects = i32::try_from(settings.max_redirects).unwrap_or(i32::MAX);
    let mut made = 0;
    let mut tx = ctx.db.begin_write().await?;
    for r in store::escalation_candidates(&mut tx, consortium, now, max_redirects).await? {
        let facts = r.facts();
        let (level, Some(since)) = (domain::escalation(&facts, settings, now), domain::sla_start(&facts))
        else {
            continue;
        };
        let mut owed: Vec<&str> = Vec::new();
        if level == Escalation::MedicalAffairs {
            owed.push(MEDICAL_AFFAIRS);
        }
        // The on-duty coordinator hears of a late referral even when it went straight to medical
        // affairs for its redirections.
        if level != Escalation::None && domain::sla_due(&facts, settings).is_some_and(|d| now >= d) {
            owed.push(ON_DUTY);
        }
        for kind in owed {
            if store::notified_since(&mut tx, consortium, r.id, kind, since).await? {
                continue;
            }
            let mut n = new(kind, &r, now, true);
            if kind == ON_DUTY {
                n.institution_id = r.to_institution_id;
                n.role = Some(Role::ReferralCoordinator.as_str().into());
            } else {
                n.role = Some(Role::ConsortiumManager.as_str().into());
            }
            store::insert_notification(&mut tx, consortium, &n).await?;
            made += 1;
        }
    }
    // Pages of the last day unread past their acknowledgement time.
    let late = now - settings.green_ack;
    for page in
        store::unread_of_kind(&mut tx, consortium, "green_page", late - chrono::Duration::days(1), late)
            .await?
    {
        let Some(id) = page.referral_id else { continue };
        if store::notified_since(&mut tx, consortium, id, GREEN_PAGE_UNACKNOWLEDGED, page.created_at).await? {
            continue;
        }
        let Some(r) = store::find(&mut tx, consortium, id).await? else { continue };
        let mut n = new(GREEN_PAGE_UNACKNOWLEDGED, &r, now, true);
        n.role = Some(Role::ConsortiumManager.as_str().into());
        store::insert_notification(&mut tx, consortium, &n).await?;
        made += 1;
    }
    let today = (now + chrono::Duration::hours(8)).date_naive();
    for task in store::overdue_follow_ups(&mut tx, consortium, today).await? {
        if store::notified_since(&mut tx, consortium, task.referral_id, FOLLOW_UP_OVERDUE, task.created_at)
            .await?
        {
            continue;
        }
        let Some(r) = store::find(&mut tx, consortium, task.referral_id).await? else { continue };
        let mut n = new(FOLLOW_UP_OVERDUE, &r, now, task.high_risk);
        n.institution_id = Some(task.institution_id);
        n.role = Some(Role::InstitutionAdmin.as_str().into());
        n.params["due_on"] = json!(task.due_on);
        store::insert_notification(&mut tx, consortium, &n).await?;
        made += 1;
    }
    tx.commit().await?;
    Ok(made)
}

/// The newest notifications for `actor`: their own and their role's at their institution.
pub async fn notifications(ctx: &Ctx, actor: &Actor, limit: i64) -> Result<Vec<Notification>, AppError> {
    let mut tx = ctx.db.begin().await?;
    let list = store::notifications_for(
        &mut tx,
        actor.consortium_id,
        actor.user_id,
        actor.institution_id,
        actor.role.as_str(),
        limit.clamp(1, 200),
    )
    .await?;
    Ok(list)
}

/// Marks the actor's notifications read (others' ids are ignored).
pub async fn mark_read(ctx: &Ctx, actor: &Actor, ids: &[Uuid]) -> Result<(), AppError> {
    let mine: Vec<Uuid> = notifications(ctx, actor, 200).await?.into_iter().map(|n| n.id).collect();
    let ids: Vec<Uuid> = ids.iter().copied().filter(|i| mine.contains(i)).collect();
    let mut tx = ctx.db.begin_write().await?;
    store::mark_read(&mut tx, actor.consortium_id, &ids, ctx.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Hands pending notifications to the outbound channel; returns how many were delivered.
pub async fn deliver_pending(ctx: &Ctx, consortium: ConsortiumId) -> Result<usize, AppError> {
    let mut tx = ctx.db.begin().await?;
    let pending = store::undelivered(&mut tx, consortium, 500).await?;
    drop(tx);
    let mut delivered = 0;
    for n in pending {
        match ctx.notifier.send(&n) {
            Ok(()) => {
                let mut tx = ctx.db.begin_write().await?;
                store::mark_delivered(&mut tx, consortium, n.id, ctx.clock.now()).await?;
                tx.commit().await?;
                delivered += 1;
            }
            Err(e) => tracing::warn!(notification = %n.id, error = %e, "notification not delivered"),
        }
    }
    Ok(delivered)
}
