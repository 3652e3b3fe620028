//! One direction of a TLS connection: its bytes until they form whole records (RFC 8446
//! §5.1), the origins of those bytes, its keys, and the state of a resynchronisation after a
//! gap.

use super::ahead::Ahead;
use super::handshake::Reassembler;
use super::keys::RecordKey;
use crate::capture::tcp_reassembly::Origin;
use std::collections::VecDeque;

/// One direction's records.
#[derive(Debug, Default)]
pub(super) struct Half {
    pub(super) buf: Vec<u8>,
    /// Where each chunk in `buf` began (offset into `buf`), for the records' origins.
    pub(super) marks: VecDeque<(usize, Origin)>,
    /// Records of this direction are protected (after ChangeCipherSpec in TLS 1.2, after the
    /// ServerHello in TLS 1.3).
    pub(super) protected: bool,
    pub(super) key: Option<RecordKey>,
    /// The key that follows `key` (TLS 1.3 application keys after the handshake's).
    pub(super) next: Option<RecordKey>,
    pub(super) handshake: Reassembler,
    /// Records opened in this direction.
    pub(super) opened: u64,
    pub(super) failed_in_row: u32,
    /// Protected records skipped for want of a handshake key, or as early data.
    pub(super) unkeyed: u32,
    pub(super) early: u32,
    /// After a gap: looking for the next record.
    pub(super) resync: bool,
    pub(super) scanned: usize,
    pub(super) trial_bytes: u64,
    /// Trial decryption spent since the last gap, and bytes received since it.
    pub(super) gap_trials: u64,
    pub(super) since_gap: u64,
    /// Where in `buf` a gap fell while the connection waited for its session, and how many
    /// bytes it lost (`None` when more gaps followed it, whose places in `buf` are unknown).
    pub(super) gap_at: Option<(usize, Option<u64>)>,
    /// While resynchronising: the ciphertext lost since the last record opened (the partial
    /// record before the gap, the gap, the bytes skipped after it), when it is known.
    pub(super) lost: Option<u64>,
    /// A TLS 1.3 record of this direction carried padding, so the plaintext of a lost record
    /// cannot be told from its length.
    pub(super) padded: bool,
    /// Records of `buf` opened ahead.
    pub(super) ahead: Ahead,
}

impl Half {
    /// Starts looking for the next record after a gap that lost `lost` bytes of ciphertext
    /// since the last record opened, or adds them to the gap already being crossed.
    pub(super) fn start_resync(&mut self, lost: Option<u64>) {
        self.lost = match (self.resync, self.lost, lost) {
            (false, _, lost) => lost,
            (true, Some(a), Some(b)) => Some(a.saturating_add(b)),
            _ => None,
        };
        self.resync = true;
        self.scanned = 0;
        self.gap_trials = 0;
        self.since_gap = 0;
    }

    pub(super) fn push(&mut self, data: &[u8], origin: Origin) {
        self.since_gap = self.since_gap.saturating_add(data.len() as u64);
        self.marks.push_back((self.buf.len(), origin));
        self.buf.extend_from_slice(data);
    }

    pub(super) fn origin_at(&self, at: usize) -> Option<Origin> {
        self.marks
            .iter()
            .take_while(|(o, _)| *o <= at)
            .last()
            .map(|(_, origin)| *origin)
    }

    /// Drops the first `n` bytes, which resynchronisation skipped.
    pub(super) fn skip(&mut self, n: usize) {
        self.lost = self.lost.map(|l| l.saturating_add(n as u64));
        self.consume(n);
    }

    /// The plaintext lost in the gap just crossed, which `records` records held: their
    /// ciphertext less what each record adds (`overhead`). Exact when every lost record was
    /// application data without padding, as common TLS stacks send; `None` when not known.
    pub(super) fn lost_plaintext(&self, records: u64, overhead: u64) -> Option<u64> {
        if self.padded {
            return None;
        }
        self.lost?.checked_sub(records.checked_mul(overhead)?)
    }

    /// Drops the first `n` bytes.
    pub(super) fn consume(&mut self, n: usize) {
        self.ahead.put_back(&mut self.buf);
        self.buf.drain(..n);
        while self.marks.len() > 1 && self.marks[1].0 <= n {
            self.marks.pop_front();
        }
        for (o, _) in &mut self.marks {
            *o = o.saturating_sub(n);
        }
        if let Some((gap, _)) = &mut self.gap_at {
            *gap = gap.saturating_sub(n);
        }
        if self.buf.is_empty() {
            self.marks.clear();
        }
    }

    /// Opens a protected record in place with the current key, else with the next (seq 0),
    /// switching to it. `None` when neither opens it.
    pub(super) fn open(
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
