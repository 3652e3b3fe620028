//! TLS between TCP and HTTP: a stream transform that turns each direction's records into
//! plaintext, with the secrets of a key log.
//!
//! Records are reassembled across TCP segments (RFC 8446 §5.1), the handshake is read in the
//! clear up to the ServerHello (and, decrypted, in TLS 1.3 up to each side's Finished), and
//! application data is opened in order with the keys [`keys`] derives from the secrets
//! [`keylog`] holds for the connection's client random. The plaintext leaves as
//! [`Chunk`]s stamped with the origin of the record's first byte, so the HTTP parser above
//! sees the same kind of stream as for cleartext.
//!
//! A connection that cannot be decrypted (no key, an unsupported version or suite, records
//! that fail authentication, a capture that starts after the handshake) stops with one
//! [`Failure`], counted once and never parsed as HTTP. After a gap in the record stream the
//! direction resynchronises at the next record whose header is plausible and which opens
//! under one of the next [`MAX_RESYNC_RECORDS`] sequence numbers; the parser above is told
//! of a gap of unknown size, and trial decryption is bounded in proportion to the input.
//! Early data (0-RTT) is not decrypted: its records fail authentication under the handshake
//! keys and are counted.
//!
//! A TLS 1.2 connection that resumes a session (by id or ticket) without a key log line of its
//! own waits, holding its records, for the end of the batch: the pipeline then adds the
//! sessions every connection established to the key log, in flow order, and tries it again
//! ([`TlsStream::retry`]), so the outcome does not depend on the thread count.

mod ahead;
pub mod handshake;
pub mod keylog;
pub mod keys;

use super::connection::Role;
use super::tcp_reassembly::{Chunk, Origin};
use crate::model::TlsInfo;
use ahead::Ahead;
use handshake::{ClientHello, Message, Reassembler, ServerHello, TLS13};
use keylog::{Resumption, Secrets, SharedKeys};
use keys::{RecordKey, Suite};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;

/// Largest record fragment accepted: 2^14 plaintext plus the 2048 bytes TLS 1.2 allows for
/// expansion (RFC 5246 §6.2.3; TLS 1.3 allows 256).
pub const MAX_RECORD_BYTES: usize = (1 << 14) + 2048;

/// Sequence numbers tried past the last one when resynchronising after a gap.
pub const MAX_RESYNC_RECORDS: u64 = 256;

/// Bytes searched for a record start after a gap before the direction gives up.
pub const MAX_RESYNC_SCAN_BYTES: usize = 1 << 18;

/// Records in a row that fail authentication before the direction gives up.
pub const MAX_FAILED_RECORDS: u32 = 8;

/// Protected records skipped before a TLS 1.3 direction's application key opens one, when the
/// key log has no handshake secrets (a handshake takes a handful).
pub const MAX_UNKEYED_RECORDS: u32 = 16;

/// Client records that may fail under the handshake key as early data (0-RTT, and its
/// EndOfEarlyData) when the ClientHello offered it.
pub const MAX_EARLY_DATA_RECORDS: u32 = 1024;

/// Bytes of trial decryption one direction may spend resynchronising after gaps, in all: a
/// capture of records that look plausible but never open cannot make it spin.
pub const MAX_RESYNC_TRIAL_BYTES: u64 = 256 << 20;

/// Trial decryption allowed after a gap, whatever came since: enough to skip 16 lost records
/// of full size to find the next one (more as more bytes arrive).
pub const RESYNC_TRIAL_BASE_BYTES: u64 = 256 << 10;

/// Further trial decryption allowed per byte received since the gap, so the work stays in
/// proportion to the input (a hostile run of plausible headers gets little).
pub const RESYNC_TRIAL_PER_BYTE: u64 = 16;

/// The size reported for a gap in the plaintext: unknown, larger than any message.
pub const UNKNOWN_GAP: u64 = 1 << 48;

/// Why a TLS connection was not (or not wholly) decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The capture has no ClientHello or ServerHello for it (it started mid-connection).
    NoHandshake,
    /// The key log has no secret for its client random.
    NoKey {
        /// Hex of the client random.
        random: String,
    },
    /// A resumed session whose secrets are not in the key log.
    ResumedWithoutKey {
        /// Hex of the client random.
        random: String,
    },
    /// A protocol version other than TLS 1.2 and 1.3.
    UnsupportedVersion(u16),
    /// A cipher suite wirecap does not decrypt.
    UnsupportedSuite(u16),
    /// The key log has the handshake secrets of a TLS 1.3 connection but not this side's
    /// application traffic secret.
    NoTrafficSecret {
        /// `client` or `server`.
        side: &'static str,
    },
    /// Records that fail authentication: wrong keys, or corrupt ciphertext.
    AuthFailed {
        /// `client` or `server`.
        side: &'static str,
        /// 0-based record sequence number.
        seq: u64,
    },
    /// Bytes missing from the record stream, and no later record could be found.
    RecordGap {
        /// `client` or `server`.
        side: &'static str,
    },
    /// Bytes that are not TLS records where records were expected.
    Malformed {
        /// `client` or `server`.
        side: &'static str,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::NoHandshake => write!(f, "no handshake in the capture"),
            Failure::NoKey { random } => write!(f, "no key for client random {random}"),
            Failure::ResumedWithoutKey { random } => {
                write!(f, "resumed session, no key for client random {random}")
            }
            Failure::NoTrafficSecret { side } => write!(
                f,
                "no {} in the key log",
                if *side == "client" {
                    "CLIENT_TRAFFIC_SECRET_0"
                } else {
                    "SERVER_TRAFFIC_SECRET_0"
                }
            ),
            Failure::UnsupportedVersion(v) => write!(f, "version {}", version_name(*v)),
            Failure::UnsupportedSuite(s) => write!(f, "cipher suite {}", keys::suite_name(*s)),
            Failure::AuthFailed { side, seq } => {
                write!(f, "{side} record {seq} failed authentication")
            }
            Failure::RecordGap { side } => write!(f, "{side} records lost in a gap"),
            Failure::Malformed { side } => write!(f, "{side} bytes are not TLS records"),
        }
    }
}

fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1.0".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        TLS13 => "TLSv1.3".into(),
        v => format!("0x{v:04x}"),
    }
}

/// Whether `data`, a connection's first bytes from `role`, look like TLS: a handshake record
/// holding a ClientHello from the client, or any other record header.
pub fn looks_like_tls(role: Role, data: &[u8]) -> bool {
    match (role, data) {
        (Role::Request, [22, 3, 0..=4, _, _, 1, ..]) => true,
        // Mid-connection: any record header, from either side (HTTP/1.x starts with a
        // letter, HTTP/2 with `PRI`).
        (_, [20..=23, 3, 0..=4, ..]) => true,
        _ => false,
    }
}

/// Counts of the TLS layer, added up over connections.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsStats {
    /// TCP connections that carried TLS.
    pub connections: u64,
    /// Of those, connections whose application data was decrypted.
    pub decrypted: u64,
    /// Of those, connections not decrypted (the notes say why).
    pub not_decrypted: u64,
    /// Records opened.
    pub records: u64,
    /// Records that failed authentication.
    pub failed_records: u64,
    /// Plaintext bytes of application data handed to HTTP.
    pub plaintext_bytes: u64,
}

