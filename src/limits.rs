//! The resource limits a run can raise (or lower) from the command line, in one place.
//!
//! Each limit is a named constant where it is enforced, with a doc comment saying why it is
//! there; [`Limits`] carries the values in force through the capture pipeline, so a flag can
//! change them. Hitting a limit never stops a run and never lets memory grow with the input:
//! what is over it is skipped or cut, counted, and reported in the summary (a `Note::Limit`
//! of [`crate::capture::Note`] for captures; an invalid record naming the line for JSON
//! inputs). README "Limits" has the table.

use crate::capture::{http1, tcp_reassembly};

/// Deepest nesting of JSON arrays and objects in one record (an http-types line, an entry of
/// a HAR file or of an http-types array, a page or custom field of a HAR log, a Hoverfly
/// document), the record's own root being depth 1. Deeper input is an invalid record naming
/// the line and the pointer where the limit is passed, never a stack overflow;
/// `--max-json-depth` raises it (Hoverfly's Go reader allows 10,000). Up to serde_json's own
/// limit ([`crate::codec::json::SERDE_JSON_DEPTH`]) nothing is measured; past it, the depth is
/// measured before the text is parsed without that limit, on a stack of [`stack_bytes`].
pub const MAX_JSON_DEPTH: usize = 128;

/// Stack bytes one level of JSON nesting may take on any path a record goes through: parsing
/// into a value, walking it (validation, redaction), writing it and dropping it. Measured at
/// a depth of 100,000 in a debug build (`tests/limits.rs`), the deepest path took between 2
/// and 3 KiB a level (it overflowed at 2 and passed at 3); this is twice that.
const STACK_PER_JSON_LEVEL: usize = 6 << 10;

/// The stack of a thread that parses or holds JSON nested `json_depth` deep: Rust's default
/// for a spawned thread (2 MiB), which holds serde_json's own limit, plus
/// [`STACK_PER_JSON_LEVEL`] a level. Only what is used is ever touched.
pub fn stack_bytes(json_depth: usize) -> usize {
    (2usize << 20).saturating_add(json_depth.saturating_mul(STACK_PER_JSON_LEVEL))
}

/// The limits in force for one run. [`Limits::default`] gives the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Out-of-order bytes buffered per TCP direction before the hole in front of them is
    /// declared a gap ([`tcp_reassembly::MAX_BUFFERED_BYTES`]).
    pub flow_buffer_bytes: usize,
    /// TCP flows tracked at once; past it, idle flows are finished early
    /// ([`crate::capture::MAX_OPEN_FLOWS`]).
    pub open_flows: usize,
    /// Header (or trailer) fields in one HTTP/1 message ([`http1::MAX_HEADERS`]).
    pub headers: usize,
    /// Bytes of one HTTP/1 message head ([`http1::MAX_HEAD_BYTES`]).
    pub head_bytes: usize,
    /// Body bytes kept per message, HTTP/1 and HTTP/2 ([`http1::MAX_BODY_BYTES`]).
    pub body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            flow_buffer_bytes: tcp_reassembly::MAX_BUFFERED_BYTES,
            open_flows: crate::capture::MAX_OPEN_FLOWS,
            headers: http1::MAX_HEADERS,
            head_bytes: http1::MAX_HEAD_BYTES,
            body_bytes: http1::MAX_BODY_BYTES,
        }
    }
}
