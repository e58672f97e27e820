//! Organisation and staff registry use cases: consortia, institutions, departments, staff and
//! postings. Every write validates with the domain rules and commits in one transaction.

use tracing::instrument;
use yigong_domain::access::{Actor, Basis, Permission, Role, Scope, Target};
use yigong_domain::facility::Membership;
use yigong_domain::facility::{
    self, Consortium, ConsortiumDraft, Department, DepartmentDraft, Institution, InstitutionDraft,
    InstitutionKind,
};
use yigong_domain::ids::{ConsortiumId, DepartmentId, InstitutionId, PostingId, StaffId};
use yigong_domain::page::{Page, PageRequest};
use yigong_domain::{Invalid, Posting, PostingDraft, Staff, StaffDraft, TitleRecord, staffing};
use yigong_store::staff as staff_store;
use yigong_store::{
    Tx, consortium as consortia, department as departments, institution as institutions, population,
};

use crate::access::authorize;
use crate::audit::{self, Event};
use crate::error::conflict_on_field;
use crate::{AppError, Ctx};

pub use yigong_store::institution::Filter as InstitutionFilter;
pub use yigong_store::staff::Filter as StaffFilter;

/// Registers a consortium.
#[instrument(skip_all)]
pub async fn create_consortium(
    ctx: &Ctx,
    actor: &Actor,
    draft: ConsortiumDraft,
) -> Result<Consortium, AppError> {
    // A new tenant is platform administration: a system administrator's, at consortium scope.
    let event = Event::of("create", "consortium");
    let own = Target::consortium(actor.consortium_id);
    let basis = authorize(ctx, actor, Permission::RegistryWrite, &own, event.clone()).await?;
    if actor.role != Role::SystemAdmin {
        audit::record_denied(ctx, Some(actor), Some(actor.consortium_id), event, actor.request_id.clone())
            .await?;
        return Err(AppError::Forbidden { code: "forbidden" });
    }
    let new = facility::validate_consortium(&draft)?;
    let mut tx = ctx.db.begin_write().await?;
    let c = consortia::insert(&mut tx, ConsortiumId::new_v7(), &new, ctx.clock.now()).await?;
    audit::record(ctx, &mut tx, actor, actor.consortium_id, basis, Event::on("create", "consortium", c.id))
        .await?;
    tx.commit().await?;
    Ok(c)
}

/// The consortia the actor can see: its own, or its county's.
pub async fn list_consortia(ctx: &Ctx, actor: &Actor) -> Result<Vec<Consortium>, AppError> {
    let mut tx = ctx.db.begin().await?;
    let all = consortia::list(&mut tx).await?;
    Ok(all
        .into_iter()
        .filter(|c| match &actor.scope {
            Scope::County(set) => set.contains(&c.id),
            _ => c.id == actor.consortium_id,
        })
        .collect())
}

/// Every consortium of the deployment, for the console (no actor: the operator at the machine).
pub async fn list_all_consortia(ctx: &Ctx) -> Result<Vec<Consortium>, AppError> {
    let mut tx = ctx.db.begin().await?;
    Ok(consortia::list(&mut tx).await?)
}

