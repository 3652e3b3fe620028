//! HTTP/1.x over one reassembled TCP connection: incremental message parsing ([`parser`]), body
//! framing ([`framing`]), FIFO pairing of requests and responses ([`connection`]), and content
//! decoding ([`decode`]).
//!
//! Fifth step of the capture pipeline, after [`crate::capture::tcp_reassembly`]. Each direction has a
//! [`MessageParser`] fed in stream order; "need more bytes" is its normal resting state. Heads
//! are parsed by httparse; body length follows RFC 9112 §6.3: no body for a response to HEAD,
//! for 1xx, 204 and 304; chunked when it is the final transfer coding (trailers kept); else
//! Content-Length; else, for a response, until the connection closes. Responses pair with
//! requests strictly in order (RFC 9112 §9.3.2), so pipelining pairs correctly; interim 1xx
//! responses (`Expect: 100-continue`) attach to the next final response. A `101 Switching
//! Protocols` or a successful `CONNECT` ends HTTP parsing for the connection; when the 101
//! accepts `Upgrade: h2c`, the request and the bytes not yet parsed are kept for
//! [`crate::capture::session`] to go on with HTTP/2 ([`Connection::take_h2c`]).
//!
//! After a gap, or when a capture starts mid-connection, a parser resynchronises at the next
//! line that starts a message (a known method and `HTTP/1.x`, or an `HTTP/1.x nnn` status
//! line). A gap inside a body of known length keeps the parser in step: that one message is
//! dropped (counted), the next one is found where the length says. When a gap swallows whole
//! messages, pairing is repaired with two rules: a response cannot start before its request
//! (else it is an orphan), and after a gap in the responses every open request followed by a
//! later request sent before the next response began is taken as answered inside the gap.
//! Both assume no pipelining across the gap; with pipelining there, pairs can still be off.
//!
//! Header values that are not UTF-8 (obs-text) are kept with U+FFFD in place of the bad bytes,
//! because the model holds header values as strings.

mod connection;
mod decode;
mod framing;
mod head;
mod parser;

pub use crate::capture::connection::{FlowInfo, HttpOptions, Ready, Role};
pub use connection::{Connection, H2cUpgrade};
pub(crate) use decode::decode_content;
pub use decode::{Decoded, decode_bodies, decoded_memo};
pub use framing::Framing;
pub(in crate::capture) use head::looks_like_start;
pub use parser::{Event, GapEffect, Head, MessageParser};

/// Longest message head (request or status line plus header fields) accepted by default
/// (`--max-head-bytes`); a longer one is skipped to the next message and noted as a limit.
pub const MAX_HEAD_BYTES: usize = 64 << 10;

/// Most header (or trailer) fields in one message by default (`--max-headers`); a message with
/// more is skipped and noted as a limit.
pub const MAX_HEADERS: usize = 256;

/// Longest chunk-size line of a chunked body.
pub const MAX_CHUNK_LINE_BYTES: usize = 4096;

/// Largest body kept per message by default (`--max-body-bytes`, HTTP/1 and HTTP/2); the rest
/// is counted and discarded, and the exchange kept with its body cut and noted.
pub const MAX_BODY_BYTES: usize = 64 << 20;

/// Most room set aside for a body ahead of its bytes, on the word of its `Content-Length`.
pub const RESERVE_BODY_BYTES: usize = 1 << 20;

/// Largest body produced by content decoding (a guard against decompression bombs); past it
/// the encoded bytes are kept as they are.
pub const MAX_DECODED_BYTES: usize = 256 << 20;

/// Requests waiting for their response on one connection (pipelining depth); past it the
/// oldest is written out without a response.
pub const MAX_PIPELINED: usize = 1024;

/// Bytes scanned for a first message start on a connection before it is called non-HTTP.
pub const MAX_RESYNC_SCAN_BYTES: usize = 256 << 10;
