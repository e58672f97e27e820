//! The DICOM upper-layer service provider: C-ECHO and C-STORE (PS3.7 §9.1, PS3.4 Annex A and B)
//! on the dicom-ul association. Every accepted socket has `TCP_NODELAY` set and each PDU goes
//! out in one write, so a client's small requests are not held back by Nagle's algorithm.
//!
//! A received instance is handed to a [`Sink`] with the data set bytes exactly as received; the
//! C-STORE response is sent only once the sink has answered, so what is acknowledged is stored.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dicom_core::{DataElement, PrimitiveValue, Tag, VR, dicom_value};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;
use dicom_ul::ServerAssociationOptions;
use dicom_ul::pdu::{PDataValue, PDataValueType, Pdu, PresentationContextResultReason};
use dicom_ul::prelude::*;
use tokio::net::TcpListener;

/// The transfer syntaxes accepted, in our order of preference after the caller's.
pub const TRANSFER_SYNTAXES: &[&str] = &[
    "1.2.840.10008.1.2.1",    // Explicit VR Little Endian
    "1.2.840.10008.1.2",      // Implicit VR Little Endian
    "1.2.840.10008.1.2.5",    // RLE Lossless
    "1.2.840.10008.1.2.4.50", // JPEG Baseline (Process 1)
    "1.2.840.10008.1.2.4.51", // JPEG Extended (Process 2 & 4)
    "1.2.840.10008.1.2.4.57", // JPEG Lossless (Process 14)
    "1.2.840.10008.1.2.4.70", // JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80", // JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81", // JPEG-LS Near-Lossless
    "1.2.840.10008.1.2.4.90", // JPEG 2000 Lossless
    "1.2.840.10008.1.2.4.91", // JPEG 2000
    "1.2.840.10008.1.2.2",    // Explicit VR Big Endian (retired)
];

/// DIMSE status codes used here.
pub mod status {
    /// Success.
    pub const SUCCESS: u16 = 0x0000;
    /// Refused: out of resources.
    pub const OUT_OF_RESOURCES: u16 = 0xA700;
    /// Error: data set does not match SOP class.
    pub const DATASET_MISMATCH: u16 = 0xA900;
    /// Error: cannot understand.
    pub const CANNOT_UNDERSTAND: u16 = 0xC000;
    /// Refused: SOP class not supported.
    pub const SOP_CLASS_NOT_SUPPORTED: u16 = 0x0122;
    /// Unrecognised operation.
    pub const UNRECOGNIZED_OPERATION: u16 = 0x0211;
}

/// How the provider runs.
#[derive(Debug, Clone)]
pub struct ScpConfig {
    /// Our AE title.
    pub ae_title: String,
    /// The largest PDU we accept.
    pub max_pdu: u32,
    /// How long a silent association is kept.
    pub idle_timeout: Duration,
}

impl Default for ScpConfig {
    fn default() -> Self {
        Self { ae_title: "YIGONG".into(), max_pdu: 65_536, idle_timeout: Duration::from_secs(60) }
    }
}

/// One instance received over C-STORE.
#[derive(Debug)]
pub struct Received {
    /// The caller's AE title.
    pub calling_ae: String,
    /// The caller's address.
    pub peer: SocketAddr,
    /// The negotiated transfer syntax of the data set.
    pub transfer_syntax: String,
    /// Affected SOP Class UID of the request.
    pub sop_class_uid: String,
    /// Affected SOP Instance UID of the request.
    pub sop_instance_uid: String,
    /// The data set bytes as received.
    pub dataset: Vec<u8>,
}

/// What became of a received instance: a DIMSE status and, for failures, a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// DIMSE status.
    pub status: u16,
    /// Error Comment (0000,0902), at most 64 characters.
    pub comment: Option<String>,
}

impl Outcome {
    /// Stored (or already stored).
    pub fn success() -> Self {
        Self { status: status::SUCCESS, comment: None }
    }

    /// A failure with its reason.
    pub fn failure(status: u16, comment: impl Into<String>) -> Self {
        let mut c: String = comment.into();
        if c.len() > 64 {
            let mut end = 64;
            while !c.is_char_boundary(end) {
                end -= 1;
            }
            c.truncate(end);
        }
        Self { status, comment: Some(c) }
    }
}

/// Where received instances go.
pub trait Sink: Send + Sync + 'static {
    /// Stores one instance durably and answers with its status.
    fn store(&self, received: Received) -> impl Future<Output = Outcome> + Send;
}

