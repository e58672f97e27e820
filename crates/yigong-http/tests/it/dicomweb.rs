//! Images for the reading centres over DICOMweb (STOW-RS, QIDO-RS, WADO-RS) and over DIMSE
//! (C-ECHO, C-STORE with DCMTK's `echoscu`/`storescu` as the peer), with the public sample files
//! of the pydicom wheel: what is stored once is found, read back byte for byte and rendered;
//! Chinese names in GB18030 and UTF-8 decode; bad objects are refused and nothing is stored.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

fn file(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A STOW-RS body of Part 10 objects.
fn multipart(parts: &[Vec<u8>]) -> (String, Vec<u8>) {
    let boundary = "XyigongBoundary0123";
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes());
        body.extend_from_slice(p);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/related; type=\"application/dicom\"; boundary={boundary}"), body)
}

async fn stow(app: &TestApp, token: &str, parts: &[Vec<u8>]) -> (StatusCode, Value) {
    let (ct, body) = multipart(parts);
    let (status, _, bytes) = app
        .send_bytes(Method::POST, "/dicomweb/studies", token, &[("content-type", ct.as_str())], body)
        .await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn qido(app: &TestApp, token: &str, uri: &str) -> Vec<Value> {
    let r = app.get_as(token, uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text);
    assert_eq!(r.headers["content-type"], "application/dicom+json");
    r.body.as_array().unwrap_or_else(|| panic!("{uri}: {}", r.text)).clone()
}

fn first(v: &Value, tag: &str) -> Value {
    v[tag]["Value"][0].clone()
}

struct Sites {
    township: String,
    township_doctor: String,
    reader: String,
    other_doctor: String,
}

async fn sites(app: &TestApp) -> Sites {
    let base = app.consortium().await;
    let (hospital, township, _village) = app.small_county().await;
    let other = app
        .institution(
            &base,
            serde_json::json!({"code": "T02", "name": "白沙镇卫生院", "tier": "township_centre", "division_code": "990121102000"}),
        )
        .await;
    Sites {
        township: township.clone(),
        township_doctor: app.user("tdoc", "township_doctor", Some(&township)).await,
        reader: app.user("reader", "reader", Some(&hospital)).await,
        other_doctor: app.user("odoc", "township_doctor", Some(&other)).await,
    }
}

pub async fn stow_qido_wado(app: TestApp) {
    let Some(dir) = yigong_testkit::dicom_samples() else { return };
    let t = dir.join("test_files");
    let c = dir.join("charset_files");
    let s = sites(&app).await;
    let ct = file(&t, "CT_small.dcm");
    let (status, answer) =
        stow(&app, &s.township_doctor, &[ct.clone(), file(&t, "MR_small_RLE.dcm"), file(&c, "chrX2.dcm")])
            .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let stored = answer["00081199"]["Value"].as_array().unwrap();
    assert_eq!(stored.len(), 3);
    assert!(answer.get("00081198").is_none());
    let ct_url = first(&stored[0], "00081190").as_str().unwrap().to_owned();
    assert!(ct_url.contains("/dicomweb/studies/"), "{ct_url}");

    // The same instance again: answered as stored, and still one instance.
    let (status, _) = stow(&app, &s.township_doctor, std::slice::from_ref(&ct)).await;
    assert_eq!(status, StatusCode::OK);

    // QIDO as the county's reader.
    let all = qido(&app, &s.reader, "/dicomweb/studies").await;
    assert_eq!(all.len(), 3, "{all:?}");
    let by_id = qido(&app, &s.reader, "/dicomweb/studies?PatientID=1CT1").await;
    assert_eq!(by_id.len(), 1);
    let study_uid = first(&by_id[0], "0020000D").as_str().unwrap().to_owned();
    assert_eq!(first(&by_id[0], "00201208"), 1, "one instance despite the second STOW");
    assert_eq!(first(&by_id[0], "00080061"), "CT");
    let chinese = qido(&app, &s.reader, "/dicomweb/studies?PatientName=Wang*").await;
    assert_eq!(chinese.len(), 1);
    assert_eq!(first(&chinese[0], "00100010")["Ideographic"], "王^小东", "GB18030 decoded");
    // An ideographic name matches too.
    assert_eq!(qido(&app, &s.reader, "/dicomweb/studies?PatientName=%E7%8E%8B*").await.len(), 1);
    assert_eq!(qido(&app, &s.reader, "/dicomweb/studies?ModalitiesInStudy=MR").await.len(), 1);
    assert_eq!(qido(&app, &s.reader, "/dicomweb/studies?PatientID=1CT*&limit=1").await.len(), 1);
    assert!(qido(&app, &s.reader, "/dicomweb/studies?PatientID=nobody").await.is_empty());
    let r = app.get_as(&s.reader, "/dicomweb/studies?PatientSex=F").await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("query", "unsupported")));
    let r = app.get_as(&s.reader, "/dicomweb/studies?StudyDate=2004").await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", Some(("StudyDate", "invalid")));

    // Series and instances of the study.
    let series = qido(&app, &s.reader, &format!("/dicomweb/studies/{study_uid}/series")).await;
    assert_eq!(series.len(), 1);
    assert_eq!(first(&series[0], "00080060"), "CT");
    let series_uid = first(&series[0], "0020000E").as_str().unwrap().to_owned();
    let instances =
        qido(&app, &s.reader, &format!("/dicomweb/studies/{study_uid}/series/{series_uid}/instances")).await;
    assert_eq!(instances.len(), 1);
    let sop = first(&instances[0], "00080018").as_str().unwrap().to_owned();
    assert_eq!(first(&instances[0], "00280010"), 128);

    // WADO-RS: the object back, byte for byte.
    let uri = format!("/dicomweb/studies/{study_uid}/series/{series_uid}/instances/{sop}");
    let (status, headers, body) = app.send_bytes(Method::GET, &uri, &s.reader, &[], vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let ctype = headers["content-type"].to_str().unwrap().to_owned();
    assert!(ctype.starts_with("multipart/related; type=\"application/dicom\""), "{ctype}");
    assert!(body.windows(ct.len()).any(|w| w == ct.as_slice()), "the stored object is returned unchanged");
    let (status, _, whole) =
        app.send_bytes(Method::GET, &format!("/dicomweb/studies/{study_uid}"), &s.reader, &[], vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(whole.windows(ct.len()).any(|w| w == ct.as_slice()), "the study holds the object");

    // Metadata: every attribute, pixel data by reference.
    let meta = app.get_as(&s.reader, &format!("/dicomweb/studies/{study_uid}/metadata")).await;
    assert_eq!(meta.status, StatusCode::OK, "{}", meta.text);
    let m = &meta.body[0];
    assert_eq!(first(m, "00080060"), "CT");
    assert!(m["7FE00010"]["BulkDataURI"].as_str().unwrap().ends_with("/frames/1"));
    assert!(m["7FE00010"].get("InlineBinary").is_none());

    // A rendered frame, JPEG by default, PNG when asked, with a window.
    let frame = format!("{uri}/frames/1/rendered");
    let (status, headers, jpeg) = app.send_bytes(Method::GET, &frame, &s.reader, &[], vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let (status, headers, png) = app
        .send_bytes(
            Method::GET,
            &format!("{frame}?window=40,400"),
            &s.reader,
            &[("accept", "image/png")],
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(&png[..4], b"\x89PNG");
    let r = app.get_as(&s.reader, &format!("{uri}/frames/2/rendered")).await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", None);

    // A township doctor elsewhere sees none of it.
    assert!(qido(&app, &s.other_doctor, "/dicomweb/studies").await.is_empty());
    let r = app.get_as(&s.other_doctor, &format!("/dicomweb/studies/{study_uid}/series")).await;
    r.assert_error(StatusCode::NOT_FOUND, "not_found", None);
    // The sending site sees its own.
    assert_eq!(qido(&app, &s.township_doctor, "/dicomweb/studies").await.len(), 3);
}

pub async fn stow_refuses_bad_objects(app: TestApp) {
    let Some(dir) = yigong_testkit::dicom_samples() else { return };
    let t = dir.join("test_files");
    let s = sites(&app).await;
    let mr = file(&t, "MR_small.dcm");
    // A truncated object beside a good one: 202, the bad one failed with its reason.
    let (status, answer) = stow(&app, &s.township_doctor, &[file(&t, "MR_truncated.dcm"), mr]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let failed = answer["00081198"]["Value"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(first(&failed[0], "00081197"), 0xC000);
    assert!(first(&failed[0], "00000902").as_str().unwrap().contains("truncated"), "{answer}");
    assert_eq!(answer["00081199"]["Value"].as_array().unwrap().len(), 1);
    // Only foreign bytes: 409, nothing stored.
    let (status, answer) = stow(&app, &s.township_doctor, &[b"%PDF-1.4 not an image".to_vec()]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(qido(&app, &s.reader, "/dicomweb/studies").await.len(), 1);
    // Not multipart/related of application/dicom: 415 with the reason.
    let (status, _, body) = app
        .send_bytes(
            Method::POST,
            "/dicomweb/studies",
            &s.township_doctor,
            &[("content-type", "application/json")],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "unsupported_media_type");
    let (status, _, _) = app
        .send_bytes(
            Method::POST,
            "/dicomweb/studies",
            &s.township_doctor,
            &[("content-type", "multipart/related; type=\"application/pdf\"; boundary=x")],
            b"--x--".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A role without clinical writing is refused before the body is read.
    let manager = app.user("mgr", "consortium_manager", None).await;
    let (ct, body) = multipart(&[file(&t, "CT_small.dcm")]);
    let (status, _, _) = app
        .send_bytes(Method::POST, "/dicomweb/studies", &manager, &[("content-type", ct.as_str())], body)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(qido(&app, &s.reader, "/dicomweb/studies").await.len(), 1);
}

/// DCMTK's tool `name`, or `None` (skip, saying so); under `CI=true` a missing tool fails.
fn dcmtk(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|f| f.is_file()));
    if found.is_none() {
        assert!(!yigong_testkit::ci_strict(), "DCMTK's {name} is needed under CI (apt-get install dcmtk)");
        eprintln!("skipped: DCMTK's {name} is not installed");
    }
    found
}

fn run(tool: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(tool).env("TCP_NODELAY", "1").args(args).output().expect("run the DCMTK tool")
}

pub async fn dimse_echo_and_store_with_dcmtk(app: TestApp) {
    let Some(dir) = yigong_testkit::dicom_samples() else { return };
    let (Some(echoscu), Some(storescu)) = (dcmtk("echoscu"), dcmtk("storescu")) else { return };
    let s = sites(&app).await;
    let township = yigong_domain::ids::InstitutionId::from_uuid(s.township.parse().unwrap());
    let console = yigong_app::access::console(app.consortium_id);
    yigong_app::imaging::register_node(&app.ctx, &console, "TOWNSHIP_DR", township, "乡镇卫生院 DR")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let sink =
        Arc::new(yigong_app::imaging::DimseSink { ctx: app.ctx.clone(), consortium: app.consortium_id });
    let config = Arc::new(yigong_dicom::scp::ScpConfig { ae_title: "YIGONG".into(), ..Default::default() });
    let server = tokio::spawn(yigong_dicom::scp::serve(listener, config, sink));

    let echo = tokio::task::spawn_blocking({
        let (echoscu, port) = (echoscu.clone(), port.clone());
        move || run(&echoscu, &["-aet", "TOWNSHIP_DR", "-aec", "YIGONG", "127.0.0.1", &port])
    })
    .await
    .unwrap();
    assert!(echo.status.success(), "echoscu: {}", String::from_utf8_lossy(&echo.stderr));

    // Uncompressed objects and the UTF-8 and GB18030 charset files in one association; each
    // compressed encoding in its own, proposed as such (DCMTK proposes one compressed syntax at
    // a time): RLE, JPEG baseline, JPEG 2000, JPEG-LS.
    let t = dir.join("test_files");
    let c = dir.join("charset_files");
    let path = |p: PathBuf| p.display().to_string();
    let batches: Vec<(Option<&str>, Vec<String>)> = vec![
        (
            None,
            vec![
                path(t.join("CT_small.dcm")),
                path(t.join("MR_small_implicit.dcm")),
                path(c.join("chrX1.dcm")),
                path(c.join("chrX2.dcm")),
            ],
        ),
        (Some("-xr"), vec![path(t.join("MR_small_RLE.dcm"))]),
        (Some("-xy"), vec![path(t.join("SC_rgb_jpeg_dcmtk.dcm"))]),
        (Some("-xv"), vec![path(t.join("MR_small_jp2klossless.dcm"))]),
        (Some("-xt"), vec![path(t.join("MR_small_jpeg_ls_lossless.dcm"))]),
    ];
    let mut files = Vec::new();
    for (option, batch) in batches {
        files.extend(batch.iter().cloned());
        let store = tokio::task::spawn_blocking({
            let (storescu, port) = (storescu.clone(), port.clone());
            move || {
                let mut args: Vec<&str> = option.into_iter().collect();
                args.extend(["-R", "-aet", "TOWNSHIP_DR", "-aec", "YIGONG", "127.0.0.1", port.as_str()]);
                args.extend(batch.iter().map(String::as_str));
                run(&storescu, &args)
            }
        })
        .await
        .unwrap();
        let err = String::from_utf8_lossy(&store.stderr).into_owned();
        assert!(store.status.success() && !err.contains("E: "), "storescu {option:?}: {err}");
    }

    let studies = qido(&app, &s.reader, "/dicomweb/studies").await;
    let instances: i64 = studies.iter().map(|st| first(st, "00201208").as_i64().unwrap()).sum();
    // The MR sample exists in several encodings under one SOP Instance UID: stored once.
    let distinct: std::collections::BTreeSet<String> = files
        .iter()
        .map(|f| yigong_dicom::parse_part10(&std::fs::read(f).unwrap()).unwrap().instance.sop_instance_uid)
        .collect();
    assert_eq!(instances, distinct.len() as i64, "{studies:?}");
    assert!(distinct.len() < files.len());
    let names: Vec<Value> = studies.iter().map(|st| first(st, "00100010")["Ideographic"].clone()).collect();
    assert!(names.contains(&Value::from("王^小東")), "ISO_IR 192: {names:?}");
    assert!(names.contains(&Value::from("王^小东")), "GB18030: {names:?}");
    // The images came from the registered node's institution: its doctors see them.
    assert_eq!(qido(&app, &s.township_doctor, "/dicomweb/studies").await.len(), studies.len());

    // A second sending changes nothing.
    let again = tokio::task::spawn_blocking({
        let (storescu, port, file) = (storescu.clone(), port.clone(), files[0].clone());
        move || run(&storescu, &["-aet", "TOWNSHIP_DR", "-aec", "YIGONG", "127.0.0.1", &port, &file])
    })
    .await
    .unwrap();
    assert!(again.status.success());
    let after: i64 = qido(&app, &s.reader, "/dicomweb/studies")
        .await
        .iter()
        .map(|st| first(st, "00201208").as_i64().unwrap())
        .sum();
    assert_eq!(after, instances);

    // An unregistered node is refused, and nothing is stored.
    let stranger = tokio::task::spawn_blocking({
        let (storescu, port) = (storescu.clone(), port.clone());
        let file = t.join("MR_small.dcm").display().to_string();
        move || run(&storescu, &["-v", "-aet", "STRANGER", "-aec", "YIGONG", "127.0.0.1", &port, &file])
    })
    .await
    .unwrap();
    let out =
        String::from_utf8_lossy(&stranger.stderr).into_owned() + &String::from_utf8_lossy(&stranger.stdout);
    assert!(out.contains("0x0122") || out.contains("Refused"), "the refusal names its status: {out}");
    let finally: i64 = qido(&app, &s.reader, "/dicomweb/studies")
        .await
        .iter()
        .map(|st| first(st, "00201208").as_i64().unwrap())
        .sum();
    assert_eq!(finally, instances);
    server.abort();
}

/// A synthetic CT slice of study `study`, instance `k`.
fn slice(study: u128, k: u128) -> Vec<u8> {
    use yigong_dicom::synthetic::{Slice, part10, uid};
    part10(&Slice {
        study_uid: &uid(study << 16),
        series_uid: &uid((study << 16) | 1),
        sop_uid: &uid((study << 16) | (2 + k)),
        patient_id: &format!("SYN{study}"),
        patient_name: "Ceshi^Bingren=测试^病人",
        birth_date: "19600101",
        sex: "M",
        accession: &format!("SA{study}"),
        study_date: "20261201",
        number: k as u32 + 1,
        size: 32,
    })
}

pub async fn concurrent_senders_index_each_instance_once(app: TestApp) {
    let s = sites(&app).await;
    // Four clients at once, each with the same three slices and one of its own.
    let shared: Vec<Vec<u8>> = (0..3).map(|k| slice(77, k)).collect();
    let bodies: Vec<Vec<Vec<u8>>> = (0..4u128)
        .map(|client| {
            let mut parts = shared.clone();
            parts.push(slice(77, 10 + client));
            parts
        })
        .collect();
    let sends: Vec<_> = bodies.iter().map(|parts| stow(&app, &s.township_doctor, parts)).collect();
    for (status, answer) in futures::future::join_all(sends).await {
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["00081199"]["Value"].as_array().unwrap().len(), 4);
    }
    let studies = qido(&app, &s.reader, "/dicomweb/studies?PatientID=SYN77").await;
    assert_eq!(studies.len(), 1);
    assert_eq!(first(&studies[0], "00201208"), 7, "3 shared + 4 own, each once: {studies:?}");
    assert_eq!(first(&studies[0], "00201206"), 1);
    let uid = first(&studies[0], "0020000D").as_str().unwrap().to_owned();
    let instances = qido(&app, &s.reader, &format!("/dicomweb/studies/{uid}/instances")).await;
    assert_eq!(instances.len(), 7);
    let series = qido(&app, &s.reader, &format!("/dicomweb/studies/{uid}/series")).await;
    assert_eq!(first(&series[0], "00201209"), 7);
}
