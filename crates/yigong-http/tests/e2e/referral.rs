//! Two-way referral through the pages: a village doctor refers a patient up to the county
//! hospital, the referral centre accepts, books and receives them, the county specialist refers
//! them back down to the township, the township accepts and completes the follow-up, and the
//! up-referral shows the loop closed. A green chest-pain referral is accepted at once, pages the
//! county's referral centre, and its time stamps give the case's FMC-to-ECG interval.

use chrono::{Duration, Timelike, Utc};
use yigong_app::auth::{SessionKind, UserDraft, authenticate, login};
use yigong_app::mpi::{RegistrarChoice, register};
use yigong_domain::access::Role;
use yigong_domain::facility::{InstitutionKind, Tier};
use yigong_domain::identity::check_char;
use yigong_domain::patient::RegistrationDraft;
use yigong_testkit::Backend;
use yigong_testkit::browser::Browser;

use crate::pages::log_in;
use crate::{PASSWORD, TestServer};

const UP_PATIENT: &str = "司马秋兰";
const GREEN_PATIENT: &str = "诸葛建国";

/// What the set-up made: the institutions' names and the patients' person ids.
struct Seeded {
    hospital: String,
    township: String,
    up_person: String,
    green_person: String,
}

fn resident_id(first17: &str) -> String {
    format!("{first17}{}", check_char(first17))
}

/// Adds the county hospital's referral coordinator and a specialist there, and registers one
/// patient at the village point and one at the township centre.
async fn seed(server: &TestServer) -> Seeded {
    let cfg = yigong_synth::SynthConfig { residents: 0, ..yigong_synth::SynthConfig::demo() };
    let org = yigong_synth::organisation(&cfg);
    let first =
        |tier: Tier| org.institutions.iter().find(|i| i.kind == InstitutionKind::Member(tier)).unwrap();
    let hospital = first(Tier::CountyGeneral);
    let township = first(Tier::TownshipCentre);
    let console = yigong_app::access::console(server.consortium_id);
    for (username, role) in
        [("coordinator", Role::ReferralCoordinator), ("specialist", Role::CountySpecialist)]
    {
        let draft = UserDraft {
            username: username.into(),
            display_name: format!("{username}测试"),
            password: PASSWORD.into(),
            role: role.as_str().into(),
            institution_id: Some(hospital.id),
            staff_id: None,
        };
        yigong_app::auth::create_user(&server.ctx, &console, server.consortium_id, draft).await.unwrap();
    }
    let mut persons = Vec::new();
    for (user, name, sex, birth, id17) in [
        ("village", UP_PATIENT, "female", "1958-09-12", "99019919580912002"),
        ("township", GREEN_PATIENT, "male", "1966-02-03", "99019919660203001"),
    ] {
        let session = login(&server.ctx, user, PASSWORD, SessionKind::Api, None, None).await.unwrap();
        let actor = authenticate(&server.ctx, &session.secret, None).await.unwrap().actor;
        let draft = RegistrationDraft {
            name: name.into(),
            sex: sex.into(),
            birth_date: birth.into(),
            resident_id: Some(resident_id(id17)),
            ..Default::default()
        };
        let registered = register(&server.ctx, &actor, &draft, RegistrarChoice::NewPerson).await.unwrap();
        persons.push(registered.person_id.to_string());
    }
    Seeded {
        hospital: hospital.name.clone(),
        township: township.name.clone(),
        green_person: persons.pop().unwrap(),
        up_person: persons.pop().unwrap(),
    }
}

async fn log_out(page: &Browser) {
    page.click_button("退出登录").await;
    page.expect_text("登录").await;
}

/// The referral open now, by its id in the path.
async fn referral_path(page: &Browser) -> String {
    let path = page.current_path().await;
    assert!(path.starts_with("/referrals/"), "on a referral page, not {path}");
    path
}

