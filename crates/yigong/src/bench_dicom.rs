//! `yigong bench-dicom`: ingest and query load for any DICOM archive (this one or another, e.g.
//! Orthanc with its DICOMweb plugin), the same client for both: synthetic CT slices (made by code,
//! no real patient) stored over C-STORE with parallel associations, then over STOW-RS with
//! parallel clients, then QIDO-RS study searches by Patient ID; the server's peak memory read
//! from `/proc` when its process id is given. Loopback or the project's own hosts only.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode, header};
use dicom_core::{DataElement, PrimitiveValue, VR, dicom_value};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;
use dicom_ul::ClientAssociationOptions;
use dicom_ul::pdu::{PDataValue, PDataValueType, Pdu};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::AsyncWriteExt;
use yigong_dicom::synthetic::{self, Slice};

/// Arguments of `yigong bench-dicom`.
#[derive(Debug, clap::Args)]
pub struct DicomBenchArgs {
    /// The DIMSE provider, `HOST:PORT`.
    #[arg(long)]
    pub dicom: String,
    /// Its AE title.
    #[arg(long, default_value = "YIGONG")]
    pub aec: String,
    /// Our AE title (registered with the archive).
    #[arg(long, default_value = "BENCH")]
    pub aet: String,
    /// DICOMweb base URL, e.g. `http://127.0.0.1:8080/dicomweb` or `http://127.0.0.1:8042/dicom-web`.
    #[arg(long)]
    pub url: String,
    /// Bearer token (none: the archive asks for none).
    #[arg(long, conflicts_with = "username")]
    pub token: Option<String>,
    /// A yigong account to log in as (password on standard input).
    #[arg(long)]
    pub username: Option<String>,
    /// Instances per ingest phase.
    #[arg(long, default_value_t = 2000)]
    pub instances: usize,
    /// Parallel associations (C-STORE) and clients (STOW-RS).
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// Instances per STOW-RS request.
    #[arg(long, default_value_t = 10)]
    pub per_request: usize,
    /// QIDO-RS searches.
    #[arg(long, default_value_t = 300)]
    pub queries: usize,
    /// Rows and columns of each slice (128: ≈ 33 KB objects).
    #[arg(long, default_value_t = 128)]
    pub size: u16,
    /// The archive's process id, to read its peak memory (VmHWM) at the end.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// A label for the report (`yigong`, `orthanc`).
    #[arg(long, default_value = "archive")]
    pub label: String,
}

/// One synthetic instance: its patient and its bytes.
struct Made {
    patient_id: String,
    sop_uid: String,
    dataset: Vec<u8>,
    part10: Vec<u8>,
}

/// `count` slices, 20 to a series, one series to a study, one study to a patient; `phase`
/// keeps the two ingest phases' UIDs apart and `run` separates runs.
fn make(count: usize, phase: u128, run: u128, size: u16) -> Vec<Made> {
    (0..count)
        .map(|k| {
            let study = k / 20;
            let patient_id = format!("BP{run:08X}{phase}{study:05}");
            let study_uid = synthetic::uid((run << 64) | (phase << 40) | (study as u128) << 20);
            let series_uid = synthetic::uid((run << 64) | (phase << 40) | (study as u128) << 20 | 1);
            let sop_uid =
                synthetic::uid((run << 64) | (phase << 40) | (study as u128) << 20 | (2 + k as u128 % 20));
            let accession = format!("B{phase}{study:06}");
            let s = Slice {
                study_uid: &study_uid,
                series_uid: &series_uid,
                sop_uid: &sop_uid,
                patient_id: &patient_id,
                patient_name: "Ceshi^Bingren=测试^病人",
                birth_date: "19600101",
                sex: "M",
                accession: &accession,
                study_date: "20261201",
                number: (k % 20) as u32 + 1,
                size,
            };
            Made { dataset: synthetic::dataset_bytes(&s), part10: synthetic::part10(&s), patient_id, sop_uid }
        })
        .collect()
}

