//! The master patient index pages as a doctor and a steward walk them: registration that
//! searches first, the person page, the review queue, merge and undo.
//!
//! The index needs a matching model, which it estimates on first use over the records there
//! are; an empty index gives a model that matches nothing. Each test therefore loads the
//! registrations of a thousand synthetic residents first (half a second), as a county rollout
//! would. The test patients have an area code (990199) no synthetic resident has.

use yigong_app::auth::{SessionKind, authenticate, login};
use yigong_app::mpi::{RegistrarChoice, register};
use yigong_domain::identity::check_char;
use yigong_domain::patient::RegistrationDraft;
use yigong_testkit::browser::Browser;

use crate::pages::log_in;
use crate::{PASSWORD, TestServer};

/// Types the birth date `iso` into its date field as a user does and searches. The order of the
/// field's parts follows the browser's locale, which the machine decides (headless Chromium on
/// Linux takes it from the environment, not `--lang`): month, day, year under English;
/// year, month, day under Chinese (the year part takes six digits, so → moves on). The order
/// that gave the right date in the form sent back is kept.
pub(crate) async fn fill_birth_date_and_search(page: &Browser, iso: &str) {
    let (year, month, day) = (&iso[..4], &iso[5..7], &iso[8..10]);
    for keys in [format!("{month}{day}{year}"), format!("{year}\u{E014}{month}\u{E014}{day}")] {
        page.fill_labelled("出生日期", &keys).await;
        page.click_button("查找相似患者").await;
        if page.attribute("#f-birth_date", "value").await.as_deref() == Some(iso) {
            return;
        }
    }
    panic!("the date field took neither month/day/year nor year/month/day");
}

/// A valid resident ID number from its first 17 digits.
fn resident_id(first17: &str) -> String {
    format!("{first17}{}", check_char(first17))
}

/// The same number with a digit of its sequence mistyped: fails the check character, so it
/// is kept as unverified.
fn mistyped(id: &str) -> String {
    let mut typo = id.to_owned();
    let digit = if &id[15..16] == "3" { "4" } else { "3" };
    typo.replace_range(15..16, digit);
    typo
}

pub async fn seed_population(server: &TestServer) {
    let report = server.seed_patients(1000).await;
    assert!(report.records > 1000, "{report:?}");
}

pub async fn register_then_register_again_with_a_typo(page: &Browser) {
    let id = resident_id("99019919790412006");
    let masked = format!("{}********{}", &id[..6], &id[14..]);
    log_in(page, "village").await;
    page.click_link("患者登记").await;
    page.expect_text("先填写患者信息并查找").await;
    // Nothing filled in: the errors sit beside their fields.
    page.click_button("查找相似患者").await;
    page.expect_text("此项为必填。").await;
    page.expect_text("请填写身份证号，或选择没有身份证号的原因。").await;
    assert_eq!(page.attribute("#f-name", "aria-invalid").await.as_deref(), Some("true"));
    page.expect_no_text("没有找到相似的已登记患者。").await;

    // A new patient: no match, registered as a new person.
    page.fill_labelled("姓名", "司马静怡").await;
    page.select_labelled("性别", "女").await;
    page.fill_labelled("身份证号", &id).await;
    page.fill_labelled("联系电话", "139 0000 4121").await;
    page.fill_labelled("居住村（居）代码", "990121101201").await;
    fill_birth_date_and_search(page, "1979-04-12").await;
    page.expect_text("没有找到相似的已登记患者。").await;
    page.click_button("登记").await;
    assert!(page.current_path().await.starts_with("/patients/"));
    page.expect_text("已登记：").await;
    page.expect_text("关联方式：新建患者").await;
    page.expect_text("司马静怡").await;
    page.expect_text("关联的登记记录 (1)").await;
    page.expect_text(&masked).await;
    page.expect_no_text(&id).await;

    // The same woman again, a homophone in her name and a digit of her ID mistyped: the
    // first registration is offered, and the doctor says it is her.
    page.click_link("患者登记").await;
    page.fill_labelled("姓名", "司马静仪").await;
    page.select_labelled("性别", "女").await;
    page.fill_labelled("身份证号", &mistyped(&id)).await;
    page.fill_labelled("联系电话", "13900004121").await;
    fill_birth_date_and_search(page, "1979-04-12").await;
    page.expect_text("可能是同一人").await;
    page.expect_text("司马静怡").await;
    page.expect_text("同音").await;
    page.expect_text("一位不同").await;
    page.expect_text(&masked).await;
    page.expect_text("登记机构").await;
    page.click_button("是此人 — 关联").await;
    page.expect_text("关联方式：登记时确认").await;
    page.expect_text("身份证号未通过校验").await;
    page.expect_text("关联的登记记录 (2)").await;
    page.expect_text("司马静仪").await;
    page.expect_text("未核验：校验位错误").await;
    page.expect_text("关联历史").await;

    // The person page in English.
    page.click_button("English").await;
    page.expect_text("Registrations linked (2)").await;
    page.expect_text("confirmed at registration").await;
    page.click_button("中文").await;
    page.expect_text("关联的登记记录 (2)").await;
}