/// The whole loop: up, accepted, scheduled, arrived, in care; down with the discharge summary;
/// accepted at the township; follow-up done; the up-referral closed.
async fn up_and_down_closes_the_loop(page: &Browser, s: &Seeded) {
    // The village doctor refers the patient up to the county hospital.
    log_in(page, "village").await;
    page.goto(&format!("/patients/{}", s.up_person)).await;
    page.click_link("发起转诊").await;
    page.expect_text(UP_PATIENT).await;
    // Nothing filled in: every required field is marked, nothing is saved.
    page.click_button("提交转诊").await;
    page.expect_text("部分内容填写有误").await;
    page.expect_text("须先取得患者的知情同意。").await;
    page.select_labelled("转往机构", &s.hospital).await;
    page.select_labelled("转诊原因", "诊断超出本机构条件").await;
    page.fill_labelled("主诉", "反复头晕两周").await;
    page.fill_labelled("病情描述", "血压控制不佳，最高 186/110 mmHg，伴头晕。").await;
    page.fill_labelled("诊断1 ICD-10 编码", "I10").await;
    page.fill_labelled("诊断1 名称", "原发性高血压").await;
    page.fill_labelled("检查1 项目", "血压").await;
    page.fill_labelled("检查1 结果", "186/110 mmHg").await;
    page.select_labelled("知情同意", "患者已同意转诊，并同意向接收机构共享病历").await;
    page.click_button("提交转诊").await;
    page.expect_text("转诊已提交。").await;
    assert_eq!(page.text_of("#referral-state").await, "已提交");
    let up = referral_path(page).await;
    let slip_no = page.text_of(".crumbs").await.rsplit(' ').next().unwrap().to_owned();
    assert!(slip_no.starts_with("ZZ"), "slip number {slip_no}");
    // The printable slip carries the full ID number.
    page.click_link("打印转诊单").await;
    page.expect_text("存根").await;
    page.expect_text(&resident_id("99019919580912002")).await;
    page.expect_text("I10").await;
    page.click_link("← 返回转诊单").await;
    log_out(page).await;

    // The county hospital's referral centre finds it under 新转入 and works it.
    log_in(page, "coordinator").await;
    page.expect_text("转诊工作台").await;
    page.click_link("转诊").await;
    page.expect_text("新转入").await;
    page.expect_text(UP_PATIENT).await;
    page.click_link(&slip_no).await;
    page.select_labelled("接收科室", "心血管内科").await;
    page.click_button("接收").await;
    page.expect_text("已接收转诊。").await;
    page.expect_text("心血管内科").await;
    page.fill_labelled("号源 / 床位", "心内科门诊 3 号").await;
    page.click_button("安排就诊").await;
    page.expect_text("已安排就诊。").await;
    page.click_button("确认到达").await;
    page.expect_text("已确认患者到达。").await;
    page.click_button("开始诊治").await;
    page.expect_text("已开始诊治。").await;
    assert_eq!(page.text_of("#referral-state").await, "诊治中");
    log_out(page).await;

    // The specialist discharges the patient back to the township.
    log_in(page, "specialist").await;
    page.goto(&up).await;
    page.click_link("开具下转单").await;
    page.expect_text("开具下转单").await;
    page.select_labelled("转往机构", &s.township).await;
    page.fill_labelled("病情描述", "住院 7 天，血压控制平稳。").await;
    page.fill_labelled("治疗结果", "好转").await;
    page.fill_labelled("出院小结", "入院后调整降压方案，血压 132/84 mmHg，出院。").await;
    page.fill_labelled("用药方案", "氨氯地平 5mg 每日一次").await;
    page.select_labelled("知情同意", "患者已同意转诊，并同意向接收机构共享病历").await;
    page.click_button("提交转诊").await;
    page.expect_text("转诊已提交。").await;
    page.expect_text("出院小结").await;
    let down = referral_path(page).await;
    page.goto(&up).await;
    assert_eq!(page.text_of("#referral-state").await, "已完成");
    log_out(page).await;

    // The township accepts the down-referral; the follow-up task appears.
    log_in(page, "township").await;
    page.goto("/referrals?tab=new").await;
    page.expect_text(UP_PATIENT).await;
    page.goto(&down).await;
    page.select_labelled("接收科室", "全科医疗科").await;
    page.click_button("接收").await;
    page.expect_text("已接收转诊。").await;
    page.expect_text("随访到期").await;
    page.goto("/").await;
    page.expect_text(UP_PATIENT).await;
    page.click_link("随访任务").await;
    page.expect_text(UP_PATIENT).await;
    // A follow-up without findings is refused beside its form.
    page.click_button("完成随访").await;
    page.expect_text("此项为必填。").await;
    page.fill_labelled("随访情况", "血压 128/80 mmHg，按时服药，无不适。").await;
    page.click_button("完成随访").await;
    page.expect_text("随访已完成。").await;
    page.expect_text("目前没有待完成的随访任务。").await;
    log_out(page).await;

    // The village doctor sees the up-referral closed as a loop.
    log_in(page, "village").await;
    page.goto(&up).await;
    assert_eq!(page.text_of("#referral-state").await, "已闭环");
    page.expect_text("下转随访完成，自动闭环").await;
}