fn store_request(id: u16, sop_uid: &str) -> Vec<u8> {
    let even = |s: &str| if s.len() % 2 == 1 { format!("{s}\0") } else { s.to_owned() };
    let cmd = InMemDicomObject::command_from_element_iter([
        DataElement::new(
            tags::AFFECTED_SOP_CLASS_UID,
            VR::UI,
            PrimitiveValue::from(even(uids::CT_IMAGE_STORAGE)),
        ),
        DataElement::new(tags::COMMAND_FIELD, VR::US, dicom_value!(U16, [0x0001])),
        DataElement::new(tags::MESSAGE_ID, VR::US, dicom_value!(U16, [id])),
        DataElement::new(tags::PRIORITY, VR::US, dicom_value!(U16, [0])),
        DataElement::new(tags::COMMAND_DATA_SET_TYPE, VR::US, dicom_value!(U16, [0x0000])),
        DataElement::new(tags::AFFECTED_SOP_INSTANCE_UID, VR::UI, PrimitiveValue::from(even(sop_uid))),
    ]);
    let mut out = Vec::new();
    cmd.write_dataset_with_ts(&mut out, &IMPLICIT_VR_LITTLE_ENDIAN.erased()).expect("encodes");
    out
}

/// Sends `items` over one association; returns how many were answered with success.
async fn store_all(args: &DicomBenchArgs, items: &[&Made]) -> anyhow::Result<usize> {
    let mut assoc = ClientAssociationOptions::new()
        .calling_ae_title(args.aet.as_str())
        .called_ae_title(args.aec.as_str())
        .with_presentation_context(uids::CT_IMAGE_STORAGE, vec![uids::EXPLICIT_VR_LITTLE_ENDIAN])
        .max_pdu_length(65_536)
        .establish_async(args.dicom.as_str())
        .await
        .context("open the association")?;
    assoc.inner_stream().set_nodelay(true).context("TCP_NODELAY")?;
    let pc = assoc.presentation_contexts().first().context("no presentation context accepted")?.id;
    let mut ok = 0;
    for (k, item) in items.iter().enumerate() {
        let id = (k % 65_000) as u16 + 1;
        assoc
            .send(&Pdu::PData {
                data: vec![PDataValue {
                    presentation_context_id: pc,
                    value_type: PDataValueType::Command,
                    is_last: true,
                    data: store_request(id, &item.sop_uid),
                }],
            })
            .await?;
        {
            let mut writer = assoc.send_pdata(pc);
            writer.write_all(&item.dataset).await?;
            writer.finish().await?;
        }
        match assoc.receive().await? {
            Pdu::PData { data } => {
                let bytes: Vec<u8> = data.into_iter().flat_map(|p| p.data).collect();
                let rsp = InMemDicomObject::read_dataset_with_ts(
                    bytes.as_slice(),
                    &IMPLICIT_VR_LITTLE_ENDIAN.erased(),
                )?;
                if rsp.element(tags::STATUS)?.to_int::<u16>()? == 0 {
                    ok += 1;
                }
            }
            other => anyhow::bail!("unexpected answer to C-STORE: {other:?}"),
        }
    }
    assoc.release().await?;
    Ok(ok)
}

struct Http {
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    authorization: Option<String>,
}

