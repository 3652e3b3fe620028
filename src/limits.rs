//! The resource limits a run can raise (or lower) from the command line, in one place.
//!
//! Each limit is a named constant where it is enforced, with a doc comment saying why it is
//! there; [`Limits`] carries the values in force through the capture pipeline, so a flag can
//! change them. Hitting a limit never stops a run and never lets memory grow with the input:
//! what is over it is skipped or cut, counted, and reported in the summary (a `Note::Limit`
//! of [`crate::capture::Note`] for captures; an invalid record naming the line for JSON
//! inputs). README "Limits" has the table.

use crate::capture::{http1, tcp_reassembly};

/// Deepest nesting of JSON arrays and objects in one record (an http-types line, a HAR entry,
/// a Hoverfly document). This is serde_json's own recursion limit, fixed in the crate: deeper
/// input is an error naming the line, never a stack overflow. It is not a flag because
/// raising it would need serde_json's unbounded-depth mode on a grown stack, and the formats'
/// own structure is a few levels deep (bodies are strings, whatever JSON they hold).
pub const MAX_JSON_DEPTH: usize = 128;

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
