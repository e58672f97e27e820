//! The DICOM service provider of `serve` (C-ECHO, C-STORE) wired to the imaging use cases, and
//! `yigong dicom node add`.

use std::sync::Arc;

use yigong_app::Ctx;
use yigong_app::imaging::{self, DimseSink};
use yigong_dicom::scp::ScpConfig;
use yigong_domain::ids::ConsortiumId;

/// Starts the provider on `listener` for `consortium`.
pub fn spawn(
    ctx: Ctx,
    consortium: ConsortiumId,
    listener: tokio::net::TcpListener,
    config: ScpConfig,
) -> tokio::task::JoinHandle<()> {
    let sink = Arc::new(DimseSink { ctx, consortium });
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
