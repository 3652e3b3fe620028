//! HTTP Archive (HAR 1.2): what browsers' devtools, Charles, Fiddler, mitmproxy, Playwright
//! and Postman export. One JSON document, `{"log": {..., "entries": [...]}}`, one entry per
//! exchange.
//!
//! Reading streams `log.entries`: a thread parses the document and hands over one entry at
//! a time, so memory does not grow with the number of entries. Each entry becomes an
//! [`Exchange`](crate::model::Exchange); what HAR holds and the model has no field for
//! (timings, cache, `serverIPAddress`, `connection`, `pageref`, comments, sizes, custom `_`
//! fields, a file's own spelling of a derived field such as `cookies`) is kept in the
//! exchange's `extra["har"]`, and the page an entry belongs to and the log's `browser` go
//! with the first entry that refers to them. The writer derives every HAR field from the
//! model ([`entry`]) and lays `extra["har"]` over it, so HAR → model → HAR keeps the file's
//! values, and the same `extra` travels through http-types `meta`.
//!
//! Not kept: `log.creator` (the writer is the creator now), and `pages` or `browser` that a
//! file lists after its `entries` (every exporter we know lists them first).

mod entry;
mod read;
mod wirecap;
mod write;

use crate::codec::json::JsonError;

pub use read::{base64_refusal, read};
pub use write::Writer;

/// The key of [`Exchange::extra`](crate::model::Exchange::extra) that holds what a HAR file
/// said beyond the model: `entry` (fields laid over the derived entry), `page` and `log`.
pub const EXTRA_KEY: &str = "har";

/// The custom entry field where the writer keeps what HAR cannot say (see `wirecap.rs`).
const WIRECAP_KEY: &str = "_wirecap";

/// The largest entry read, in bytes: an entry is parsed in one piece, so this bounds memory
/// per entry; 1 GiB is far beyond any real exchange, bodies included.
pub const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// Why a HAR file could not be read (a failure to read the input at all is
/// [`formats::Error::Io`](super::Error::Io)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The document is not HAR: broken JSON, or the wrong shape outside an entry. Reading
    /// stops here.
    #[error("{file}:{line}: {error}")]
    Document {
        /// The input's display name.
        file: String,
        /// 1-based line within the document.
        line: usize,
        /// Pointer from the document's root, and what was expected there.
        error: JsonError,
    },
    /// One entry is not a HAR entry wirecap can read; the entries after it can still be read.
    #[error("{file}:{line}: {error}")]
    Entry {
        /// The input's display name.
        file: String,
        /// 1-based line within the document.
        line: usize,
        /// Pointer from the document's root, and what was expected there.
        error: JsonError,
    },
}

impl Error {
    /// Whether reading can go on with the next entry (`--keep-going`).
    pub fn is_recoverable(&self) -> bool {
        matches!(self, Error::Entry { .. })
    }
}
