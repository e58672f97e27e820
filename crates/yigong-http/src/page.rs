//! Pagination on the wire: `?page_size=&cursor=` in, `{"items": [...], "next_cursor": ...}` out.
//! Cursors are opaque (base64url of the last row's sort key); clients pass them back as given.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yigong_domain::Invalid;
use yigong_domain::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest};

use crate::error::ApiError;

/// Page parameters of every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, 1 to 500 (default 50).
    pub page_size: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// Checks the size and decodes the cursor.
    pub fn to_request(&self) -> Result<PageRequest, ApiError> {
        let size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if size == 0 || size > MAX_PAGE_SIZE {
            return Err(Invalid::one(
                "page_size",
                "page_size_out_of_range",
                format!("page_size is 1 to {MAX_PAGE_SIZE}"),
            )
            .into());
        }
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                Some(URL_SAFE_NO_PAD.decode(c).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(
                    || ApiError::MalformedRequest("cursor is not one this server issued".into()),
                )?)
            }
        };
        Ok(PageRequest { size, after })
    }
}

/// Encodes a sort key as a cursor.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageView<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> PageView<T> {
    /// Converts a domain page.
    pub fn from_page<U>(page: Page<U>, f: impl FnMut(U) -> T) -> Self {
        let next_cursor = page.next_after.as_deref().map(encode_cursor);
        Self { items: page.items.into_iter().map(f).collect(), next_cursor }
    }
}
