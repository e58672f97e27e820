//! Examination at the grassroots, diagnosis at the county, through the pages: a township doctor
//! orders a head CT, the images arrive, the doctor sends it for reading; the county reader finds
//! it on the imaging worklist, claims it, sees the frame in the viewer and signs a structured
//! report; the township sees the report back with the HR mark. Ordering the same item again
//! brings up the mutual-recognition prompt, and recognising the earlier result places no order.

use yigong_app::auth::{SessionKind, UserDraft, authenticate, login};
use yigong_app::mpi::{RegistrarChoice, register};
use yigong_domain::access::Role;
use yigong_domain::facility::{InstitutionKind, Tier};
use yigong_domain::patient::RegistrationDraft;
use yigong_domain::reading::{ExamKind, ItemState, RecognitionKind, RecognitionScope};
use yigong_testkit::browser::Browser;

use crate::pages::log_in;
use crate::{PASSWORD, TestServer};

const PATIENT: &str = "东方明月";

/// Adds a reader at the county hospital, the head-CT item (recognisable, the hospital's QC
/// valid), registers the patient at the township centre and opens the township's CT room.
pub async fn seed(server: &TestServer) {
    let cfg = yigong_synth::SynthConfig { residents: 0, ..yigong_synth::SynthConfig::demo() };
    let org = yigong_synth::organisation(&cfg);
    let hospital =
        org.institutions.iter().find(|i| i.kind == InstitutionKind::Member(Tier::CountyGeneral)).unwrap();
    let console = yigong_app::access::console(server.consortium_id);
    let draft = UserDraft {
        username: "reader".into(),
        display_name: "阅片医生测试".into(),
        password: PASSWORD.into(),
        role: Role::Reader.as_str().into(),
        institution_id: Some(hospital.id),
        staff_id: None,
    };
    yigong_app::auth::create_user(&server.ctx, &console, server.consortium_id, draft).await.unwrap();
    let item = yigong_app::reading::Item {
        code: "CT-HEAD".into(),
        name: "头颅CT平扫".into(),
        kind: ExamKind::Ct,
        modality: Some("CT".into()),
        body_part: Some("HEAD".into()),
        price_fen: 18_000,
        recognition: Some((RecognitionKind::Exam, 30, RecognitionScope::Consortium)),
        active: true,
    };
    let until = chrono::NaiveDate::from_ymd_opt(2099, 12, 31).unwrap();
    yigong_app::reading::load_catalogue(
        &server.ctx,
        server.consortium_id,
        &[item],
        &[("CT-HEAD".into(), hospital.id, true, until)],
    )
    .await
    .unwrap();
    let session = login(&server.ctx, "township", PASSWORD, SessionKind::Api, None, None).await.unwrap();
    let actor = authenticate(&server.ctx, &session.secret, None).await.unwrap().actor;
    let draft = RegistrationDraft {
        name: PATIENT.into(),
        sex: "female".into(),
        birth_date: "1971-08-15".into(),
        resident_id: Some(resident_id()),
        ..Default::default()
    };
    register(&server.ctx, &actor, &draft, RegistrarChoice::NewPerson).await.unwrap();
    ct_room(server);
}

fn resident_id() -> String {
    let first17 = "99019919710815002";
    format!("{first17}{}", yigong_domain::identity::check_char(first17))
}

/// The township's CT room: sends one synthetic slice for every new order of the township, as
/// a modality working from its worklist would, until the test ends.
fn ct_room(server: &TestServer) {
    let ctx = server.ctx.clone();
    tokio::spawn(async move {
        use yigong_dicom::synthetic::{Slice, part10, uid};
        let mut sent = std::collections::BTreeSet::new();
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let Ok(session) = login(&ctx, "township", PASSWORD, SessionKind::Api, None, None).await else {
                continue;
            };
            let Ok(actor) = authenticate(&ctx, &session.secret, None).await.map(|a| a.actor) else {
                continue;
            };
            let page = yigong_domain::page::PageRequest::first();
            let Ok(orders) = yigong_app::reading::orders(&ctx, &actor, &[ItemState::Ordered], &page).await
            else {
                continue;
            };
            for (n, w) in orders.items.iter().enumerate() {
                let o = &w.order;
                if !sent.insert(o.id) {
                    continue;
                }
                let seed = o.id.as_u128() >> 64 | n as u128;
                let bytes = part10(&Slice {
                    study_uid: &uid(seed << 16),
                    series_uid: &uid((seed << 16) | 1),
                    sop_uid: &uid((seed << 16) | 2),
                    patient_id: "E2E-R-0001",
                    patient_name: "Dongfang^Mingyue=东方^明月",
                    birth_date: "19710815",
                    sex: "F",
                    accession: &o.accession_no,
                    study_date: "20261205",
                    number: 1,
                    size: 64,
                });
                let _ = yigong_app::imaging::ingest_part10(&ctx, &actor, bytes).await;
            }
        }
    });
}