impl std::ops::AddAssign<&TlsStats> for TlsStats {
    fn add_assign(&mut self, o: &TlsStats) {
        self.connections += o.connections;
        self.decrypted += o.decrypted;
        self.not_decrypted += o.not_decrypted;
        self.records += o.records;
        self.failed_records += o.failed_records;
        self.plaintext_bytes += o.plaintext_bytes;
    }
}

/// One direction's records.
#[derive(Debug, Default)]
struct Half {
    buf: Vec<u8>,
    /// Where each chunk in `buf` began (offset into `buf`), for the records' origins.
    marks: VecDeque<(usize, Origin)>,
    /// Records of this direction are protected (after ChangeCipherSpec in TLS 1.2, after the
    /// ServerHello in TLS 1.3).
    protected: bool,
    key: Option<RecordKey>,
    /// The key that follows `key` (TLS 1.3 application keys after the handshake's).
    next: Option<RecordKey>,
    handshake: Reassembler,
    /// Records opened in this direction.
    opened: u64,
    failed_in_row: u32,
    /// Protected records skipped for want of a handshake key, or as early data.
    unkeyed: u32,
    early: u32,
    /// After a gap: looking for the next record.
    resync: bool,
    scanned: usize,
    trial_bytes: u64,
    /// Trial decryption spent since the last gap, and bytes received since it.
    gap_trials: u64,
    since_gap: u64,
    /// Where in `buf` a gap fell while the connection waited for its session.
    gap_at: Option<usize>,
    /// Records of `buf` opened ahead.
    ahead: Ahead,
}

impl Half {
    fn start_resync(&mut self) {
        self.resync = true;
        self.scanned = 0;
        self.gap_trials = 0;
        self.since_gap = 0;
    }

    fn push(&mut self, data: &[u8], origin: Origin) {
        self.since_gap = self.since_gap.saturating_add(data.len() as u64);
        self.marks.push_back((self.buf.len(), origin));
        self.buf.extend_from_slice(data);
    }

    fn origin_at(&self, at: usize) -> Option<Origin> {
        self.marks
            .iter()
            .take_while(|(o, _)| *o <= at)
            .last()
            .map(|(_, origin)| *origin)
    }

    /// Drops the first `n` bytes.
    fn consume(&mut self, n: usize) {
        self.ahead.put_back(&mut self.buf);
        self.buf.drain(..n);
        while self.marks.len() > 1 && self.marks[1].0 <= n {
            self.marks.pop_front();
        }
        for (o, _) in &mut self.marks {
            *o = o.saturating_sub(n);
        }
        if let Some(gap) = &mut self.gap_at {
            *gap = gap.saturating_sub(n);
        }
        if self.buf.is_empty() {
            self.marks.clear();
        }
    }

    /// Opens a protected record in place with the current key, else with the next (seq 0),
    /// switching to it. `None` when neither opens it.
    fn open(
        &mut self,
        header: &[u8; 5],
        body: std::ops::Range<usize>,
    ) -> Option<(u8, std::ops::Range<usize>)> {
        let start = body.start;
        let body_range = body.clone();
        let body = &mut self.buf[body];
        let shift = |(ty, r): (u8, std::ops::Range<usize>)| (ty, start + r.start..start + r.end);
        if let Some(k) = &mut self.key {
            if self.next.is_none() {
                let guess = !self.resync && self.gap_at.is_none();
                return self
                    .ahead
                    .open(&mut self.buf, k, header, body_range, guess)
                    .ok()
                    .map(shift);
            }
            // A failed attempt leaves `body` undefined: keep a copy for the next key. Only
            // records at the end of a TLS 1.3 handshake take this path.
            let saved = body.to_vec();
            if let Ok(r) = k.open(header, body) {
                return Some(shift(r));
            }
            body.copy_from_slice(&saved);
        }
        let next = self.next.as_mut()?;
        let r = next.open(header, body).ok()?;
        self.key = self.next.take();
        Some(shift(r))
    }
}

/// A TLS connection's state; see the module documentation.
#[derive(Debug)]
pub struct TlsStream {
    keys: SharedKeys,
    halves: [Half; 2],
    client_hello: Option<ClientHello>,
    server_hello: Option<ServerHello>,
    suite: Option<Suite>,
    alpn: Option<String>,
    info: Option<Arc<TlsInfo>>,
    failure: Option<Failure>,
    /// A TLS 1.2 resumption whose session is not known yet: records wait for the end of the
    /// batch, when the sessions of the capture's other connections are known ([`TlsStream::retry`]).
    waiting: Option<Resumption>,
    /// The TLS 1.2 master secret in use, and the sessions it can be resumed by.
    master: Option<Vec<u8>>,
    learned: Vec<(Resumption, Vec<u8>)>,
    /// Sessions to learn once a record has opened under their key.
    unproven: Vec<(Resumption, Vec<u8>)>,
    /// This connection's counts.
    pub stats: TlsStats,
}

fn side(role: Role) -> &'static str {
    match role {
        Role::Request => "client",
        Role::Response => "server",
    }
}

