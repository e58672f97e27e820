//! Keyset pagination parameters shared by every list.

/// Default number of rows per page.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page a client may ask for; larger requests are refused, not silently cut.
pub const MAX_PAGE_SIZE: u32 = 500;

/// A page request: size and the opaque cursor of the previous page's last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted, 1..=[`MAX_PAGE_SIZE`].
    pub size: u32,
    /// Sort key of the last row already shown; `None` for the first page.
    pub after: Option<String>,
}

impl PageRequest {
    /// The first page of the default size.
    pub fn first() -> Self {
        Self { size: DEFAULT_PAGE_SIZE, after: None }
    }
}

/// One page of results and the cursor of the next, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Sort key to pass as `after` for the next page; `None` on the last page.
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `size + 1` fetched rows: the extra row only says that more exist.
    pub fn from_overfetch(mut rows: Vec<T>, size: u32, key: impl Fn(&T) -> String) -> Self {
        let more = rows.len() > size as usize;
        rows.truncate(size as usize);
        let next_after = if more { rows.last().map(&key) } else { None };
        Self { items: rows, next_after }
    }

    /// Maps the rows, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_after: self.next_after }
    }
}
