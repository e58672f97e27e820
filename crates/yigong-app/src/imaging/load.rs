//! Images loaded in bulk (the synthetic county, a migration from a site's PACS): a Part 10
//! object stored, indexed and audited for a consortium as if the sending institution's modality
//! had sent it over DIMSE under [`LOADER_AE`], with no account behind it. For loaders only: no
//! permission check, as for the other `load` functions.

use yigong_domain::ids::{ConsortiumId, InstitutionId};

use super::{IngestError, Ingested, Sender, check_uids, store_instance};
use crate::Ctx;

/// The calling AE title loaded objects are recorded as sent by.
pub const LOADER_AE: &str = "YIGONG-LOAD";

/// Stores a Part 10 object from `institution` of `consortium`: written under its UIDs, indexed,
/// matched to its exam order (accession number) and patient record, audited as the platform.
/// A second copy changes nothing.
pub async fn ingest_loaded(
    ctx: &Ctx,
    consortium: ConsortiumId,
    institution: InstitutionId,
    bytes: Vec<u8>,
) -> Result<Ingested, IngestError> {
    let parsed = yigong_dicom::parse_part10(&bytes)?;
    check_uids(&parsed.instance)?;
    let file = if bytes.len() >= 132 && &bytes[128..132] == b"DICM" {
        bytes
    } else {
        yigong_dicom::part10(&bytes[parsed.dataset_offset..], &parsed.instance, LOADER_AE)?
    };
    store_instance(ctx, consortium, &parsed.instance, file, Sender::Node { ae_title: LOADER_AE, institution })
        .await
}