async fn log_out(page: &Browser) {
    page.click_button("退出登录").await;
    page.expect_text("登录").await;
}

/// Finds the patient from the registration page and opens their page.
async fn open_patient(page: &Browser) {
    page.click_link("患者登记").await;
    page.fill_labelled("姓名", PATIENT).await;
    page.select_labelled("性别", "女").await;
    page.fill_labelled("身份证号", &resident_id()).await;
    crate::patients::fill_birth_date_and_search(page, "1971-08-15").await;
    page.click_link("全景视图").await;
    page.click_link("患者主索引").await;
    page.expect_text(PATIENT).await;
}

/// The whole path, and the recognition prompt after it.
pub async fn order_read_report_and_recognise(page: &Browser) {
    const ITEM: &str = "头颅CT平扫 · CT · ¥180.00 · HR";
    // The township doctor orders a head CT from the patient's page.
    log_in(page, "township").await;
    open_patient(page).await;
    let person = page.current_path().await;
    page.click_link("开检查单").await;
    page.expect_text(PATIENT).await;
    // Without a question: refused beside the form, nothing ordered.
    page.select_labelled("检查项目", ITEM).await;
    page.click_button("提交检查申请").await;
    page.expect_text("临床问题：此项为必填。").await;
    page.select_labelled("检查项目", ITEM).await;
    page.fill_labelled("临床问题", "突发头痛伴呕吐 2 小时，排除脑出血").await;
    page.click_button("提交检查申请").await;
    page.expect_text("检查申请已提交。").await;
    assert_eq!(page.text_of("#exam-state").await, "已申请");
    let exam = page.current_path().await;
    let accession = page.text_of(".crumbs").await.rsplit(' ').next().unwrap().to_owned();
    assert!(accession.starts_with("JC"), "accession {accession}");
    // The CT room sends the images; once they show in the viewer the doctor sends the item.
    let mut shown = false;
    for _ in 0..40 {
        page.goto(&exam).await;
        if page.text_of("main").await.contains("方向键或滚轮翻页") {
            shown = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(shown, "the images arrived");
    page.click_button("送县级阅片").await;
    page.expect_text("已送县级诊断中心阅片。").await;
    assert_eq!(page.text_of("#exam-state").await, "待阅片");
    log_out(page).await;

    // The county reader claims it from the imaging worklist and reports.
    log_in(page, "reader").await;
    page.click_link("诊断中心").await;
    page.expect_text("诊断中心工作列表").await;
    page.expect_text(PATIENT).await;
    page.click_button("认领").await;
    page.expect_text("已认领。").await;
    assert_eq!(page.text_of("#exam-state").await, "阅片中");
    let src = page.attribute("#viewer-image", "src").await.expect("the viewer shows a frame");
    assert!(src.ends_with("/frames/1/rendered"), "{src}");
    page.fill_labelled("检查所见", "右侧基底节区见片状高密度影，约 2.1 cm × 1.8 cm，周围少许水肿。").await;
    page.fill_labelled("诊断意见", "右侧基底节区脑出血").await;
    page.fill_labelled("检查部位", "头颅").await;
    page.click_button("签发报告").await;
    page.expect_text("报告已签发并返回申请机构。").await;
    assert_eq!(page.text_of("#exam-state").await, "报告已返回");
    page.expect_text("所有版本的电子签名均验证通过。").await;
    log_out(page).await;

    // Back at the township: the notification, the report with its HR mark.
    log_in(page, "township").await;
    page.goto("/notifications").await;
    page.expect_text("检查报告已返回").await;
    page.click_link(&accession).await;
    page.expect_text("右侧基底节区脑出血").await;
    assert_eq!(page.text_of("#exam-hr").await, "HR");

    // Ordered again: the prompt offers the earlier result; recognised, nothing is ordered.
    page.goto(&person).await;
    page.click_link("开检查单").await;
    page.select_labelled("检查项目", ITEM).await;
    page.fill_labelled("临床问题", "复查").await;
    page.click_button("提交检查申请").await;
    page.expect_text("该患者已有可互认的结果").await;
    page.expect_text("右侧基底节区脑出血").await;
    page.select_labelled("处理意见", "互认，不再检查").await;
    page.click_button("提交检查申请").await;
    page.expect_text("已互认既往结果，未重复检查。").await;
    assert_eq!(page.current_path().await, exam);
    page.goto("/exams").await;
    let rows = page.text_of("#exam-list tbody").await;
    assert_eq!(rows.matches("JC").count(), 1, "no second order: {rows}");
}