/// One consortium.
pub async fn get_consortium(ctx: &Ctx, actor: &Actor, id: ConsortiumId) -> Result<Consortium, AppError> {
    authorize(
        ctx,
        actor,
        Permission::RegistryRead,
        &Target::consortium(id),
        Event::on("read", "consortium", id),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    consortia::find(&mut tx, id).await?.ok_or(AppError::not_found("consortium"))
}

async fn consortium_in(tx: &mut Tx, id: ConsortiumId) -> Result<Consortium, AppError> {
    consortia::find(tx, id).await?.ok_or(AppError::not_found("consortium"))
}

async fn institution_in(tx: &mut Tx, c: ConsortiumId, id: InstitutionId) -> Result<Institution, AppError> {
    institutions::find(tx, c, id).await?.ok_or(AppError::not_found("institution"))
}

/// Validates a draft against the consortium, its parent and the division reference data.
async fn validated_institution(
    ctx: &Ctx,
    tx: &mut Tx,
    consortium: &Consortium,
    draft: &InstitutionDraft,
    self_id: Option<InstitutionId>,
) -> Result<facility::NewInstitution, AppError> {
    let parent = match draft.parent_id {
        Some(p) => institutions::find(tx, consortium.id, p).await?,
        None => None,
    };
    let new = facility::validate_institution(draft, consortium, parent.as_ref())?;
    if self_id.is_some() && self_id == new.parent_id {
        return Err(
            Invalid::one("parent_id", "parent_is_self", "an institution cannot be its own parent").into()
        );
    }
    // Where the county's village codes are loaded, a code must name a real division.
    let county = consortium.county_code.as_str();
    // The county level is listed by its six-digit GB/T 2260 code, not a twelve-digit one.
    let listed_as = match new.division_code.level() {
        yigong_domain::identity::DivisionLevel::County => county,
        _ => new.division_code.as_str(),
    };
    if population::county_has_villages(tx, county).await?
        && !population::division_exists(tx, listed_as, ctx.today()).await?
    {
        return Err(
            Invalid::one("division_code", "division_code_unknown", "no such division in the county").into()
        );
    }
    Ok(new)
}

/// Registers an institution; members also get their first membership period.
#[instrument(skip_all, fields(consortium.id = %consortium_id))]
pub async fn create_institution(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    draft: InstitutionDraft,
) -> Result<Institution, AppError> {
    let target = Target::consortium(consortium_id);
    let basis =
        authorize(ctx, actor, Permission::RegistryWrite, &target, Event::of("create", "institution")).await?;
    let mut tx = ctx.db.begin_write().await?;
    let consortium = consortium_in(&mut tx, consortium_id).await?;
    let new = validated_institution(ctx, &mut tx, &consortium, &draft, None).await?;
    let institution = institutions::record(consortium_id, InstitutionId::new_v7(), new, ctx.clock.now());
    institutions::insert(&mut tx, &institution).await.map_err(|e| {
        conflict_on_field(e, "institution_code_taken", "code", "another institution has this code")
    })?;
    crate::record::registry::mirror(
        &mut tx,
        consortium_id,
        crate::record::registry::Mirror::Institution(&institution),
        Some(actor.user_id),
        ctx.clock.now(),
    )
    .await?;
    if matches!(institution.kind, InstitutionKind::Member(_)) {
        let joined = Membership { valid_from: ctx.today(), valid_to: None, reason: "registered".into() };
        institutions::insert_membership(&mut tx, consortium_id, institution.id, &joined).await?;
    }
    audit::record(
        ctx,
        &mut tx,
        actor,
        consortium_id,
        basis,
        Event::on("create", "institution", institution.id),
    )
    .await?;
    tx.commit().await?;
    Ok(institution)
}

/// Replaces an institution's fields.
#[instrument(skip_all, fields(consortium.id = %consortium_id, institution.id = %id))]
pub async fn update_institution(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    id: InstitutionId,
    draft: InstitutionDraft,
) -> Result<Institution, AppError> {
    let target = Target::institution(consortium_id, id);
    let basis =
        authorize(ctx, actor, Permission::RegistryWrite, &target, Event::on("update", "institution", id))
            .await?;
    let mut tx = ctx.db.begin_write().await?;
    let consortium = consortium_in(&mut tx, consortium_id).await?;
    let old = institution_in(&mut tx, consortium_id, id).await?;
    let new = validated_institution(ctx, &mut tx, &consortium, &draft, Some(id)).await?;
    let mut updated = institutions::record(consortium_id, id, new, ctx.clock.now());
    updated.created_at = old.created_at;
    institutions::update(&mut tx, &updated).await.map_err(|e| {
        conflict_on_field(e, "institution_code_taken", "code", "another institution has this code")
    })?;
    crate::record::registry::mirror(
        &mut tx,
        consortium_id,
        crate::record::registry::Mirror::Institution(&updated),
        Some(actor.user_id),
        ctx.clock.now(),
    )
    .await?;
    audit::record(ctx, &mut tx, actor, consortium_id, basis, Event::on("update", "institution", id)).await?;
    tx.commit().await?;
    Ok(updated)
}

/// One institution with its membership history.
pub async fn get_institution(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    id: InstitutionId,
) -> Result<(Institution, Vec<Membership>), AppError> {
    authorize(
        ctx,
        actor,
        Permission::RegistryRead,
        &Target::consortium(consortium_id),
        Event::on("read", "institution", id),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    let institution = institution_in(&mut tx, consortium_id, id).await?;
    let history = institutions::memberships(&mut tx, consortium_id, id).await?;
    Ok((institution, history))
}

/// One institution by its code.
pub async fn find_institution_by_code(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    code: &str,
) -> Result<Institution, AppError> {
    authorize(
        ctx,
        actor,
        Permission::RegistryRead,
        &Target::consortium(consortium_id),
        Event::of("read", "institution"),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    institutions::find_by_code(&mut tx, consortium_id, code).await?.ok_or(AppError::not_found("institution"))
}

/// A page of institutions.
pub async fn list_institutions(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    filter: &InstitutionFilter,
    page: &PageRequest,
) -> Result<Page<Institution>, AppError> {
    authorize(
        ctx,
        actor,
        Permission::RegistryRead,
        &Target::consortium(consortium_id),
        Event::of("search", "institution"),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    consortium_in(&mut tx, consortium_id).await?;
    Ok(institutions::list(&mut tx, consortium_id, filter, page).await?)
}

/// Adds a department to an institution.
#[instrument(skip_all, fields(consortium.id = %consortium_id, institution.id = %institution_id))]
pub async fn create_department(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    institution_id: InstitutionId,
    draft: DepartmentDraft,
) -> Result<Department, AppError> {
    let target = Target::institution(consortium_id, institution_id);
    let basis =
        authorize(ctx, actor, Permission::RegistryWrite, &target, Event::of("create", "department")).await?;
    let new = facility::validate_department(&draft)?;
    let mut tx = ctx.db.begin_write().await?;
    institution_in(&mut tx, consortium_id, institution_id).await?;
    let department = Department {
        id: DepartmentId::new_v7(),
        consortium_id,
        institution_id,
        subject_code: new.subject_code,
        name: new.name,
        kind: new.kind,
        created_at: ctx.clock.now(),
    };
    departments::insert(&mut tx, &department).await.map_err(|e| {
        conflict_on_field(e, "department_name_taken", "name", "the institution has a department of this name")
    })?;
    crate::record::registry::mirror(
        &mut tx,
        consortium_id,
        crate::record::registry::Mirror::Department(&department),
        Some(actor.user_id),
        ctx.clock.now(),
    )
    .await?;
    audit::record(
        ctx,
        &mut tx,
        actor,
        consortium_id,
        basis,
        Event::on("create", "department", department.id),
    )
    .await?;
    tx.commit().await?;
    Ok(department)
}

/// Replaces a department's fields.
pub async fn update_department(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    institution_id: InstitutionId,
    id: DepartmentId,
    draft: DepartmentDraft,
) -> Result<Department, AppError> {
    let target = Target::institution(consortium_id, institution_id);
    let basis =
        authorize(ctx, actor, Permission::RegistryWrite, &target, Event::on("update", "department", id))
            .await?;
    let new = facility::validate_department(&draft)?;
    let mut tx = ctx.db.begin_write().await?;
    let old = departments::find(&mut tx, consortium_id, id)
        .await?
        .filter(|d| d.institution_id == institution_id)
        .ok_or(AppError::not_found("department"))?;
    let department = Department { subject_code: new.subject_code, name: new.name, kind: new.kind, ..old };
    departments::update(&mut tx, &department).await.map_err(|e| {
        conflict_on_field(e, "department_name_taken", "name", "the institution has a department of this name")
    })?;
    crate::record::registry::mirror(
        &mut tx,
        consortium_id,
        crate::record::registry::Mirror::Department(&department),
        Some(actor.user_id),
        ctx.clock.now(),
    )
    .await?;
    audit::record(ctx, &mut tx, actor, consortium_id, basis, Event::on("update", "department", id)).await?;
    tx.commit().await?;
    Ok(department)
}

/// A page of an institution's departments.
pub async fn list_departments(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    institution_id: InstitutionId,
    query: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Department>, AppError> {
    authorize(
        ctx,
        actor,
        Permission::RegistryRead,
        &Target::consortium(consortium_id),
        Event::of("search", "department"),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    institution_in(&mut tx, consortium_id, institution_id).await?;
    Ok(departments::list(&mut tx, consortium_id, institution_id, query, page).await?)
}

async fn exists(tx: &mut Tx, c: ConsortiumId, id: Option<InstitutionId>) -> Result<bool, AppError> {
    Ok(match id {
        Some(id) => institutions::find(tx, c, id).await?.is_some(),
        None => false,
    })
}

/// Registers a staff member with the first entry of their title history.
#[instrument(skip_all, fields(consortium.id = %consortium_id))]
pub async fn create_staff(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    draft: StaffDraft,
) -> Result<Staff, AppError> {
    let target = employer_target(consortium_id, draft.employer_institution_id);
    let basis = authorize(ctx, actor, Permission::StaffWrite, &target, Event::of("create", "staff")).await?;
    let mut tx = ctx.db.begin_write().await?;
    consortium_in(&mut tx, consortium_id).await?;
    let employer = exists(&mut tx, consortium_id, draft.employer_institution_id).await?;
    let registered = exists(&mut tx, consortium_id, draft.registered_institution_id).await?;
    let new = staffing::validate_staff(&draft, employer, registered, ctx.today())?;
    let now = ctx.clock.now();
    let (staff, title) = new.into_staff(StaffId::new_v7(), consortium_id, now, now);
    staff_store::insert(&mut tx, &staff).await.map_err(|e| {
        conflict_on_field(e, "staff_code_taken", "code", "another staff member has this number")
    })?;
    crate::record::registry::mirror(
        &mut tx,
        consortium_id,
        crate::record::registry::Mirror::Staff(&staff),
        Some(actor.user_id),
        ctx.clock.now(),
    )
    .await?;
    staff_store::insert_title(&mut tx, consortium_id, staff.id, &title).await?;
    audit::record(ctx, &mut tx, actor, consortium_id, basis, Event::on("create", "staff", staff.id)).await?;
    tx.commit().await?;
    Ok(staff)
}

/// Replaces a staff member's fields; a changed title adds to the title history.
#[instrument(skip_all, fields(consortium.id = %consortium_id, staff.id = %id))]
pub async fn update_staff(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    id: StaffId,
    draft: StaffDraft,
) -> Result<Staff, AppError> {
    let old = {
        let mut tx = ctx.db.begin().await?;
        staff_store::find(&mut tx, consortium_id, id).await?
    };
    let event = Event::on("update", "staff", id);
    let current = employer_target(consortium_id, old.as_ref().map(|s| s.employer_institution_id));
    let basis = authorize(ctx, actor, Permission::StaffWrite, &current, event.clone()).await?;
    if draft.employer_institution_id != old.as_ref().map(|s| s.employer_institution_id) {
        // Moving someone to another employer needs authority there too.
        authorize(
            ctx,
            actor,
            Permission::StaffWrite,
            &employer_target(consortium_id, draft.employer_institution_id),
            event,
        )
        .await?;
    }
    let old = old.ok_or(AppError::not_found("staff"))?;
    let mut tx = ctx.db.begin_write().await?;
    let employer = exists(&mut tx, consortium_id, draft.employer_institution_id).await?;
    let registered = exists(&mut tx, consortium_id, draft.registered_institution_id).await?;
    let new = staffing::validate_staff(&draft, employer, registered, ctx.today())?;
    let title_changed = old.title_level != new.title.level || old.title_name != new.title.name;
    let (staff, title) = new.into_staff(old.id, consortium_id, old.created_at, ctx.clock.now());
    staff_store::update(&mut tx, &staff).await.map_err(|e| {
        conflict_on_field(e, "staff_code_taken", "code", "another staff member has this number")
    })?;
    crate::record::registry::mirror(
        &mut tx,
        consortium_id,
        crate::record::registry::Mirror::Staff(&staff),
        Some(actor.user_id),
        ctx.clock.now(),
    )
    .await?;
    if title_changed {
        staff_store::insert_title(&mut tx, consortium_id, id, &title).await.map_err(|e| {
            conflict_on_field(e, "title_same_day", "title_since", "the title already changed on that day")
        })?;
    }
    audit::record(ctx, &mut tx, actor, consortium_id, basis, Event::on("update", "staff", id)).await?;
    tx.commit().await?;
    Ok(staff)
}

/// One staff member with their title history.
pub async fn get_staff(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    id: StaffId,
) -> Result<(Staff, Vec<TitleRecord>), AppError> {
    let target = Target::consortium(consortium_id);
    let basis = authorize(ctx, actor, Permission::StaffRead, &target, Event::on("read", "staff", id)).await?;
    let mut tx = ctx.db.begin().await?;
    let staff = staff_store::find(&mut tx, consortium_id, id).await?.ok_or(AppError::not_found("staff"))?;
    let titles = staff_store::titles(&mut tx, consortium_id, id).await?;
    drop(tx);
    audit::record_read(ctx, actor, consortium_id, basis, Event::on("read", "staff", id)).await?;
    Ok((staff, titles))
}

/// A page of staff. An institution filter without a day means today.
pub async fn list_staff(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    filter: &StaffFilter,
    page: &PageRequest,
) -> Result<Page<Staff>, AppError> {
    let mut filter = filter.clone();
    if filter.institution.is_some() && filter.on.is_none() {
        filter.on = Some(ctx.today());
    }
    let target = Target::consortium(consortium_id);
    let basis = authorize(ctx, actor, Permission::StaffRead, &target, Event::of("search", "staff")).await?;
    let mut tx = ctx.db.begin().await?;
    consortium_in(&mut tx, consortium_id).await?;
    let found = staff_store::list(&mut tx, consortium_id, &filter, page).await?;
    drop(tx);
    let detail = format!("rows={}", found.items.len());
    audit::record_read(ctx, actor, consortium_id, basis, Event::of("search", "staff").with_detail(detail))
        .await?;
    Ok(found)
}

async fn validated_posting(
    tx: &mut Tx,
    consortium_id: ConsortiumId,
    draft: &PostingDraft,
) -> Result<staffing::NewPosting, AppError> {
    let institution = match draft.institution_id {
        Some(i) => institutions::find(tx, consortium_id, i).await?,
        None => None,
    };
    let department_owner = match draft.department_id {
        Some(d) => departments::find(tx, consortium_id, d).await?.map(|d| d.institution_id),
        None => None,
    };
    Ok(staffing::validate_posting(draft, institution.as_ref(), department_owner)?)
}

/// Posts a staff member at an institution for a period.
#[instrument(skip_all, fields(consortium.id = %consortium_id, staff.id = %staff_id))]
pub async fn create_posting(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    staff_id: StaffId,
    draft: PostingDraft,
) -> Result<Posting, AppError> {
    let basis = staff_authority(
        ctx,
        actor,
        consortium_id,
        staff_id,
        Permission::StaffWrite,
        Event::of("create", "posting"),
    )
    .await?;
    host_authority(ctx, actor, consortium_id, draft.institution_id, Event::of("create", "posting")).await?;
    let mut tx = ctx.db.begin_write().await?;
    let new = validated_posting(&mut tx, consortium_id, &draft).await?;
    let posting = Posting {
        id: PostingId::new_v7(),
        consortium_id,
        staff_id,
        institution_id: new.institution_id,
        department_id: new.department_id,
        position: new.position,
        source: new.source,
        valid_from: new.valid_from,
        valid_to: new.valid_to,
        created_at: ctx.clock.now(),
    };
    staff_store::insert_posting(&mut tx, &posting).await?;
    crate::record::registry::mirror(
        &mut tx,
        consortium_id,
        crate::record::registry::Mirror::Posting(&posting),
        Some(actor.user_id),
        ctx.clock.now(),
    )
    .await?;
    audit::record(ctx, &mut tx, actor, consortium_id, basis, Event::on("create", "posting", posting.id))
        .await?;
    tx.commit().await?;
    Ok(posting)
}

/// Replaces a posting's fields (e.g. ends it early by setting `valid_to`).
pub async fn update_posting(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    staff_id: StaffId,
    id: PostingId,
    draft: PostingDraft,
) -> Result<Posting, AppError> {
    let basis = staff_authority(
        ctx,
        actor,
        consortium_id,
        staff_id,
        Permission::StaffWrite,
        Event::on("update", "posting", id),
    )
    .await?;
    host_authority(ctx, actor, consortium_id, draft.institution_id, Event::on("update", "posting", id))
        .await?;
    let mut tx = ctx.db.begin_write().await?;
    let old = staff_store::find_posting(&mut tx, consortium_id, id)
        .await?
        .filter(|p| p.staff_id == staff_id)
        .ok_or(AppError::not_found("posting"))?;
    drop(tx);
    // The posting's current host must be in scope as well: moving it away is a change there.
    host_authority(ctx, actor, consortium_id, Some(old.institution_id), Event::on("update", "posting", id))
        .await?;
    let mut tx = ctx.db.begin_write().await?;
    let new = validated_posting(&mut tx, consortium_id, &draft).await?;
    let posting = Posting {
        institution_id: new.institution_id,
        department_id: new.department_id,
        position: new.position,
        source: new.source,
        valid_from: new.valid_from,
        valid_to: new.valid_to,
        ..old
    };
    staff_store::update_posting(&mut tx, &posting).await?;
    crate::record::registry::mirror(
        &mut tx,
        consortium_id,
        crate::record::registry::Mirror::Posting(&posting),
        Some(actor.user_id),
        ctx.clock.now(),
    )
    .await?;
    audit::record(ctx, &mut tx, actor, consortium_id, basis, Event::on("update", "posting", id)).await?;
    tx.commit().await?;
    Ok(posting)
}

/// A page of a staff member's postings.
pub async fn list_postings(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    staff_id: StaffId,
    page: &PageRequest,
) -> Result<Page<Posting>, AppError> {
    let target = Target::consortium(consortium_id);
    let basis = authorize(ctx, actor, Permission::StaffRead, &target, Event::of("search", "posting")).await?;
    let mut tx = ctx.db.begin().await?;
    staff_store::find(&mut tx, consortium_id, staff_id).await?.ok_or(AppError::not_found("staff"))?;
    let found = staff_store::list_postings(&mut tx, consortium_id, staff_id, page).await?;
    drop(tx);
    audit::record_read(ctx, actor, consortium_id, basis, Event::on("search", "posting", staff_id)).await?;
    Ok(found)
}

fn employer_target(consortium_id: ConsortiumId, employer: Option<InstitutionId>) -> Target {
    match employer {
        Some(i) => Target::institution(consortium_id, i),
        None => Target::consortium(consortium_id),
    }
}

/// Authority over a staff member's records: held over their employing institution. A missing
/// staff member is checked against the consortium, so that a refusal does not reveal existence.
/// Authority to post someone at an institution: a posting opens the host's records to the
/// person (dispatch grants), so the host must be in the actor's scope too.
async fn host_authority(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    host: Option<InstitutionId>,
    event: Event<'_>,
) -> Result<(), AppError> {
    if let Some(host) = host {
        authorize(ctx, actor, Permission::StaffWrite, &Target::institution(consortium_id, host), event)
            .await?;
    }
    Ok(())
}

async fn staff_authority(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    staff_id: StaffId,
    permission: Permission,
    event: Event<'_>,
) -> Result<Basis, AppError> {
    let staff = {
        let mut tx = ctx.db.begin().await?;
        staff_store::find(&mut tx, consortium_id, staff_id).await?
    };
    let target = employer_target(consortium_id, staff.as_ref().map(|s| s.employer_institution_id));
    let basis = authorize(ctx, actor, permission, &target, event).await?;
    staff.ok_or(AppError::not_found("staff"))?;
    Ok(basis)
}

/// Children per parent institution, for the county tree.
pub async fn child_counts(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
) -> Result<std::collections::HashMap<InstitutionId, i64>, AppError> {
    authorize(
        ctx,
        actor,
        Permission::RegistryRead,
        &Target::consortium(consortium_id),
        Event::of("search", "institution"),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    Ok(institutions::child_counts(&mut tx, consortium_id).await?.into_iter().collect())
}

/// Names of divisions valid today, by code (codes without a known name are left out).
pub async fn division_names(
    ctx: &Ctx,
    codes: &[String],
) -> Result<std::collections::HashMap<String, String>, AppError> {
    let mut tx = ctx.db.begin().await?;
    let mut names = std::collections::HashMap::new();
    for code in codes {
        if names.contains_key(code) {
            continue;
        }
        // The county level is listed under its six-digit GB/T 2260 code.
        let listed = if code.len() == 12 && code.ends_with("000000") { &code[..6] } else { code.as_str() };
        if let Some(n) = population::division_name(&mut tx, listed, ctx.today()).await? {
            names.insert(code.clone(), n);
        }
    }
    Ok(names)
}

/// Institutions in the consortium, and staff posted today at `institution` if given.
pub async fn counts(
    ctx: &Ctx,
    actor: &Actor,
    consortium_id: ConsortiumId,
    institution: Option<InstitutionId>,
) -> Result<(i64, Option<i64>), AppError> {
    authorize(
        ctx,
        actor,
        Permission::RegistryRead,
        &Target::consortium(consortium_id),
        Event::of("read", "institution"),
    )
    .await?;
    let mut tx = ctx.db.begin().await?;
    let institutions = institutions::count(&mut tx, consortium_id).await?;
    let staff = match institution {
        Some(i) => Some(staff_store::count_at(&mut tx, consortium_id, i, ctx.today()).await?),
        None => None,
    };
    Ok((institutions, staff))
}