fn index(role: Role) -> usize {
    match role {
        Role::Request => 0,
        Role::Response => 1,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

impl TlsStream {
    /// A connection decrypted with `keys`, looked up when its ServerHello arrives.
    pub fn new(keys: SharedKeys) -> Self {
        Self {
            keys,
            halves: [Half::default(), Half::default()],
            client_hello: None,
            server_hello: None,
            suite: None,
            alpn: None,
            info: None,
            failure: None,
            waiting: None,
            master: None,
            learned: Vec::new(),
            unproven: Vec::new(),
            stats: TlsStats {
                connections: 1,
                ..TlsStats::default()
            },
        }
    }

    /// Why decryption stopped, if it did.
    pub fn failure(&self) -> Option<&Failure> {
        self.failure.as_ref()
    }

    /// Whether any application data was decrypted.
    pub fn decrypted(&self) -> bool {
        self.info.is_some()
    }

    /// Stops the connection for good; what it holds is let go, so a connection that cannot be
    /// decrypted neither keeps memory nor holds back the output order.
    fn fail(&mut self, failure: Failure) {
        self.failure.get_or_insert(failure);
        self.waiting = None;
        self.learned.clear();
        self.unproven.clear();
        for h in &mut self.halves {
            h.buf = Vec::new();
            h.ahead.forget();
            h.marks = VecDeque::new();
            h.handshake = Reassembler::default();
        }
    }

    /// Whether records wait for a TLS 1.2 session another connection may establish.
    pub fn waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// TLS 1.2 sessions this connection established, taken: the pipeline adds them to the
    /// key log between batches, so a later connection that resumes one is decrypted even when
    /// the key log has no line for it (as tshark does).
    pub fn take_learned(&mut self) -> Vec<(Resumption, Vec<u8>)> {
        std::mem::take(&mut self.learned)
    }

    /// Tries a waiting resumption again, once the batch's sessions are in the key log: on
    /// success the held records are opened, client side first (requests before their
    /// responses); else the connection stops as resumed without a key.
    pub fn retry(&mut self, out: &mut impl FnMut(Role, Chunk<'_>, &Arc<TlsInfo>)) {
        if self.failure.is_some() {
            return;
        }
        let Some(by) = self.waiting.take() else {
            return;
        };
        let master = self.resumed_master(&by);
        let Some(master) = master else {
            let failure = self.missing_key_failure();
            self.fail(failure);
            return;
        };
        self.use_secrets(&Secrets {
            master: Some(master),
            ..Secrets::default()
        });
        self.drain(Role::Request, out);
        self.drain(Role::Response, out);
    }

    /// The connection ended: one that decrypted nothing says why, unless it carried no
    /// application data at all.
    pub fn finish(&mut self) {
        if self.waiting.take().is_some() {
            let failure = self.missing_key_failure();
            self.fail(failure);
        }
        if self.failure.is_some() || self.decrypted() {
            return;
        }
        let failed =
            (0..2).find(|&i| self.halves[i].unkeyed > 0 || self.halves[i].failed_in_row > 0);
        if self.client_hello.is_none() || self.server_hello.is_none() {
            if self.halves.iter().any(|h| !h.buf.is_empty()) {
                self.fail(Failure::NoHandshake);
            }
        } else if let Some(i) = failed {
            let role = if i == 0 {
                Role::Request
            } else {
                Role::Response
            };
            self.fail(Failure::AuthFailed {
                side: side(role),
                seq: 0,
            });
        }
    }

    /// The time of the oldest byte held in a partial record.
    pub fn oldest_buffered(&self) -> Option<crate::model::Timestamp> {
        self.halves
            .iter()
            .filter_map(|h| h.marks.front().map(|(_, o)| o.ts))
            .min()
    }

    /// Takes one chunk of ciphertext; `out` receives the plaintext, with the session's
    /// description.
    pub fn feed(
        &mut self,
        role: Role,
        chunk: Chunk<'_>,
        out: &mut impl FnMut(Role, Chunk<'_>, &Arc<TlsInfo>),
    ) {
        if self.failure.is_some() {
            return;
        }
        let half = &mut self.halves[index(role)];
        match chunk {
            Chunk::Data(data, origin) => half.push(data, origin),
            Chunk::Gap(_) if self.waiting.is_some() => {
                // Applied once the session is known: the records before it still open.
                half.gap_at.get_or_insert(half.buf.len());
                return;
            }
            Chunk::Gap(_) => {
                if !half.protected || half.key.is_none() || half.next.is_some() {
                    // Lost in this side's handshake: nothing after it can be opened in order.
                    self.fail(Failure::RecordGap { side: side(role) });
                    return;
                }
                half.buf.clear();
                half.ahead.forget();
                half.marks.clear();
                half.start_resync();
                if let Some(info) = &self.info {
                    out(role, Chunk::Gap(UNKNOWN_GAP), info);
                }
                return;
            }
        }
        self.drain(role, out);
    }

    /// A gap held while waiting reaches the front of the buffer: what is before it is lost,
    /// and the records after it are searched for as after any gap.
    fn apply_held_gap(
        &mut self,
        role: Role,
        at: usize,
        out: &mut impl FnMut(Role, Chunk<'_>, &Arc<TlsInfo>),
    ) {
        let half = &mut self.halves[index(role)];
        let Some(gap) = half.gap_at.take() else {
            return;
        };
        if !half.protected || half.key.is_none() || half.next.is_some() {
            self.fail(Failure::RecordGap { side: side(role) });
            return;
        }
        half.consume(gap.max(at).min(half.buf.len()));
        half.start_resync();
        if let Some(info) = &self.info {
            out(role, Chunk::Gap(UNKNOWN_GAP), info);
        }
    }

    fn drain(&mut self, role: Role, out: &mut impl FnMut(Role, Chunk<'_>, &Arc<TlsInfo>)) {
        let mut at = 0;
        loop {
            if self.failure.is_some() || self.waiting.is_some() {
                break;
            }
            // Resynchronising starts at the front of the buffer, which a gap emptied.
            if self.halves[index(role)].resync && (at != 0 || !self.find_record(role)) {
                break;
            }
            let half = &mut self.halves[index(role)];
            if let Some(gap) = half.gap_at {
                let ends = half
                    .buf
                    .get(at + 3..at + 5)
                    .map(|l| at + 5 + usize::from(u16::from_be_bytes([l[0], l[1]])));
                if ends.is_none_or(|end| end > gap) && (at >= gap || half.buf.len() >= gap) {
                    self.apply_held_gap(role, at, out);
                    at = 0;
                    continue;
                }
            }
            let half = &mut self.halves[index(role)];
            let Some(head) = half.buf.get(at..at + 5) else {
                break;
            };
            let header: [u8; 5] = head.try_into().expect("five bytes");
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            if !(20..=24).contains(&header[0]) || header[1] != 3 || len > MAX_RECORD_BYTES {
                self.fail(if self.client_hello.is_none() {
                    Failure::NoHandshake
                } else {
                    Failure::Malformed { side: side(role) }
                });
                return;
            }
            if half.buf.len() < at + 5 + len {
                break;
            }
            let origin = half.origin_at(at).unwrap_or(Origin {
                ts: crate::model::Timestamp::from_unix(0, 0),
                packet: 0,
            });
            let body = at + 5..at + 5 + len;
            self.record(role, header, body.clone(), origin, out);
            at = body.end;
        }
        if self.failure.is_some() {
            return;
        }
        let half = &mut self.halves[index(role)];
        half.consume(at.min(half.buf.len()));
    }

    /// After a gap: drops the bytes before the next record that opens under one of the next
    /// [`MAX_RESYNC_RECORDS`] sequence numbers, and advances the key to it. `false` while more
    /// bytes are needed (or the direction gave up). A candidate must be a whole record whose
    /// end is followed by another plausible header, when the bytes are there.
    fn find_record(&mut self, role: Role) -> bool {
        let half = &mut self.halves[index(role)];
        let Some(key) = half.key.clone() else {
            self.fail(Failure::RecordGap { side: side(role) });
            return false;
        };
        let plausible = |h: &[u8]| matches!(h, [21 | 23, 3, 3, ..]);
        let mut at = 0;
        let mut scratch = Vec::new();
        let found = loop {
            let Some(head) = half.buf.get(at..at + 5) else {
                break None;
            };
            let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
            if plausible(head) && (keys::TAG_BYTES..=MAX_RECORD_BYTES).contains(&len) {
                let Some(body) = half.buf.get(at + 5..at + 5 + len) else {
                    break None;
                };
                let followed = half
                    .buf
                    .get(at + 5 + len..at + 10 + len)
                    .is_none_or(|h| matches!(h, [20..=23, 3, 0..=4, ..]));
                if followed {
                    let header: [u8; 5] = head.try_into().expect("five bytes");
                    let budget = RESYNC_TRIAL_BASE_BYTES
                        .saturating_add(RESYNC_TRIAL_PER_BYTE.saturating_mul(half.since_gap));
                    let opened = (1..=MAX_RESYNC_RECORDS).find_map(|skip| {
                        if half.trial_bytes > MAX_RESYNC_TRIAL_BYTES || half.gap_trials > budget {
                            return None;
                        }
                        half.trial_bytes += len as u64;
                        half.gap_trials += len as u64;
                        scratch.clear();
                        scratch.extend_from_slice(body);
                        let mut k = key.clone();
                        k.seq = key.seq + skip;
                        k.open(&header, &mut scratch).ok()?;
                        k.seq -= 1;
                        Some(k)
                    });
                    if opened.is_some() {
                        break opened;
                    }
                }
            }
            at += 1;
            half.scanned += 1;
            let budget = RESYNC_TRIAL_BASE_BYTES
                .saturating_add(RESYNC_TRIAL_PER_BYTE.saturating_mul(half.since_gap));
            if half.scanned > MAX_RESYNC_SCAN_BYTES
                || half.trial_bytes > MAX_RESYNC_TRIAL_BYTES
                || half.gap_trials > budget
            {
                self.fail(Failure::RecordGap { side: side(role) });
                return false;
            }
        };
        // Bytes before `at` were tried and rejected: they are not looked at again.
        half.consume(at);
        match found {
            Some(k) => {
                half.key = Some(k);
                half.resync = false;
                true
            }
            None => false,
        }
    }

    fn record(
        &mut self,
        role: Role,
        header: [u8; 5],
        body: std::ops::Range<usize>,
        origin: Origin,
        out: &mut impl FnMut(Role, Chunk<'_>, &Arc<TlsInfo>),
    ) {
        let tls13 = self.suite.is_some_and(|s| s.tls13);
        let ty = header[0];
        let half = &mut self.halves[index(role)];
        if ty == 20 {
            // ChangeCipherSpec: once TLS 1.2 is agreed it protects what follows; in TLS 1.3,
            // and before any ServerHello (after a HelloRetryRequest, or after a ClientHello that
            // sends early data), it is a middlebox compatibility no-op (RFC 8446 §5, D.4).
            if self.suite.is_some_and(|s| !s.tls13) {
                half.protected = true;
            }
            return;
        }
        if !half.protected {
            match ty {
                22 => {
                    let msgs = half.handshake.push(&half.buf[body]);
                    for m in msgs {
                        self.on_handshake(role, m);
                    }
                }
                23 if role == Role::Request && self.client_hello.is_some() => {
                    // Early data (0-RTT) before the ServerHello: not decrypted, counted.
                    self.stats.failed_records += 1;
                }
                23 => {
                    // Application data before any ClientHello: the capture began after the
                    // handshake.
                    self.fail(Failure::NoHandshake);
                }
                _ => {}
            }
            return;
        }
        if half.key.is_none() && half.next.is_none() {
            let failure = self.missing_key_failure();
            self.fail(failure);
            return;
        }
        let Some((inner, range)) = half.open(&header, body) else {
            // Without handshake secrets, TLS 1.3 handshake records cannot be opened; they are
            // skipped until the application key opens one.
            if half.key.is_none() {
                half.unkeyed += 1;
                if half.unkeyed > MAX_UNKEYED_RECORDS {
                    self.stats.failed_records += 1;
                    self.fail(Failure::AuthFailed {
                        side: side(role),
                        seq: 0,
                    });
                }
                return;
            }
            self.stats.failed_records += 1;
            let early = self.client_hello.as_ref().is_some_and(|c| c.early_data);
            if tls13 && role == Role::Request && early && half.opened == 0 {
                // Early data and EndOfEarlyData, under the early traffic key wirecap does not
                // use; the handshake key's sequence starts after them.
                half.early += 1;
                if half.early > MAX_EARLY_DATA_RECORDS {
                    self.fail(Failure::AuthFailed {
                        side: side(role),
                        seq: 0,
                    });
                }
                return;
            }
            half.failed_in_row += 1;
            let seq = half.key.as_ref().map_or(0, |k| k.seq);
            if half.opened == 0 || half.failed_in_row >= MAX_FAILED_RECORDS {
                self.fail(Failure::AuthFailed {
                    side: side(role),
                    seq,
                });
                return;
            }
            if let Some(k) = &mut half.key {
                k.seq += 1;
            }
            if let Some(info) = &self.info {
                out(role, Chunk::Gap(UNKNOWN_GAP), info);
            }
            return;
        };
        half.opened += 1;
        half.failed_in_row = 0;
        self.stats.records += 1;
        // A record opened: the master secret is right, so its sessions may be resumed.
        self.learned.append(&mut self.unproven);
        let plain = &half.buf[range];
        match inner {
            22 => {
                let msgs = half.handshake.push(plain);
                for m in msgs {
                    self.on_protected_handshake(role, m);
                }
            }
            23 => {
                if plain.is_empty() {
                    return;
                }
                let info = self.info.get_or_insert_with(|| {
                    let suite = self.suite.expect("keys imply a suite");
                    Arc::new(TlsInfo {
                        version: if suite.tls13 { "TLSv1.3" } else { "TLSv1.2" }.into(),
                        cipher: suite.name.into(),
                        sni: self.client_hello.as_ref().and_then(|c| c.sni.clone()),
                        alpn: self.alpn.clone(),
                    })
                });
                self.stats.plaintext_bytes += plain.len() as u64;
                out(role, Chunk::Data(plain, origin), info);
            }
            _ => {}
        }
    }

    fn missing_key_failure(&self) -> Failure {
        let random = self
            .client_hello
            .as_ref()
            .map_or_else(String::new, |c| hex(&c.random));
        let resumed = match (&self.client_hello, &self.server_hello) {
            // TLS 1.3 echoes the legacy session id in every handshake (RFC 8446 §4.1.3); only
            // an accepted pre-shared key means resumption there.
            (Some(c), Some(s)) if s.version == TLS13 => s.psk && c.offers_resumption,
            (Some(c), Some(s)) => !s.session_id.is_empty() && s.session_id == c.session_id,
            _ => false,
        };
        if self.client_hello.is_none() {
            Failure::NoHandshake
        } else if resumed {
            Failure::ResumedWithoutKey { random }
        } else {
            Failure::NoKey { random }
        }
    }

    fn on_handshake(&mut self, role: Role, msg: Message) {
        match (role, msg) {
            (Role::Request, Message::ClientHello(c)) => {
                // After a HelloRetryRequest the second ClientHello keeps the random.
                self.client_hello.get_or_insert(c);
            }
            (Role::Response, Message::ServerHello(s))
                if !s.retry && self.server_hello.is_none() =>
            {
                self.start(s)
            }
            (Role::Response, Message::NewSessionTicket(ticket)) if !ticket.is_empty() => {
                if let Some(master) = &self.master {
                    self.unproven
                        .push((Resumption::Ticket(ticket), master.clone()));
                }
            }
            _ => {}
        }
    }

    fn on_protected_handshake(&mut self, role: Role, msg: Message) {
        let half = &mut self.halves[index(role)];
        match msg {
            Message::EncryptedExtensions { alpn: Some(alpn) } => self.alpn = Some(alpn),
            Message::Finished if self.suite.is_some_and(|s| s.tls13) => match half.next.take() {
                Some(next) => half.key = Some(next),
                None if half.key.is_some() => {
                    self.fail(Failure::NoTrafficSecret { side: side(role) });
                }
                None => {}
            },
            Message::KeyUpdate if self.suite.is_some_and(|s| s.tls13) => {
                if let Some(k) = half.key.as_ref().and_then(RecordKey::updated) {
                    half.key = Some(k);
                }
            }
            _ => {}
        }
    }

    /// The ServerHello fixes version and suite: the keys are derived now.
    fn start(&mut self, s: ServerHello) {
        let version = s.version;
        self.alpn = s.alpn.clone();
        if version != TLS13 && version != 0x0303 {
            self.fail(Failure::UnsupportedVersion(version));
            return;
        }
        let Some(suite) = keys::suite(s.suite).filter(|x| x.tls13 == (version == TLS13)) else {
            self.fail(Failure::UnsupportedSuite(s.suite));
            return;
        };
        self.suite = Some(suite);
        let client_random = self.client_hello.as_ref().map(|c| c.random.clone());
        self.server_hello = Some(s);
        let Some(client_random) = client_random else {
            self.fail(Failure::NoHandshake);
            return;
        };
        let secrets = self
            .keys
            .read()
            .ok()
            .and_then(|k| k.get(&client_random).cloned());
        let by = self.resumption().filter(|_| !suite.tls13);
        let resumed = by.as_ref().and_then(|by| self.resumed_master(by));
        match (secrets, resumed, by) {
            (Some(secrets), _, _) => self.use_secrets(&secrets),
            (None, Some(master), _) => self.use_secrets(&Secrets {
                master: Some(master),
                ..Secrets::default()
            }),
            (None, None, Some(by)) => self.waiting = Some(by),
            (None, None, None) => {
                let failure = self.missing_key_failure();
                self.fail(failure);
            }
        }
    }

    /// The master secret a resumption resumes, by its ticket, else by the session id the
    /// client sent beside it (a server may ignore the ticket and resume by id).
    fn resumed_master(&self, by: &Resumption) -> Option<Vec<u8>> {
        let keys = self.keys.read().ok()?;
        let id = self
            .client_hello
            .as_ref()
            .map(|c| Resumption::Id(c.session_id.clone()));
        [Some(by.clone()), id]
            .into_iter()
            .flatten()
            .find_map(|r| keys.resumed(&r).map(<[u8]>::to_vec))
    }

    /// What this TLS 1.2 connection resumes, when the server accepted a resumption: it
    /// echoed the client's session id (for a ticket, the id the client made up for it).
    fn resumption(&self) -> Option<Resumption> {
        let (c, s) = (self.client_hello.as_ref()?, self.server_hello.as_ref()?);
        if s.session_id.is_empty() || s.session_id != c.session_id {
            return None;
        }
        Some(if c.ticket.is_empty() {
            Resumption::Id(c.session_id.clone())
        } else {
            Resumption::Ticket(c.ticket.clone())
        })
    }

    /// Derives both sides' keys from the connection's secrets.
    fn use_secrets(&mut self, secrets: &Secrets) {
        let Some(suite) = self.suite else { return };
        let client_random = self.client_hello.as_ref().map(|c| c.random.clone());
        let server_random = self.server_hello.as_ref().map(|s| s.random.clone());
        let (Some(client_random), Some(server_random)) = (client_random, server_random) else {
            self.fail(Failure::NoHandshake);
            return;
        };
        let [client, server] = &mut self.halves;
        if suite.tls13 {
            let key = |s: &Option<Vec<u8>>| s.as_deref().and_then(|s| RecordKey::tls13(suite, s));
            client.key = key(&secrets.client_handshake);
            client.next = key(&secrets.client_traffic);
            server.key = key(&secrets.server_handshake);
            server.next = key(&secrets.server_traffic);
            client.protected = true;
            server.protected = true;
            if client.key.is_none() && client.next.is_none() {
                let failure = self.missing_key_failure();
                self.fail(failure);
            }
            return;
        }
        let pair = secrets
            .master
            .as_deref()
            .and_then(|m| RecordKey::tls12(suite, m, &client_random, &server_random));
        let Some((c, s)) = pair else {
            let failure = self.missing_key_failure();
            self.fail(failure);
            return;
        };
        client.key = Some(c);
        server.key = Some(s);
        self.master = secrets.master.clone();
        let id = self.server_hello.as_ref().map(|s| s.session_id.clone());
        if let (Some(id), Some(master)) = (id.filter(|i| !i.is_empty()), &self.master) {
            self.unproven.push((Resumption::Id(id), master.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;
    use keylog::KeyLog;
    use std::sync::RwLock;

    fn shared(k: KeyLog) -> SharedKeys {
        Arc::new(RwLock::new(k))
    }

    const RANDOM: [u8; 32] = [7; 32];

    fn secret(n: u8) -> Vec<u8> {
        vec![n; 32]
    }

    fn key(n: u8) -> RecordKey {
        RecordKey::tls13(keys::suite(0x1301).expect("suite"), &secret(n)).expect("key")
    }

    /// A key log of `secrets`: (label, the byte each secret is made of).
    fn keys_of(secrets: &[(&str, u8)]) -> SharedKeys {
        let text: String = secrets
            .iter()
            .map(|(label, n)| format!("{label} {} {}\n", hex(&RANDOM), hex(&secret(*n))))
            .collect();
        let mut k = KeyLog::default();
        k.add_text(text.as_bytes()).expect("parses");
        shared(k)
    }

    fn keylog() -> SharedKeys {
        keys_of(&[
            ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 1),
            ("SERVER_HANDSHAKE_TRAFFIC_SECRET", 2),
            ("CLIENT_TRAFFIC_SECRET_0", 3),
            ("SERVER_TRAFFIC_SECRET_0", 4),
        ])
    }

    fn plain_record(ty: u8, body: &[u8]) -> Vec<u8> {
        let len = body.len() as u16;
        [&[ty, 3, 3, (len >> 8) as u8, len as u8][..], body].concat()
    }

    fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
        let len = body.len();
        [
            &[ty, (len >> 16) as u8, (len >> 8) as u8, len as u8][..],
            body,
        ]
        .concat()
    }

    fn client_hello() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend(RANDOM);
        b.extend([0, 0, 2, 0x13, 0x01, 1, 0, 0, 0]);
        plain_record(22, &handshake(1, &b))
    }

    fn server_hello() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend([9u8; 32]);
        b.extend([0, 0x13, 0x01, 0]);
        b.extend([0, 6, 0, 43, 0, 2, 3, 4]);
        plain_record(22, &handshake(2, &b))
    }

    /// A whole TLS 1.3 connection: the client's bytes (ClientHello first, the rest after the
    /// server's) and the server's, with the plaintext each side sent as application data.
    fn connection(requests: &[&[u8]], responses: &[&[u8]]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let (mut chs, mut capp, mut shs, mut sapp) = (key(1), key(3), key(2), key(4));
        let alpn = [0, 16, 0, 5, 0, 3, 2, b'h', b'2'];
        let ee = handshake(8, &[&[0, alpn.len() as u8][..], &alpn].concat());
        let mut server = server_hello();
        server.extend(plain_record(20, &[1]));
        server.extend(shs.seal_tls13(22, &[ee, handshake(20, &[0; 32])].concat()));
        let mut client = plain_record(20, &[1]);
        client.extend(chs.seal_tls13(22, &handshake(20, &[0; 32])));
        for r in requests {
            client.extend(capp.seal_tls13(23, r));
        }
        for r in responses {
            server.extend(sapp.seal_tls13(23, r));
        }
        (client_hello(), server, client)
    }

    fn origin() -> Origin {
        Origin {
            ts: Timestamp::from_unix(1, 0),
            packet: 1,
        }
    }

    /// Feeds the three parts of [`connection`] in pieces of `size`; returns each side's
    /// plaintext and the ALPN seen.
    fn run(stream: &mut TlsStream, parts: [&[u8]; 3], size: usize) -> ([Vec<u8>; 2], Vec<String>) {
        let mut plain = [Vec::new(), Vec::new()];
        let mut alpn = Vec::new();
        let roles = [Role::Request, Role::Response, Role::Request];
        for (role, bytes) in roles.into_iter().zip(parts) {
            for piece in bytes.chunks(size) {
                stream.feed(role, Chunk::Data(piece, origin()), &mut |r, c, info| {
                    if let Chunk::Data(d, _) = c {
                        plain[index(r)].extend_from_slice(d);
                    }
                    alpn.extend(info.alpn.clone());
                });
            }
        }
        (plain, alpn)
    }

    #[test]
    fn records_split_anywhere_decrypt_to_the_same_plaintext() {
        let (hello, server, client) =
            connection(&[b"GET / HTTP/1.1\r\n\r\n", b"more"], &[b"HTTP/1.1 200"]);
        for size in [1, 2, 3, 5, 7, 64, 1 << 16] {
            let mut s = TlsStream::new(keylog());
            let (plain, alpn) = run(&mut s, [&hello, &server, &client], size);
            assert_eq!(plain[0], b"GET / HTTP/1.1\r\n\r\nmore", "size {size}");
            assert_eq!(plain[1], b"HTTP/1.1 200", "size {size}");
            assert_eq!(alpn.first().map(String::as_str), Some("h2"));
            assert_eq!((s.failure(), s.stats.records), (None, 5));
        }
    }

    #[test]
    fn without_handshake_secrets_the_application_key_takes_over() {
        let (hello, server, client) = connection(&[b"GET"], &[b"200"]);
        let mut s = TlsStream::new(app_secrets_only(3, 4));
        let (plain, _) = run(&mut s, [&hello, &server, &client], 1 << 16);
        assert_eq!(plain, [b"GET".to_vec(), b"200".to_vec()]);
    }

    #[test]
    fn a_corrupt_record_is_skipped_and_reported_as_a_gap() {
        let (hello, server, client) = connection(&[b"one", b"two", b"three"], &[]);
        let mut bad = client.clone();
        let second = bad.len() - (5 + 6 + 16) - (5 + 4 + 16) + 7;
        bad[second] ^= 1;
        let mut s = TlsStream::new(keylog());
        let mut seen = Vec::new();
        let roles = [Role::Request, Role::Response, Role::Request];
        for (role, bytes) in roles.into_iter().zip([&hello, &server, &bad]) {
            s.feed(role, Chunk::Data(bytes, origin()), &mut |_, c, _| {
                seen.push(match c {
                    Chunk::Data(d, _) => String::from_utf8_lossy(d).into_owned(),
                    Chunk::Gap(_) => "gap".into(),
                })
            });
        }
        assert_eq!(seen, ["one", "gap", "three"]);
        assert_eq!((s.stats.failed_records, s.failure()), (1, None));
    }

    #[test]
    fn after_a_tcp_gap_the_next_record_is_found_by_trial() {
        let (hello, server, client) = connection(&[b"one", b"two", b"three"], &[]);
        let cut = client.len() - (5 + 6 + 16) - 20;
        let mut s = TlsStream::new(keylog());
        let seen = with_gap(&mut s, [&hello, &server, &client], cut, 1 << 16);
        assert_eq!(seen, ["one", "gap", "three"]);
    }

    /// Feeds a connection whose client bytes lose 10 bytes at `cut`, the rest in pieces of
    /// `size`; what came out of the client side, gaps as `gap`.
    fn with_gap(s: &mut TlsStream, parts: [&[u8]; 3], cut: usize, size: usize) -> Vec<String> {
        let [hello, server, client] = parts;
        let mut seen = Vec::new();
        let mut sink = |_: Role, c: Chunk<'_>, _: &Arc<TlsInfo>| {
            seen.push(match c {
                Chunk::Data(d, _) if d.len() > 100 => format!("{} bytes", d.len()),
                Chunk::Data(d, _) => String::from_utf8_lossy(d).into_owned(),
                Chunk::Gap(_) => "gap".into(),
            })
        };
        s.feed(Role::Request, Chunk::Data(hello, origin()), &mut sink);
        s.feed(Role::Response, Chunk::Data(server, origin()), &mut sink);
        let (before, after) = client.split_at(cut);
        s.feed(Role::Request, Chunk::Data(before, origin()), &mut sink);
        s.feed(Role::Request, Chunk::Gap(10), &mut sink);
        for piece in after[10..].chunks(size) {
            s.feed(Role::Request, Chunk::Data(piece, origin()), &mut sink);
        }
        seen
    }

    #[test]
    fn a_key_update_switches_to_the_next_generation_of_keys() {
        let (hello, server, mut client) = connection(&[b"before"], &[]);
        let mut capp = key(3);
        capp.seq = 1;
        client.extend(capp.seal_tls13(22, &handshake(24, &[0])));
        let mut next = capp.updated().expect("updates");
        client.extend(next.seal_tls13(23, b"after"));
        let mut s = TlsStream::new(keylog());
        let (plain, _) = run(&mut s, [&hello, &server, &client], 1 << 16);
        assert_eq!(plain[0], b"beforeafter");
    }

    #[test]
    fn records_opened_ahead_give_way_to_a_key_update_among_them() {
        let before: Vec<Vec<u8>> = (0..6).map(|i| format!("b{i}").into_bytes()).collect();
        let refs: Vec<&[u8]> = before.iter().map(Vec::as_slice).collect();
        let (hello, server, mut client) = connection(&refs, &[]);
        let mut capp = key(3);
        capp.seq = 6;
        client.extend(capp.seal_tls13(22, &handshake(24, &[0])));
        let mut next = capp.updated().expect("updates");
        for i in 0..6 {
            client.extend(next.seal_tls13(23, format!("a{i}").as_bytes()));
        }
        let mut s = TlsStream::new(keylog());
        let (plain, _) = run(&mut s, [&hello, &server, &client], 1 << 20);
        assert_eq!(plain[0], b"b0b1b2b3b4b5a0a1a2a3a4a5");
        assert_eq!(s.failure(), None);
    }

    #[test]
    fn a_corrupt_record_among_records_opened_ahead_is_the_one_that_fails() {
        let msgs: Vec<Vec<u8>> = (0..8).map(|i| format!("m{i}").into_bytes()).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        let (hello, server, mut client) = connection(&refs, &[]);
        let whole = client.clone();
        // Each sealed "mN" record is 5 + 2 + 1 + 16 bytes; flip a byte of the fourth.
        let record = 5 + 2 + 1 + 16;
        let fourth = client.len() - 5 * record + 6;
        client[fourth] ^= 1;
        let mut s = TlsStream::new(keylog());
        let (plain, _) = run(&mut s, [&hello, &server, &client], 1 << 20);
        let mut t = TlsStream::new(keylog());
        let (clean, _) = run(&mut t, [&hello, &server, &whole], 1 << 20);
        assert_eq!(clean[0], b"m0m1m2m3m4m5m6m7");
        assert_eq!(plain[0], b"m0m1m2m4m5m6m7");
        assert_eq!(s.stats.failed_records, 1);
    }

    #[test]
    fn garbage_where_records_belong_stops_the_connection_once() {
        let mut s = TlsStream::new(keylog());
        let mut n = 0;
        s.feed(
            Role::Request,
            Chunk::Data(&client_hello(), origin()),
            &mut |_, _, _| n += 1,
        );
        s.feed(
            Role::Response,
            Chunk::Data(b"HTTP/1.1 200 OK\r\n", origin()),
            &mut |_, _, _| n += 1,
        );
        assert_eq!(s.failure(), Some(&Failure::Malformed { side: "server" }));
        assert_eq!(n, 0);
    }

    /// The random of a HelloRetryRequest (RFC 8446 §4.1.3).
    const HRR_RANDOM: [u8; 32] = [
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8,
        0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8,
        0x33, 0x9c,
    ];

    fn hello_retry_request() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend(HRR_RANDOM);
        b.extend([0, 0x13, 0x01, 0]);
        b.extend([0, 6, 0, 43, 0, 2, 3, 4]);
        plain_record(22, &handshake(2, &b))
    }

    /// A ClientHello that offers early data (the `early_data` extension, RFC 8446 §4.2.10).
    fn client_hello_with_early_data() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend(RANDOM);
        b.extend([0, 0, 2, 0x13, 0x01, 1, 0, 0, 4, 0, 42, 0, 0]);
        plain_record(22, &handshake(1, &b))
    }

    fn feed_all(s: &mut TlsStream, parts: &[(Role, &[u8])]) -> [Vec<u8>; 2] {
        let mut plain = [Vec::new(), Vec::new()];
        for (role, bytes) in parts {
            s.feed(*role, Chunk::Data(bytes, origin()), &mut |r, c, _| {
                if let Chunk::Data(d, _) = c {
                    plain[index(r)].extend_from_slice(d);
                }
            });
        }
        plain
    }

    fn app_secrets_only(client: u8, server: u8) -> SharedKeys {
        keys_of(&[
            ("CLIENT_TRAFFIC_SECRET_0", client),
            ("SERVER_TRAFFIC_SECRET_0", server),
        ])
    }

    #[test]
    fn a_hello_retry_with_compatibility_change_cipher_specs_still_decrypts() {
        let (hello, server, client) = connection(&[b"GET"], &[b"200"]);
        let ccs = plain_record(20, &[1]);
        let mut s = TlsStream::new(keylog());
        let plain = feed_all(
            &mut s,
            &[
                (Role::Request, &hello),
                (
                    Role::Response,
                    &[hello_retry_request(), ccs.clone()].concat(),
                ),
                (Role::Request, &[ccs, hello.clone()].concat()),
                (Role::Response, &server),
                (Role::Request, &client),
            ],
        );
        assert_eq!(s.failure(), None);
        assert_eq!(plain, [b"GET".to_vec(), b"200".to_vec()]);
    }

    #[test]
    fn early_data_is_skipped_and_counted_before_and_after_the_server_hello() {
        let (_, server, client) = connection(&[b"GET"], &[b"200"]);
        let ccs = plain_record(20, &[1]);
        let mut early = key(9);
        let data = early.seal_tls13(23, b"EARLY GET");
        let end = early.seal_tls13(22, &handshake(5, &[]));
        let mut s = TlsStream::new(keylog());
        let plain = feed_all(
            &mut s,
            &[
                (
                    Role::Request,
                    &[client_hello_with_early_data(), ccs, data].concat(),
                ),
                (Role::Response, &server),
                (Role::Request, &[end, client].concat()),
            ],
        );
        assert_eq!(s.failure(), None);
        assert_eq!(plain, [b"GET".to_vec(), b"200".to_vec()]);
        assert_eq!(s.stats.failed_records, 2);
    }

    #[test]
    fn a_gap_before_this_sides_application_key_stops_it_and_lets_go() {
        let (hello, server, _) = connection(&[b"GET"], &[b"200"]);
        let mut s = TlsStream::new(app_secrets_only(3, 4));
        feed_all(
            &mut s,
            &[(Role::Request, &hello), (Role::Response, &server)],
        );
        assert!(s.decrypted());
        s.feed(Role::Request, Chunk::Gap(10), &mut |_, _, _| {});
        s.feed(
            Role::Request,
            Chunk::Data(&[0; 1 << 16], origin()),
            &mut |_, _, _| {},
        );
        assert_eq!(s.failure(), Some(&Failure::RecordGap { side: "client" }));
        assert!(s.halves.iter().all(|h| h.buf.is_empty()));
        assert_eq!(s.oldest_buffered(), None);
    }

    #[test]
    fn resynchronising_over_small_segments_scans_each_byte_once() {
        let big = vec![b'x'; 16000];
        let (hello, server, client) = connection(&[b"one", &big, &big, &big, b"end"], &[]);
        let fin = 6 + (5 + 4 + 32 + 1 + 16) + (5 + 3 + 1 + 16);
        let mut s = TlsStream::new(keylog());
        let seen = with_gap(&mut s, [&hello, &server, &client], fin + 100, 1460);
        assert_eq!(s.failure(), None);
        assert_eq!(seen, ["one", "gap", "16000 bytes", "16000 bytes", "end"]);
        assert!(s.halves[0].scanned < 16000 + 100, "{}", s.halves[0].scanned);
    }

    #[test]
    fn plausible_records_that_never_open_cost_a_bounded_search() {
        let (hello, server, client) = connection(&[b"one"], &[b"200"]);
        let mut s = TlsStream::new(keylog());
        feed_all(
            &mut s,
            &[
                (Role::Request, &hello),
                (Role::Response, &server),
                (Role::Request, &client),
            ],
        );
        s.feed(Role::Request, Chunk::Gap(10), &mut |_, _, _| {});
        let junk: Vec<u8> = [0x17u8, 3, 3, 0x47, 0xff]
            .iter()
            .copied()
            .cycle()
            .take(1 << 16)
            .collect();
        s.feed(
            Role::Request,
            Chunk::Data(&junk, origin()),
            &mut |_, _, _| {},
        );
        // Each candidate is followed by what does not start a record; only the last, whose
        // follower is not there yet, is tried.
        assert!(s.halves[0].trial_bytes <= MAX_RESYNC_RECORDS * MAX_RECORD_BYTES as u64);
    }

    #[test]
    fn wrong_traffic_secrets_without_handshake_secrets_are_a_failure_with_a_reason() {
        let (hello, server, client) = connection(&[b"GET"], &[b"200"]);
        let mut s = TlsStream::new(app_secrets_only(5, 6));
        feed_all(
            &mut s,
            &[
                (Role::Request, &hello),
                (Role::Response, &server),
                (Role::Request, &client),
            ],
        );
        s.finish();
        assert!(
            matches!(s.failure(), Some(Failure::AuthFailed { .. })),
            "{:?}",
            s.failure()
        );
    }

    #[test]
    fn a_missing_application_secret_is_named() {
        let requests: Vec<&[u8]> = vec![b"a"; 9];
        let (hello, server, client) = connection(&requests, &[b"200"]);
        let k = keys_of(&[
            ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 1),
            ("SERVER_HANDSHAKE_TRAFFIC_SECRET", 2),
            ("SERVER_TRAFFIC_SECRET_0", 4),
        ]);
        let mut s = TlsStream::new(k);
        feed_all(
            &mut s,
            &[
                (Role::Request, &hello),
                (Role::Response, &server),
                (Role::Request, &client),
            ],
        );
        assert_eq!(
            s.failure(),
            Some(&Failure::NoTrafficSecret { side: "client" })
        );
    }

    #[test]
    fn a_failed_connection_holds_nothing_back() {
        let (hello, server, _) = connection(&[b"GET"], &[b"200"]);
        let mut s = TlsStream::new(shared(KeyLog::default()));
        feed_all(
            &mut s,
            &[(Role::Request, &hello), (Role::Response, &server)],
        );
        assert!(matches!(s.failure(), Some(Failure::NoKey { .. })));
        assert_eq!(s.oldest_buffered(), None);
    }

    /// TLS 1.2 building blocks: a ChaCha20-Poly1305 suite, hellos, a session id.
    const CHACHA12: u16 = 0xcca8;

    fn ch12(random: [u8; 32], sid: &[u8]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend(random);
        b.push(sid.len() as u8);
        b.extend(sid);
        b.extend([0, 2, 0xcc, 0xa8, 1, 0, 0, 0]);
        plain_record(22, &handshake(1, &b))
    }

    fn sh12(random: [u8; 32], sid: &[u8]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend(random);
        b.push(sid.len() as u8);
        b.extend(sid);
        b.extend([0xcc, 0xa8, 0, 0, 0]);
        plain_record(22, &handshake(2, &b))
    }

    fn keys12(cr: [u8; 32], sr: [u8; 32], master: &[u8]) -> (RecordKey, RecordKey) {
        RecordKey::tls12(keys::suite(CHACHA12).unwrap(), master, &cr, &sr).unwrap()
    }

    fn collect(s: &mut TlsStream, role: Role, c: Chunk<'_>, seen: &mut Vec<String>) {
        s.feed(role, c, &mut |r, c, _| {
            seen.push(match c {
                Chunk::Data(d, _) => format!("{:?}:{}", r, String::from_utf8_lossy(d)),
                Chunk::Gap(_) => format!("{r:?}:gap"),
            })
        });
    }

    const RB: [u8; 32] = [5; 32];
    const SB: [u8; 32] = [6; 32];
    const SID: [u8; 32] = [0xaa; 32];
    const MASTER: [u8; 48] = [0x42; 48];

    /// A resumed TLS 1.2 connection; returns the stream after feeding, and what came out.
    fn resumed_with_client_gap(keys: SharedKeys) -> (TlsStream, Vec<String>) {
        let (mut c, mut sv) = keys12(RB, SB, &MASTER);
        let mut s = TlsStream::new(keys);
        let mut seen = Vec::new();
        collect(
            &mut s,
            Role::Request,
            Chunk::Data(&ch12(RB, &SID), origin()),
            &mut seen,
        );
        let mut server = sh12(SB, &SID);
        server.extend(plain_record(20, &[1]));
        server.extend(sv.seal_tls12_chacha(22, &handshake(20, &[0; 12])));
        collect(
            &mut s,
            Role::Response,
            Chunk::Data(&server, origin()),
            &mut seen,
        );
        let mut client = plain_record(20, &[1]);
        client.extend(c.seal_tls12_chacha(22, &handshake(20, &[0; 12])));
        client.extend(c.seal_tls12_chacha(23, b"GET1"));
        collect(
            &mut s,
            Role::Request,
            Chunk::Data(&client, origin()),
            &mut seen,
        );
        let _lost = c.seal_tls12_chacha(23, b"LOST");
        collect(&mut s, Role::Request, Chunk::Gap(30), &mut seen);
        let after = c.seal_tls12_chacha(23, b"GET2");
        collect(
            &mut s,
            Role::Request,
            Chunk::Data(&after, origin()),
            &mut seen,
        );
        (s, seen)
    }

    #[test]
    fn a_gap_while_a_resumption_waits_is_applied_once_the_session_is_known() {
        // Control: the key log has the resumed connection's own line: resync works.
        let mut k = KeyLog::default();
        k.add_text(format!("CLIENT_RANDOM {} {}\n", hex(&RB), hex(&MASTER)).as_bytes())
            .unwrap();
        let (s, seen) = resumed_with_client_gap(shared(k));
        assert_eq!(s.failure(), None);
        assert_eq!(seen, ["Request:GET1", "Request:gap", "Request:GET2"]);
        // The same connection whose session is learned from another connection of the batch.
        let keys = shared(KeyLog::default());
        let (mut s, seen) = resumed_with_client_gap(keys.clone());
        assert!(s.waiting() && seen.is_empty());
        keys.write()
            .unwrap()
            .learn(Resumption::Id(SID.to_vec()), MASTER.to_vec());
        let mut out = Vec::new();
        s.retry(&mut |r, c, _| {
            out.push(match c {
                Chunk::Data(d, _) => format!("{r:?}:{}", String::from_utf8_lossy(d)),
                Chunk::Gap(_) => format!("{r:?}:gap"),
            })
        });
        assert_eq!(s.failure(), None);
        assert_eq!(out, ["Request:GET1", "Request:gap", "Request:GET2"]);
    }

    #[test]
    fn a_second_server_hello_is_ignored() {
        let keys = shared(KeyLog::default());
        let mut s = TlsStream::new(keys.clone());
        let mut seen = Vec::new();
        collect(
            &mut s,
            Role::Request,
            Chunk::Data(&ch12(RB, &SID), origin()),
            &mut seen,
        );
        let server = [sh12(SB, &SID), sh12(SB, &SID), vec![0x17, 3, 3, 0, 40]].concat();
        collect(
            &mut s,
            Role::Response,
            Chunk::Data(&server, origin()),
            &mut seen,
        );
        assert!(s.waiting());
        keys.write()
            .unwrap()
            .learn(Resumption::Id(SID.to_vec()), MASTER.to_vec());
        s.retry(&mut |_, _, _| {});
        assert!(!s.waiting());
    }

    #[test]
    fn a_connection_whose_keys_fail_teaches_no_session() {
        let ra = [3u8; 32];
        let sa = [4u8; 32];
        let mut k = KeyLog::default();
        k.add_text(format!("CLIENT_RANDOM {} {}\n", hex(&ra), hex(&[0x13u8; 48])).as_bytes())
            .unwrap();
        let mut s = TlsStream::new(shared(k));
        let (_, mut sv) = keys12(ra, sa, &MASTER);
        let mut seen = Vec::new();
        collect(
            &mut s,
            Role::Request,
            Chunk::Data(&ch12(ra, &[]), origin()),
            &mut seen,
        );
        let mut server = sh12(sa, &SID);
        server.extend(plain_record(20, &[1]));
        server.extend(sv.seal_tls12_chacha(22, &handshake(20, &[0; 12])));
        collect(
            &mut s,
            Role::Response,
            Chunk::Data(&server, origin()),
            &mut seen,
        );
        assert!(
            matches!(s.failure(), Some(Failure::AuthFailed { .. })),
            "{:?}",
            s.failure()
        );
        let learned = s.take_learned();
        assert!(
            learned.is_empty(),
            "failed connection teaches {} session(s)",
            learned.len()
        );
    }

    #[test]
    fn trial_decryption_after_a_gap_stays_in_proportion_to_the_input() {
        let (hello, server, client) = connection(&[b"one"], &[b"200"]);
        let mut s = TlsStream::new(keylog());
        feed_all(
            &mut s,
            &[
                (Role::Request, &hello),
                (Role::Response, &server),
                (Role::Request, &client),
            ],
        );
        s.feed(Role::Request, Chunk::Gap(10), &mut |_, _, _| {});
        // A header every 5 bytes whose length (16380) is a multiple of 5: every candidate is
        // followed by another plausible header.
        let junk: Vec<u8> = [0x17u8, 3, 3, 0x3f, 0xfc]
            .iter()
            .copied()
            .cycle()
            .take(20_000)
            .collect();
        s.feed(
            Role::Request,
            Chunk::Data(&junk, origin()),
            &mut |_, _, _| {},
        );
        let bound = RESYNC_TRIAL_BASE_BYTES
            + RESYNC_TRIAL_PER_BYTE * junk.len() as u64
            + MAX_RECORD_BYTES as u64;
        assert!(
            s.halves[0].trial_bytes <= bound,
            "{}",
            s.halves[0].trial_bytes
        );
        assert_eq!(s.failure(), Some(&Failure::RecordGap { side: "client" }));
    }
}