/// Accepts associations on `listener` until it fails; each runs on its own task.
pub async fn serve<S: Sink>(
    listener: TcpListener,
    config: Arc<ScpConfig>,
    sink: Arc<S>,
) -> std::io::Result<()> {
    loop {
        let (socket, peer) = listener.accept().await?;
        let config = config.clone();
        let sink = sink.clone();
        tokio::spawn(async move {
            if let Err(e) = socket.set_nodelay(true) {
                tracing::debug!(%peer, error = %e, "TCP_NODELAY not set");
            }
            if let Err(e) = association(socket, peer, &config, &*sink).await {
                tracing::info!(%peer, error = %e, "DICOM association ended with an error");
            }
        });
    }
}

/// Buffers of one presentation context: the command and the data set as they arrive.
#[derive(Default)]
struct Pending {
    command: Vec<u8>,
    /// The parsed command, once complete, waiting for its data set.
    request: Option<InMemDicomObject>,
    dataset: Vec<u8>,
}

async fn association<S: Sink>(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    config: &ScpConfig,
    sink: &S,
) -> Result<(), dicom_ul::association::Error> {
    let mut options = ServerAssociationOptions::new()
        .accept_any()
        .ae_title(config.ae_title.clone())
        .promiscuous(true)
        .strict(false)
        .max_pdu_length(config.max_pdu)
        .read_timeout(config.idle_timeout)
        .with_abstract_syntax(uids::VERIFICATION);
    for ts in TRANSFER_SYNTAXES {
        options = options.with_transfer_syntax(*ts);
    }
    let mut assoc = options.establish_async(socket).await?;
    let calling_ae = assoc.peer_ae_title().trim().to_owned();
    let contexts: HashMap<u8, (String, String)> = assoc
        .presentation_contexts()
        .iter()
        .filter(|pc| pc.reason == PresentationContextResultReason::Acceptance)
        .map(|pc| (pc.id, (pc.abstract_syntax.clone(), pc.transfer_syntax.trim_end_matches('\0').to_owned())))
        .collect();
    tracing::debug!(%peer, calling_ae, contexts = contexts.len(), "DICOM association accepted");
    let mut pending: HashMap<u8, Pending> = HashMap::new();
    loop {
        let pdu = match assoc.receive().await {
            Ok(p) => p,
            Err(dicom_ul::association::Error::ConnectionClosed { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        match pdu {
            Pdu::PData { data } => {
                for pdv in data {
                    let pc = pdv.presentation_context_id;
                    let p = pending.entry(pc).or_default();
                    match pdv.value_type {
                        PDataValueType::Command => {
                            p.command.extend_from_slice(&pdv.data);
                            if !pdv.is_last {
                                continue;
                            }
                            let bytes = std::mem::take(&mut p.command);
                            let Ok(cmd) = InMemDicomObject::read_dataset_with_ts(
                                bytes.as_slice(),
                                &IMPLICIT_VR_LITTLE_ENDIAN.erased(),
                            ) else {
                                tracing::info!(%peer, "unreadable DIMSE command; aborting");
                                return assoc.abort().await;
                            };
                            let field = uint(&cmd, tags::COMMAND_FIELD).unwrap_or(0);
                            let has_dataset =
                                uint(&cmd, tags::COMMAND_DATA_SET_TYPE).unwrap_or(0x0101) != 0x0101;
                            if field == 0x0030 {
                                let rsp = echo_response(&cmd);
                                assoc.send(&command_pdu(pc, &rsp)).await?;
                            } else if field == 0x0001 && has_dataset {
                                p.request = Some(cmd);
                                p.dataset.clear();
                            } else {
                                let rsp = response(
                                    &cmd,
                                    field | 0x8000,
                                    &Outcome::failure(
                                        status::UNRECOGNIZED_OPERATION,
                                        "only C-ECHO and C-STORE are served",
                                    ),
                                );
                                assoc.send(&command_pdu(pc, &rsp)).await?;
                            }
                        }
                        PDataValueType::Data => {
                            p.dataset.extend_from_slice(&pdv.data);
                            if !pdv.is_last {
                                continue;
                            }
                            let dataset = std::mem::take(&mut p.dataset);
                            let Some(cmd) = p.request.take() else {
                                tracing::info!(%peer, "data set without a C-STORE request; ignored");
                                continue;
                            };
                            let outcome = match contexts.get(&pc) {
                                Some((_, ts)) => {
                                    let received = Received {
                                        calling_ae: calling_ae.clone(),
                                        peer,
                                        transfer_syntax: ts.clone(),
                                        sop_class_uid: text(&cmd, tags::AFFECTED_SOP_CLASS_UID),
                                        sop_instance_uid: text(&cmd, tags::AFFECTED_SOP_INSTANCE_UID),
                                        dataset,
                                    };
                                    sink.store(received).await
                                }
                                None => Outcome::failure(
                                    status::CANNOT_UNDERSTAND,
                                    "unknown presentation context",
                                ),
                            };
                            let rsp = response(&cmd, 0x8001, &outcome);
                            assoc.send(&command_pdu(pc, &rsp)).await?;
                        }
                    }
                }
            }
            Pdu::ReleaseRQ => {
                assoc.send(&Pdu::ReleaseRP).await?;
                return Ok(());
            }
            Pdu::AbortRQ { .. } => return Ok(()),
            other => {
                tracing::debug!(%peer, pdu = ?other, "unexpected PDU ignored");
            }
        }
    }
}

fn uint(obj: &InMemDicomObject, tag: Tag) -> Option<u16> {
    obj.element(tag).ok()?.to_int::<u16>().ok()
}

fn text(obj: &InMemDicomObject, tag: Tag) -> String {
    obj.element(tag)
        .ok()
        .and_then(|e| e.to_str().ok().map(|s| s.trim_end_matches(['\0', ' ']).to_owned()))
        .unwrap_or_default()
}

fn echo_response(cmd: &InMemDicomObject) -> InMemDicomObject {
    let id = uint(cmd, tags::MESSAGE_ID).unwrap_or(0);
    InMemDicomObject::command_from_element_iter([
        DataElement::new(tags::AFFECTED_SOP_CLASS_UID, VR::UI, PrimitiveValue::from(uids::VERIFICATION)),
        DataElement::new(tags::COMMAND_FIELD, VR::US, dicom_value!(U16, [0x8030])),
        DataElement::new(tags::MESSAGE_ID_BEING_RESPONDED_TO, VR::US, dicom_value!(U16, [id])),
        DataElement::new(tags::COMMAND_DATA_SET_TYPE, VR::US, dicom_value!(U16, [0x0101])),
        DataElement::new(tags::STATUS, VR::US, dicom_value!(U16, [status::SUCCESS])),
    ])
}

fn response(cmd: &InMemDicomObject, field: u16, outcome: &Outcome) -> InMemDicomObject {
    let id = uint(cmd, tags::MESSAGE_ID).unwrap_or(0);
    let mut elements = vec![
        DataElement::new(
            tags::AFFECTED_SOP_CLASS_UID,
            VR::UI,
            PrimitiveValue::from(even_uid(&text(cmd, tags::AFFECTED_SOP_CLASS_UID))),
        ),
        DataElement::new(tags::COMMAND_FIELD, VR::US, dicom_value!(U16, [field])),
        DataElement::new(tags::MESSAGE_ID_BEING_RESPONDED_TO, VR::US, dicom_value!(U16, [id])),
        DataElement::new(tags::COMMAND_DATA_SET_TYPE, VR::US, dicom_value!(U16, [0x0101])),
        DataElement::new(tags::STATUS, VR::US, dicom_value!(U16, [outcome.status])),
    ];
    let instance = text(cmd, tags::AFFECTED_SOP_INSTANCE_UID);
    if !instance.is_empty() {
        elements.push(DataElement::new(
            tags::AFFECTED_SOP_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from(even_uid(&instance)),
        ));
    }
    if let Some(c) = &outcome.comment {
        let mut c = c.clone();
        if c.len() % 2 == 1 {
            c.push(' ');
        }
        elements.push(DataElement::new(tags::ERROR_COMMENT, VR::LO, PrimitiveValue::from(c)));
    }
    InMemDicomObject::command_from_element_iter(elements)
}

/// A UID padded to even length with NUL, as the encoding requires.
fn even_uid(uid: &str) -> String {
    let mut s = uid.to_owned();
    if s.len() % 2 == 1 {
        s.push('\0');
    }
    s
}

fn command_pdu(pc: u8, cmd: &InMemDicomObject) -> Pdu {
    let mut data = Vec::with_capacity(160);
    cmd.write_dataset_with_ts(&mut data, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .expect("a command set encodes into memory");
    Pdu::PData {
        data: vec![PDataValue {
            presentation_context_id: pc,
            value_type: PDataValueType::Command,
            is_last: true,
            data,
        }],
    }
}
