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
//! under one of the next [`MAX_RESYNC_RECORDS`] sequence numbers, and trial decryption is
//! bounded in proportion to the input. The parser above is then told how much plaintext was
//! lost: the ciphertext lost less what each lost record adds to its plaintext (the sequence
//! number says how many there were), so a gap in HTTPS is placed as exactly as in cleartext.
//! That holds when the lost records carried application data without padding, as common TLS
//! stacks send; a direction whose records are padded reports gaps of unknown size.
//! Early data (0-RTT) is not decrypted: its records fail authentication under the handshake
//! keys and are counted.
//!
//! A TLS 1.2 connection that resumes a session (by id or ticket) without a key log line of its
//! own waits, holding its records, for the end of the batch: the pipeline then adds the
//! sessions every connection established to the key log, in flow order, and tries it again
//! ([`TlsStream::retry`]), so the outcome does not depend on the thread count.

mod ahead;
mod failure;
mod half;
pub mod handshake;
mod hello;
pub mod keylog;
pub mod keys;

use super::connection::Role;
use super::tcp_reassembly::{Chunk, Origin};
use crate::model::TlsInfo;
pub use failure::Failure;
use half::Half;
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
            Chunk::Gap(n) if self.waiting.is_some() => {
                // Applied once the session is known: the records before it still open.
                match &mut half.gap_at {
                    None => half.gap_at = Some((half.buf.len(), Some(n))),
                    Some((_, lost)) => *lost = None,
                }
                return;
            }
            Chunk::Gap(n) => {
                if !half.protected || half.key.is_none() || half.next.is_some() {
                    // Lost in this side's handshake: nothing after it can be opened in order.
                    self.fail(Failure::RecordGap { side: side(role) });
                    return;
                }
                // What is buffered is the start of a record the gap cut.
                let partial = half.buf.len() as u64;
                half.buf.clear();
                half.ahead.forget();
                half.marks.clear();
                half.start_resync(Some(partial.saturating_add(n)));
                return;
            }
        }
        self.drain(role, out);
    }

    /// A gap held while waiting reaches the front of the buffer: what is before it is lost,
    /// and the records after it are searched for as after any gap.
    fn apply_held_gap(&mut self, role: Role, at: usize) {
        let half = &mut self.halves[index(role)];
        let Some((gap, held)) = half.gap_at.take() else {
            return;
        };
        if !half.protected || half.key.is_none() || half.next.is_some() {
            self.fail(Failure::RecordGap { side: side(role) });
            return;
        }
        half.consume(gap.max(at).min(half.buf.len()));
        let partial = gap.saturating_sub(at) as u64;
        half.start_resync(held.map(|n| partial.saturating_add(n)));
    }

    /// A direction found its next record after a gap that lost `records` records: the parser
    /// above is told how much plaintext they held, or of a gap of unknown size.
    fn report_gap(
        &mut self,
        role: Role,
        records: u64,
        out: &mut impl FnMut(Role, Chunk<'_>, &Arc<TlsInfo>),
    ) {
        let half = &mut self.halves[index(role)];
        let lost = half
            .key
            .as_ref()
            .and_then(|k| half.lost_plaintext(records, k.overhead()))
            .filter(|&n| n < UNKNOWN_GAP)
            .unwrap_or(UNKNOWN_GAP);
        half.lost = None;
        if let Some(info) = &self.info {
            out(role, Chunk::Gap(lost), info);
        }
    }

    /// The connection ended while a direction still looked for its next record: the parser
    /// above learns of a gap of unknown size.
    pub fn end_resync(&mut self, out: &mut impl FnMut(Role, Chunk<'_>, &Arc<TlsInfo>)) {
        if self.failure.is_some() {
            return;
        }
        for role in [Role::Request, Role::Response] {
            let half = &mut self.halves[index(role)];
            if std::mem::take(&mut half.resync) {
                if let Some(info) = &self.info {
                    out(role, Chunk::Gap(UNKNOWN_GAP), info);
                }
            }
        }
    }

    fn drain(&mut self, role: Role, out: &mut impl FnMut(Role, Chunk<'_>, &Arc<TlsInfo>)) {
        let mut at = 0;
        loop {
            if self.failure.is_some() || self.waiting.is_some() {
                break;
            }
            // Resynchronising starts at the front of the buffer, which a gap emptied.
            if self.halves[index(role)].resync {
                let Some(records) = (at == 0).then(|| self.find_record(role)).flatten() else {
                    break;
                };
                self.report_gap(role, records, out);
            }
            let half = &mut self.halves[index(role)];
            if let Some((gap, _)) = half.gap_at {
                let ends = half
                    .buf
                    .get(at + 3..at + 5)
                    .map(|l| at + 5 + usize::from(u16::from_be_bytes([l[0], l[1]])));
                if ends.is_none_or(|end| end > gap) && (at >= gap || half.buf.len() >= gap) {
                    self.apply_held_gap(role, at);
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
    /// [`MAX_RESYNC_RECORDS`] sequence numbers, advances the key to it, and says how many
    /// records were lost. `None` while more bytes are needed (or the direction gave up). A
    /// candidate must be a whole record whose end is followed by another plausible header,
    /// when the bytes are there.
    fn find_record(&mut self, role: Role) -> Option<u64> {
        let half = &mut self.halves[index(role)];
        let Some(key) = half.key.clone() else {
            self.fail(Failure::RecordGap { side: side(role) });
            return None;
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
                        Some((k, skip))
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
                return None;
            }
        };
        // Bytes before `at` were tried and rejected: they are not looked at again.
        half.skip(at);
        let (k, records) = found?;
        half.key = Some(k);
        half.resync = false;
        Some(records)
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
        let fragment = body.len();
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
        half.padded |= tls13 && fragment > range.len() + keys::TAG_BYTES + 1;
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
mod tests;