/// Typing into a `datetime-local` control depends on the browser's locale: year first
/// (zh-CN), or month/day/year with a 12-hour clock (en-US). Tries both, checking the page.
async fn record_stamp(page: &Browser, milestone: &str, at: chrono::DateTime<chrono::FixedOffset>) {
    let shown = at.format("%Y年%-m月%-d日 %H:%M:00").to_string();
    let (pm, hour12) = at.hour12();
    let variants = [
        format!(
            "{}\u{E014}{}{}{}{}",
            at.format("%Y"),
            at.format("%m"),
            at.format("%d"),
            at.format("%H"),
            at.format("%M")
        ),
        format!(
            "{}{}{}\u{E014}{:02}{}{}",
            at.format("%m"),
            at.format("%d"),
            at.format("%Y"),
            hour12,
            at.format("%M"),
            if pm { "P" } else { "A" }
        ),
    ];
    for keys in variants {
        page.select_labelled("时间节点", milestone).await;
        page.fill_labelled("时间", &keys).await;
        page.select_labelled("来源", "手工录入").await;
        page.click_button("记录时间节点").await;
        let main = page.text_of("main").await;
        if main.contains("已记录时间节点。") && main.contains(&shown) {
            return;
        }
    }
    panic!("the time field took neither year-first nor month/day/year keys for {shown}");
}

/// A green chest-pain referral: accepted at once, the county's centre paged, two stamps eight
/// minutes apart, FMC-to-ECG 8 min within its target.
async fn green_chest_pain(page: &Browser, s: &Seeded) {
    log_in(page, "township").await;
    page.goto(&format!("/patients/{}", s.green_person)).await;
    page.click_link("发起转诊").await;
    page.select_labelled("紧急程度", "绿色通道").await;
    page.select_labelled("绿色通道中心", "胸痛中心").await;
    page.select_labelled("转往机构", &s.hospital).await;
    page.select_labelled("转诊原因", "超出本机构救治能力").await;
    page.fill_labelled("病情描述", "胸痛两小时，心电图 V1–V4 导联 ST 段抬高。").await;
    page.fill_labelled("诊断1 ICD-10 编码", "I21.9").await;
    page.fill_labelled("诊断1 名称", "急性心肌梗死").await;
    page.select_labelled("知情同意", "患者已同意转诊，并同意向接收机构共享病历").await;
    page.click_button("提交转诊").await;
    page.expect_text("转诊已提交。").await;
    // Green skips approval: accepted by the system at once.
    assert_eq!(page.text_of("#referral-state").await, "已接收");
    page.expect_text("绿色通道").await;
    let slip_no = page.text_of(".crumbs").await.rsplit(' ').next().unwrap().to_owned();
    log_out(page).await;

    log_in(page, "coordinator").await;
    page.goto("/notifications").await;
    page.expect_text("绿色通道呼叫").await;
    page.click_link(&slip_no).await;
    page.expect_text("胸痛中心").await;
    let china = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let fmc = (Utc::now() - Duration::minutes(30)).with_timezone(&china).with_second(0).unwrap();
    record_stamp(page, "首次医疗接触（FMC）", fmc).await;
    record_stamp(page, "首份心电图", fmc + Duration::minutes(8)).await;
    let row = page.text_of("#referral-green-metrics tbody tr:first-child").await;
    assert!(row.contains("FMC 至首份心电图") && row.contains("8 分钟") && row.contains("✓"), "{row}");

    // The month's metrics count it; the number links to the referral behind it, de-identified.
    page.click_link("转诊").await;
    page.click_link("转诊统计").await;
    page.expect_text("绿色通道月度质控").await;
    page.expect_text("接收率（绿色通道）").await;
    let href = page.attribute("#referral-metrics tr.total td:nth-child(3) a", "href").await.unwrap();
    page.goto(&href).await;
    page.expect_text(&slip_no).await;
    page.expect_no_text(GREEN_PATIENT).await;
}

/// Starts a server on `backend`, seeds it, and runs `body` in Chromium.
async fn run(backend: Backend, name: &str, body: for<'a> fn(&'a Browser, &'a Seeded) -> BoxFuture<'a>) {
    let Some(server) = TestServer::start(backend).await else { return };
    let seeded = seed(&server).await;
    let Some(browser) = yigong_testkit::browser::chromium(&server.base_url).await else { return };
    let name = format!("{name}_{backend:?}");
    yigong_testkit::browser::run(browser, &name, async |page| body(page, &seeded).await).await;
}

type BoxFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

fn loop_test<'a>(page: &'a Browser, s: &'a Seeded) -> BoxFuture<'a> {
    Box::pin(up_and_down_closes_the_loop(page, s))
}

fn green_test<'a>(page: &'a Browser, s: &'a Seeded) -> BoxFuture<'a> {
    Box::pin(green_chest_pain(page, s))
}

mod referral_loop {
    use yigong_testkit::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::run(Backend::Sqlite, "referral_loop", super::loop_test).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::run(Backend::Postgres, "referral_loop", super::loop_test).await;
    }
}

mod green_channel {
    use yigong_testkit::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::run(Backend::Sqlite, "green_channel", super::green_test).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::run(Backend::Postgres, "green_channel", super::green_test).await;
    }
}
