//! Authorisation for every door (HTTP, CLI, jobs): resolve an account's role grant into an
//! [`Actor`] with its scope and relationship grants, and check an action, auditing refusals.

use std::collections::BTreeSet;

use yigong_domain::access::{self, Actor, Basis, Permission, Role, Scope, ScopeKind, Target};
use yigong_domain::ids::{ConsortiumId, InstitutionId};
use yigong_domain::page::PageRequest;
use yigong_store::account::{Account, RoleGrant};
use yigong_store::{Tx, consortium as consortia, institution, staff};

use crate::audit::{self, Event};
use crate::{AppError, Ctx};

/// Checks `permission` on `target`. A refusal is audited (in its own transaction) and
/// returned as [`AppError::Forbidden`]; an allowance returns the basis for the caller's audit row.
pub async fn authorize(
    ctx: &Ctx,
    actor: &Actor,
    permission: Permission,
    target: &Target,
    event: Event<'_>,
) -> Result<Basis, AppError> {
    match access::decide(actor, permission, target, ctx.clock.now()) {
        Ok(basis) => Ok(basis),
        Err(denial) => {
            let event = Event {
                detail: Some(format!("permission={} denial={}", permission.as_str(), denial.code())),
                ..event
            };
            audit::record_denied(
                ctx,
                Some(actor),
                Some(target.consortium_id),
                event,
                actor.request_id.clone(),
            )
            .await?;
            Err(AppError::Forbidden { code: denial.code() })
        }
    }
}

/// The active role grants of an account on `today`.
pub fn active_grants(grants: &[RoleGrant], today: chrono::NaiveDate) -> Vec<&RoleGrant> {
    grants.iter().filter(|g| g.valid_from <= today && g.valid_to.is_none_or(|to| today <= to)).collect()
}

/// Builds the actor of `account` acting under `grant`.
pub async fn resolve_actor(
    ctx: &Ctx,
    tx: &mut Tx,
    account: &Account,
    grant: &RoleGrant,
    request_id: Option<String>,
) -> Result<Actor, AppError> {
    let scope = match grant.scope_kind {
        ScopeKind::Consortium => Scope::Consortium,
        ScopeKind::County => {
            let home = consortia::get(tx, grant.consortium_id).await?;
            let county: BTreeSet<ConsortiumId> = consortia::list(tx)
                .await?
                .into_iter()
                .filter(|c| c.county_code == home.county_code)
                .map(|c| c.id)
                .collect();
            Scope::County(county)
        }
        ScopeKind::Institution => Scope::Institutions(grant.institution_id.into_iter().collect()),
        ScopeKind::TownshipGroup => {
            let mut set: BTreeSet<InstitutionId> = grant.institution_id.into_iter().collect();
            if let Some(centre) = grant.institution_id {
                // The centre's village clinics and service points: one indexed lookup of its
                // children, never a walk of the hierarchy per row.
                let filter = institution::Filter { parent: Some(centre), ..Default::default() };
                let mut page = PageRequest { size: 500, after: None };
                loop {
                    let children = institution::list(tx, grant.consortium_id, &filter, &page).await?;
                    set.extend(children.items.iter().map(|i| i.id));
                    match children.next_after {
                        Some(after) => page.after = Some(after),
                        None => break,
                    }
                }
            }
            Scope::Institutions(set)
        }
    };
    let mut grants = Vec::new();
    if let Some(staff_id) = account.staff_id {
        // Dispatch postings open their host institution for their period.
        let mut page = PageRequest { size: 500, after: None };
        loop {
            let postings = staff::list_postings(tx, grant.consortium_id, staff_id, &page).await?;
            grants.extend(postings.items.iter().filter_map(access::dispatch_grant));
            match postings.next_after {
                Some(after) => page.after = Some(after),
                None => break,
            }
        }
    }
    grants.extend(
        crate::auth::break_glass_grants(tx, grant.consortium_id, account.user_id, ctx.clock.now()).await?,
    );
    Ok(Actor {
        user_id: account.user_id,
        staff_id: account.staff_id,
        consortium_id: grant.consortium_id,
        role: grant.role,
        institution_id: grant.institution_id,
        scope_kind: grant.scope_kind,
        scope,
        grants,
        request_id,
    })
}

/// The platform itself, acting on its timers and rules (referral expiry, loop closing).
pub fn system(consortium_id: ConsortiumId) -> Actor {
    Actor { request_id: Some("system".into()), ..console(consortium_id) }
}

/// The built-in actor of command-line administration (`yigong user add`, seeding): a system
/// administrator of one consortium, acting on the operator's authority at the console.
pub fn console(consortium_id: ConsortiumId) -> Actor {
    Actor {
        user_id: uuid::Uuid::nil(),
        staff_id: None,
        consortium_id,
        role: Role::SystemAdmin,
        institution_id: None,
        scope_kind: ScopeKind::Consortium,
        scope: Scope::Consortium,
        grants: vec![],
        request_id: Some("console".into()),
    }
}
