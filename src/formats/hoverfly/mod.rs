//! Hoverfly simulation documents (`/api/v2/simulation`), every `schemaVersion`: v1, v2, v3,
//! v4, v5, v5.1, v5.2, v5.3 and any other `v5.x`, as Hoverfly v1.10+ accepts.
//!
//! Reading: the document is parsed once into a JSON value, `meta.schemaVersion` picks the
//! version view, and the view is upgraded into the canonical
//! [`Simulation`](crate::model::Simulation), as Hoverfly upgrades its views
//! (`core/handlers/v2/simulation_views_upgrade.go`). By default the upgrade keeps what
//! Hoverfly's loses (legacy query strings become `query` maps, v1 delays stay, `null` means
//! absent, v1 recording headers stay exact); [`Upgrade::HoverflyCompat`] reproduces
//! Hoverfly v1.12.10's upgrade instead. Writing: v5.x views with Hoverfly's export shape and
//! its `encodedBody` rule; the oldest v5.x that expresses the content by default; maps in the
//! order read, or in Go's sorted order with [`KeyOrder::Hoverfly`] (`--hoverfly-compat`).
//!
//! The module is laid out by seam: [`de`] (how Hoverfly's Go structs read JSON), `shared`
//! (views every version reads alike), one reader per version under `read/`, one writer per
//! version under `write/`, and [`legacy`] for the pre-simulation admin API bodies.

mod de;
pub mod legacy;
mod read;
mod shared;
mod version;
mod write;

pub use de::parse_document;
pub use read::read_value;
pub use version::SchemaVersion;
pub use write::v1::write_simulation_v1;
pub use write::v4::write_v4;
pub use write::v5::write_v5;
pub use write::{KeyOrder, WriteOptions, detect_content_type, needs_base64};

use crate::codec::json::{JsonError, Located};
use std::io;

/// The largest Hoverfly document read, in bytes. A simulation is one JSON document parsed
/// whole, so this bounds memory; 1 GiB is far beyond any real simulation.
pub const MAX_DOCUMENT_BYTES: u64 = 1 << 30;

/// Why a Hoverfly file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not valid JSON: the line, and the pointer to the value being read.
    #[error("{file}:{}: {error}", .error.line)]
    Syntax {
        /// The input's display name.
        file: String,
        /// Where and what.
        error: JsonError,
    },
    /// Valid JSON of the wrong shape, located by a JSON pointer.
    #[error("{file}: {}", Located(pointer, message))]
    Shape {
        /// The input's display name.
        file: String,
        /// RFC 6901 pointer, empty for the whole document (shown as `/`).
        pointer: String,
        /// What was expected.
        message: String,
    },
    /// A `schemaVersion` no Hoverfly ever accepted.
    #[error(
        "{file}: /meta/schemaVersion: {}",
        crate::formats::detect::unsupported_version(version)
    )]
    UnsupportedVersion {
        /// The input's display name.
        file: String,
        /// The value found.
        version: String,
    },
    /// Reading the input failed.
    #[error("reading {file}")]
    Io {
        /// The input's display name.
        file: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub(super) fn shape(
        file: &str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Shape {
            file: file.to_owned(),
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Why a body marked `encodedBody` is refused, for `convert`'s reader and `validate`'s
/// `encoded-body` rule alike.
pub fn not_base64(e: &base64::DecodeError) -> String {
    format!(
        "encodedBody is true but the body is not base64 ({}); Hoverfly would serve an empty body",
        e.to_string().trim_end_matches('.').to_lowercase()
    )
}

/// How older versions are upgraded into the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Upgrade {
    /// Keep everything a v5.x file can express (wirecap's default).
    #[default]
    Faithful,
    /// Reproduce Hoverfly v1.12.10's upgrade, losses included.
    HoverflyCompat,
}

#[cfg(test)]
mod tests;