/// Two registrations of one woman, the second registered as a new person although the index
/// offered the first: the pair waits in the review queue.
pub async fn queue_a_pair(server: &TestServer) {
    seed_population(server).await;
    let ctx = &server.ctx;
    let issued = login(ctx, "township", PASSWORD, SessionKind::Api, None, None).await.unwrap();
    let doctor = authenticate(ctx, &issued.secret, None).await.unwrap().actor;
    let first = RegistrationDraft {
        name: "欧阳明辉".into(),
        sex: "female".into(),
        birth_date: "1985-06-15".into(),
        resident_id: Some(resident_id("99019919850615008")),
        phone: Some("13912345678".into()),
        village_code: Some("990121101201".into()),
        ..RegistrationDraft::default()
    };
    let done = register(ctx, &doctor, &first, RegistrarChoice::Automatic).await.unwrap();
    assert!(done.matches.is_empty(), "{:?}", done.matches.len());
    let second = RegistrationDraft {
        name: "欧阳明慧".into(),
        resident_id: None,
        no_id_reason: Some("not_carried".into()),
        ..first
    };
    let done = register(ctx, &doctor, &second, RegistrarChoice::NewPerson).await.unwrap();
    assert_eq!(done.queued, 1, "the match offered goes to the review queue");
}

pub async fn steward_merges_a_pair_then_undoes_it(page: &Browser) {
    log_in(page, "manager").await;
    page.expect_text("待审核的疑似重复登记（对）").await;
    page.click_link("匹配审核").await;
    page.expect_text("待审核").await;
    // The pair side by side: both names, the level of each field, the source of each record.
    page.expect_text("欧阳明辉 / 欧阳明慧").await;
    page.expect_text("同音").await;
    page.expect_text("东关镇中心卫生院").await;
    page.click_button("同一人（合并）：欧阳明辉 / 欧阳明慧").await;
    page.expect_text("已确认为同一人并合并。").await;
    page.expect_text("关联的登记记录 (2)").await;
    page.expect_text("欧阳明慧").await;
    page.expect_text("主索引操作").await;
    page.expect_text("合并 · ").await;
    let merged_at = page.current_path().await;

    // The pair is gone from the queue.
    page.click_link("匹配审核").await;
    page.expect_no_text("欧阳明辉 / 欧阳明慧").await;

    // Undo needs a reason.
    page.goto(&merged_at).await;
    page.click_button("撤销").await;
    page.expect_text("此项为必填。").await;
    page.fill_labelled("撤销理由", "核对证件后确认是两个人").await;
    page.click_button("撤销").await;
    page.expect_text("已撤销。").await;
    page.expect_text("关联的登记记录 (1)").await;
    page.expect_text("撤销合并").await;
    page.expect_text("已撤销").await;
    page.expect_text("核对证件后确认是两个人").await;
    // The other registration is a person of its own again.
    let survivor = page.text_of("dd.id").await;
    let other = page.attribute("ul.operations a[href^='/patients/']", "href").await.unwrap();
    page.goto(&other).await;
    page.expect_text("欧阳明慧").await;
    page.expect_text("关联的登记记录 (1)").await;
    page.expect_no_text("拆分登记记录").await;

    // Merged again by the steward by number, then one registration split off.
    page.fill_labelled("要并入的患者编号", "not-a-number").await;
    page.click_button("合并到此人").await;
    page.expect_text("请填写完整的患者编号。").await;
    assert_eq!(page.attribute("#merge-other_person_id", "value").await.as_deref(), Some("not-a-number"));
    page.fill_labelled("要并入的患者编号", survivor.trim()).await;
    page.fill_labelled("合并理由", "复核后确认为同一人").await;
    page.click_button("合并到此人").await;
    page.expect_text("已合并。").await;
    page.expect_text("关联的登记记录 (2)").await;
    let second = page.text_of(".records .card:last-child h3").await;
    page.select_labelled("要拆分出去的记录", &second).await;
    page.click_button("拆分为新患者").await;
    page.expect_text("此项为必填。").await;
    page.fill_labelled("拆分理由", "登记时误关联").await;
    page.click_button("拆分为新患者").await;
    page.expect_text("已拆分，该记录现属一位新患者。").await;
    page.expect_text("关联的登记记录 (1)").await;
    page.expect_text("拆分记录").await;
}

/// A consortium manager loads a township's old patient list from the browser: the rows that
/// cannot be used are listed with their reason, the rest is loaded and matched; a broken file
/// is refused with its line and loads nothing.
pub async fn steward_imports_a_patient_list(page: &Browser) {
    let dir = tempfile::tempdir().unwrap();
    let header = "门诊号,姓名,性别,出生日期,身份证号,联系电话,村代码";
    let rows = [
        "MZ001,王秀英,女,1956-03-08,,13900000001,990121101201",
        "MZ002,李建国,男,1949-10-01,,13900000002,990121101201",
        ",张无号,男,1980-01-01,,,",
        "MZ003,赵明,男,1990-12-24,,13900000003,990121101202",
        "MZ004,钱芳,女,2001-07-15,,,990121101202",
    ];
    let good = dir.path().join("old-list.csv");
    std::fs::write(&good, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, format!("{header}\n{}\n\"MZ009,孙破,男\n", rows[0])).unwrap();

    log_in(page, "manager").await;
    page.click_link("名单导入").await;
    page.fill_labelled("来源名称", "东关镇旧系统").await;
    page.attach_labelled("CSV 文件", &broken).await;
    page.click_button("导入并匹配").await;
    page.expect_text("文件无法读取，未导入任何记录").await;
    page.expect_text("line 3").await;
    page.expect_no_text("导入完成").await;

    page.attach_labelled("CSV 文件", &good).await;
    page.click_button("导入并匹配").await;
    page.expect_text("导入完成").await;
    page.expect_text("新增 4 条，更新 0 条，未变 0 条，拒收 1 行。").await;
    page.expect_text("no local id").await;
    page.expect_text("新建患者 4 人").await;

    // The same file again creates nothing new.
    page.attach_labelled("CSV 文件", &good).await;
    page.click_button("导入并匹配").await;
    page.expect_text("新增 0 条，更新 0 条，未变 4 条，拒收 1 行。").await;
}
