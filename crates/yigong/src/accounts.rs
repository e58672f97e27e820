//! Accounts from the command line: the demo's accounts (one per role, passwords printed once
//! and kept only in the data folder) and `yigong user add`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use rand::Rng;
use yigong_app::Ctx;
use yigong_app::auth::{self, UserDraft};
use yigong_domain::access::Role;
use yigong_domain::facility::{AgencyKind, Institution, InstitutionKind, Tier};
use yigong_domain::ids::ConsortiumId;
use yigong_domain::staffing::StaffCategory;
use yigong_synth::Organisation;

/// Name of the file in the data folder that keeps the demo accounts.
pub const DEMO_ACCOUNTS_FILE: &str = "demo-accounts.txt";

/// A random password that meets the policy: 14 characters, letters and digits.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    loop {
        let p: String = (0..14).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
        if p.chars().any(|c| c.is_ascii_digit()) && p.chars().any(|c| c.is_ascii_alphabetic()) {
            return p;
        }
    }
}

struct DemoAccount {
    username: &'static str,
    role: Role,
    /// Where the account acts, and which staff category it is drawn from.
    site: fn(&Institution) -> bool,
    category: Option<StaffCategory>,
    what: &'static str,
}

fn tier(i: &Institution, t: Tier) -> bool {
    i.kind == InstitutionKind::Member(t)
}

const DEMO: &[DemoAccount] = &[
    DemoAccount {
        username: "village",
        role: Role::VillageDoctor,
        site: |i| tier(i, Tier::VillageServicePoint),
        category: Some(StaffCategory::VillageDoctor),
        what: "乡村医生 village doctor",
    },
    DemoAccount {
        username: "township",
        role: Role::TownshipDoctor,
        site: |i| tier(i, Tier::TownshipCentre),
        category: Some(StaffCategory::Physician),
        what: "乡镇卫生院医生 township doctor",
    },
    DemoAccount {
        username: "specialist",
        role: Role::CountySpecialist,
        site: |i| tier(i, Tier::CountyGeneral),
        category: Some(StaffCategory::Physician),
        what: "县医院专科医生 county specialist",
    },
    DemoAccount {
        username: "reader",
        role: Role::Reader,
        site: |i| tier(i, Tier::CountyGeneral),
        category: Some(StaffCategory::Physician),
        what: "诊断中心阅片医生 reading-centre reader",
    },
    DemoAccount {
        username: "referral",
        role: Role::ReferralCoordinator,
        site: |i| tier(i, Tier::CountyGeneral),
        category: Some(StaffCategory::Nurse),
        what: "转诊中心协调员 referral coordinator",
    },
    DemoAccount {
        username: "pharmacist",
        role: Role::Pharmacist,
        site: |i| tier(i, Tier::CountyGeneral),
        category: Some(StaffCategory::Pharmacist),
        what: "药师 pharmacist",
    },
    DemoAccount {
        username: "manager",
        role: Role::ConsortiumManager,
        site: |i| tier(i, Tier::CountyGeneral),
        category: Some(StaffCategory::Admin),
        what: "医共体管理人员 consortium manager",
    },
    DemoAccount {
        username: "bureau",
        role: Role::HealthBureau,
        site: |i| i.kind == InstitutionKind::Agency(AgencyKind::HealthBureau),
        category: None,
        what: "卫生健康局 health bureau",
    },
    DemoAccount {
        username: "instadmin",
        role: Role::InstitutionAdmin,
        site: |i| tier(i, Tier::TownshipCentre),
        category: Some(StaffCategory::Admin),
        what: "机构管理员 institution admin",
    },
    DemoAccount {
        username: "admin",
        role: Role::SystemAdmin,
        site: |i| tier(i, Tier::CountyGeneral),
        category: None,
        what: "系统管理员 system admin",
    },
];

