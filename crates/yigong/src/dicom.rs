//! The DICOM service provider of `serve` (C-ECHO, C-STORE) wired to the imaging use cases, and
//! `yigong dicom node add`.

use std::sync::Arc;

use yigong_app::Ctx;
use yigong_app::imaging::{self, IngestError};
use yigong_dicom::scp::{Outcome, Received, ScpConfig, Sink, status};
use yigong_domain::ids::ConsortiumId;

/// Stores what the provider receives for one consortium.
pub struct AppSink {
    /// The platform.
    pub ctx: Ctx,
    /// Whose nodes may send.
    pub consortium: ConsortiumId,
}

impl Sink for AppSink {
    async fn store(&self, r: Received) -> Outcome {
        let result = imaging::ingest_dimse(
            &self.ctx,
            self.consortium,
            &r.calling_ae,
            &r.transfer_syntax,
            &r.sop_instance_uid,
            r.dataset,
        )
        .await;
        match result {
            Ok(_) => Outcome::success(),
            Err(IngestError::UnknownNode(ae)) => {
                tracing::warn!(peer = %r.peer, ae, "C-STORE from an unregistered node refused");
                Outcome::failure(status::SOP_CLASS_NOT_SUPPORTED, format!("AE {ae} is not registered"))
            }
            Err(IngestError::App(e)) => {
                tracing::error!(error = %e, "C-STORE could not be stored");
                Outcome::failure(status::OUT_OF_RESOURCES, "the instance could not be stored")
            }
            Err(
                e @ IngestError::Invalid(yigong_dicom::DicomError::Missing(_)) | e @ IngestError::Mismatch,
            ) => Outcome::failure(status::DATASET_MISMATCH, e.to_string()),
            Err(e) => Outcome::failure(status::CANNOT_UNDERSTAND, e.to_string()),
        }
    }
}

/// Starts the provider on `listener` for `consortium`.
pub fn spawn(
    ctx: Ctx,
    consortium: ConsortiumId,
    listener: tokio::net::TcpListener,
    config: ScpConfig,
) -> tokio::task::JoinHandle<()> {
    let sink = Arc::new(AppSink { ctx, consortium });
    tokio::spawn(async move {
        if let Err(e) = yigong_dicom::scp::serve(listener, Arc::new(config), sink).await {
            tracing::error!(error = %e, "the DICOM service provider stopped");
        }
    })
}

/// `yigong dicom node add`: registers a node (AE title) of an institution (by code).
pub async fn add_node(
    ctx: &Ctx,
    consortium: ConsortiumId,
    ae_title: &str,
    institution_code: &str,
    description: &str,
) -> anyhow::Result<String> {
    let console = yigong_app::access::console(consortium);
    let institution =
        yigong_app::registry::find_institution_by_code(ctx, &console, consortium, institution_code)
            .await
            .map_err(|e| anyhow::anyhow!("institution {institution_code}: {e}"))?;
    imaging::register_node(ctx, &console, ae_title, institution.id, description)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!("DICOM node {ae_title} registered for {} ({institution_code})", institution.name))
}