impl Http {
    async fn send(
        &self,
        method: Method,
        url: &str,
        ct: Option<&str>,
        body: Vec<u8>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut req =
            Request::builder().method(method).uri(url).header(header::ACCEPT, "application/dicom+json");
        if let Some(a) = &self.authorization {
            req = req.header(header::AUTHORIZATION, a);
        }
        if let Some(ct) = ct {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let resp = self.client.request(req.body(Full::new(Bytes::from(body)))?).await?;
        let status = resp.status();
        Ok((status, resp.into_body().collect().await?.to_bytes()))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Runs the three phases and prints a Markdown row per figure.
pub async fn command(args: DicomBenchArgs) -> anyhow::Result<()> {
    let token = match (&args.token, &args.username) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(u)) => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).context("read the password from standard input")?;
            Some(crate::bench_fhir::login(&args.url, u, password.trim_end()).await?)
        }
        (None, None) => None,
    };
    let http = Arc::new(Http {
        client: Client::builder(TokioExecutor::new()).build_http(),
        authorization: token.map(|t| format!("Bearer {t}")),
    });
    let run = u128::from(rand::random::<u32>());
    let base = args.url.trim_end_matches('/').to_owned();
    let args = Arc::new(args);
    println!("| archive | figure | value |");
    println!("| --- | --- | --- |");

    // 1. C-STORE over parallel associations.
    let made = Arc::new(make(args.instances, 1, run, args.size));
    let size = made.first().map_or(0, |m| m.part10.len());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for a in 0..args.parallel {
        let (args, made) = (args.clone(), made.clone());
        tasks.push(tokio::spawn(async move {
            let mine: Vec<&Made> = made.iter().skip(a).step_by(args.parallel).collect();
            store_all(&args, &mine).await
        }));
    }
    let mut stored = 0;
    for t in tasks {
        stored += t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "| {} | C-STORE, {} associations, {} instances of {:.1} KB | {:.0} instances/s ({stored} stored, {:.2} s) |",
        args.label,
        args.parallel,
        args.instances,
        size as f64 / 1024.0,
        stored as f64 / secs,
        secs
    );

    // 2. STOW-RS with parallel clients.
    let made2 = Arc::new(make(args.instances, 2, run, args.size));
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.parallel {
        let (args, made, next, ok, http, base) =
            (args.clone(), made2.clone(), next.clone(), ok.clone(), http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let from = next.fetch_add(args.per_request, Ordering::SeqCst);
                if from >= made.len() {
                    return Ok::<(), anyhow::Error>(());
                }
                let to = (from + args.per_request).min(made.len());
                let boundary = "benchBoundary7f3a";
                let mut body = Vec::new();
                for m in &made[from..to] {
                    body.extend_from_slice(
                        format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes(),
                    );
                    body.extend_from_slice(&m.part10);
                    body.extend_from_slice(b"\r\n");
                }
                body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
                let ct = format!("multipart/related; type=\"application/dicom\"; boundary={boundary}");
                let (status, text) =
                    http.send(Method::POST, &format!("{base}/studies"), Some(&ct), body).await?;
                if status == StatusCode::OK {
                    ok.fetch_add(to - from, Ordering::SeqCst);
                } else {
                    eprintln!(
                        "STOW-RS: {status} {}",
                        String::from_utf8_lossy(&text).chars().take(300).collect::<String>()
                    );
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let stowed = ok.load(Ordering::SeqCst);
    println!(
        "| {} | STOW-RS, {} clients, {} instances per request | {:.0} instances/s ({stowed} stored, {:.2} s) |",
        args.label,
        args.parallel,
        args.per_request,
        stowed as f64 / secs,
        secs
    );

    // 3. QIDO-RS searches by Patient ID over what was stored.
    let patients: Vec<&str> =
        made.iter().chain(made2.iter()).step_by(20).map(|m| m.patient_id.as_str()).collect();
    let mut samples = Vec::with_capacity(args.queries);
    let mut found = 0usize;
    for k in 0..args.queries {
        let pid = patients[(k * 7919) % patients.len()];
        let url = format!("{base}/studies?PatientID={pid}");
        let started = Instant::now();
        let (status, body) = http.send(Method::GET, &url, None, Vec::new()).await?;
        samples.push(started.elapsed());
        anyhow::ensure!(status == StatusCode::OK, "QIDO {url}: {status}");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        found += v.as_array().map_or(0, Vec::len);
    }
    samples.sort();
    println!(
        "| {} | QIDO-RS studies by PatientID ({} searches, {} studies found) | p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms |",
        args.label,
        args.queries,
        found,
        percentile(&samples, 0.5),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99)
    );
    if let Some(pid) = args.server_pid {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .context("read the archive's /proc status")?;
        let hwm = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .unwrap_or("VmHWM: ?")
            .trim_start_matches("VmHWM:")
            .trim();
        println!("| {} | peak memory of the archive process (VmHWM) | {hwm} |", args.label);
    }
    Ok(())
}