/// Creates one account per role in the synthetic county and writes them, with their
/// passwords, to the data folder (readable by the owner only). Returns the file's text.
pub async fn create_demo_accounts(ctx: &Ctx, org: &Organisation, data_dir: &Path) -> anyhow::Result<String> {
    let consortium = org.consortium.id;
    let console = yigong_app::access::console(consortium);
    let mut lines = vec![
        "# yigong demo accounts (synthetic county 青岚县). Passwords are shown once; keep this file private."
            .to_owned(),
    ];
    let mut used = std::collections::HashSet::new();
    for d in DEMO {
        // The first matching site that has a matching staff member not yet given an account.
        let pick = org.institutions.iter().filter(|i| (d.site)(i)).find_map(|site| {
            let staff = org.staff.iter().map(|(s, _)| s).find(|s| {
                s.employer_institution_id == site.id
                    && d.category.is_none_or(|c| s.category == c)
                    && !used.contains(&s.id)
            });
            staff.map(|s| (site, Some(s)))
        });
        let (site, staff) = match pick {
            Some(p) => p,
            None => (
                org.institutions
                    .iter()
                    .find(|i| (d.site)(i))
                    .context("the synthetic county lacks a demo site")?,
                None,
            ),
        };
        if let Some(s) = staff {
            used.insert(s.id);
        }
        let display_name = staff
            .map_or_else(|| d.what.split(' ').next().unwrap_or(d.username).to_owned(), |s| s.name.clone());
        let password = random_password();
        let institution_id = match d.role {
            Role::SystemAdmin | Role::ConsortiumManager => None,
            _ => Some(site.id),
        };
        let draft = UserDraft {
            username: d.username.into(),
            display_name: display_name.clone(),
            password: password.clone(),
            role: d.role.as_str().into(),
            institution_id,
            staff_id: staff.map(|s| s.id),
        };
        auth::create_user(ctx, &console, consortium, draft)
            .await
            .with_context(|| format!("create demo account {}", d.username))?;
        lines.push(format!(
            "{:<11} {:<16} {:<20} {} @ {}",
            d.username,
            password,
            d.role.as_str(),
            display_name,
            site.name
        ));
    }
    // The county specialist also holds clinics at a township centre: a second role grant, so the
    // demo shows the institution switch in the header.
    if let Some(township) = org.institutions.iter().find(|i| tier(i, Tier::TownshipCentre)) {
        let specialist = auth::find_account(ctx, "specialist").await?.context("the specialist account")?;
        auth::add_role(
            ctx,
            &console,
            consortium,
            specialist.user_id,
            Role::TownshipDoctor,
            Some(township.id),
        )
        .await
        .map_err(describe)?;
        lines
            .push(format!("# specialist also works at {} (switch institution in the header)", township.name));
    }
    let text = lines.join("\n") + "\n";
    let path = data_dir.join(DEMO_ACCOUNTS_FILE);
    let mut file = open_private(&path).with_context(|| format!("write {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("write {}", path.display()))?;
    Ok(text)
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

/// `yigong user add`: one account with one role, password read from standard input.
pub async fn add_user(
    ctx: &Ctx,
    consortium: Option<ConsortiumId>,
    username: &str,
    role: &str,
    institution_code: Option<&str>,
    display_name: Option<&str>,
    password: &str,
) -> anyhow::Result<String> {
    let consortium = match consortium {
        Some(c) => c,
        None => {
            let all = yigong_app::registry::list_all_consortia(ctx).await?;
            anyhow::ensure!(!all.is_empty(), "the database holds no consortium yet");
            anyhow::ensure!(
                all.len() == 1,
                "the database holds {} consortia: choose one with --consortium ID",
                all.len()
            );
            all[0].id
        }
    };
    let console = yigong_app::access::console(consortium);
    let institution_id = match institution_code {
        Some(code) => Some(
            yigong_app::registry::find_institution_by_code(ctx, &console, consortium, code)
                .await
                .map_err(|_| anyhow::anyhow!("no institution with code {code:?} in the consortium"))?
                .id,
        ),
        None => None,
    };
    let draft = UserDraft {
        username: username.into(),
        display_name: display_name.unwrap_or(username).into(),
        password: password.into(),
        role: role.into(),
        institution_id,
        staff_id: None,
    };
    let user = auth::create_user(ctx, &console, consortium, draft).await.map_err(describe)?;
    Ok(format!("created user {} ({}) with role {}", user.account.username, user.account.user_id, role))
}

/// One line naming each wrong field, for the terminal.
pub fn describe(e: yigong_app::AppError) -> anyhow::Error {
    match e {
        yigong_app::AppError::Invalid(invalid) => anyhow::anyhow!(
            "{}",
            invalid
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!(other),
    }
}

/// `yigong user grant`: another role for an existing account.
pub async fn grant(
    ctx: &Ctx,
    username: &str,
    role: &str,
    institution_code: Option<&str>,
) -> anyhow::Result<String> {
    let role = Role::parse(role).with_context(|| format!("unknown role {role:?}"))?;
    let account =
        auth::find_account(ctx, username).await?.with_context(|| format!("no account {username:?}"))?;
    let consortium = account.consortium_id;
    let console = yigong_app::access::console(consortium);
    let institution_id = match institution_code {
        Some(code) => Some(
            yigong_app::registry::find_institution_by_code(ctx, &console, consortium, code)
                .await
                .map_err(|_| anyhow::anyhow!("no institution with code {code:?} in the consortium"))?
                .id,
        ),
        None => None,
    };
    auth::add_role(ctx, &console, consortium, account.user_id, role, institution_id)
        .await
        .map_err(describe)?;
    Ok(format!("granted {} to {username}", role.as_str()))
}
