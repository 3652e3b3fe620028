//! Finding the frames again after a gap took a frame header.
//!
//! Where the next frame starts is unknown, so the bytes after the gap are held (at most
//! [`WINDOW`]) and searched for the first offset where [`CHAIN`] frame headers follow each
//! other, each [`Head::resumable`] and each at the end of the one before. Inside a body a
//! 9-byte header that passes is rare (a type of RFC 9113 §6 with only its flags, the stream id
//! and length its type requires, a length under 16 KiB); three in a row, each where the one
//! before ends, do not occur by chance. When the direction ends first, a shorter run is taken
//! only if its frames end exactly where the bytes do.

use super::frame::{HEADER_LEN, Head};
use crate::capture::tcp_reassembly::Origin;

/// Frame headers in a row that make an offset the start of a frame.
pub const CHAIN: usize = 3;

/// Bytes held while searching: enough to decide any offset (the chain's frames at their
/// largest plausible length), so the offsets ruled out can be let go.
pub const WINDOW: usize = CHAIN * (HEADER_LEN + super::frame::PLAUSIBLE_FRAME_BYTES) + HEADER_LEN;

/// What the bytes from an offset say.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Frames,
    NotFrames,
    Undecided,
}

/// Bytes after a gap, held until the frames are found in them.
#[derive(Debug, Default)]
pub struct Resync {
    buf: Vec<u8>,
    /// Where each piece pushed starts in `buf`, with its packet.
    origins: Vec<(usize, Origin)>,
    /// Offsets before this one are not frame starts.
    from: usize,
    /// Bytes let go, before `buf`'s first.
    dropped: u64,
}

/// The bytes from the first frame found on, in the pieces they arrived in.
pub struct Found {
    /// Bytes between the gap and the first frame.
    pub skipped: u64,
    /// Those bytes, in the pieces they were pushed in, each with its packet.
    pub pieces: Vec<(Vec<u8>, Origin)>,
}

impl Resync {
    /// Searching again after a second gap, `skipped` bytes after the first.
    pub fn after(skipped: u64) -> Self {
        Self {
            dropped: skipped,
            ..Self::default()
        }
    }

    /// Adds `data`; returns the frames' bytes once a chain is found.
    pub fn push(&mut self, data: &[u8], origin: Origin) -> Option<Found> {
        self.origins.push((self.buf.len(), origin));
        self.buf.extend_from_slice(data);
        let found = self.search(false);
        debug_assert!(found.is_some() || self.buf.len() < WINDOW);
        found
    }

    /// The direction ended: a chain cut short by the end is taken only if it ends there.
    pub fn end(&mut self) -> Option<Found> {
        self.search(true)
    }

    /// Bytes held and let go so far.
    pub fn skipped(&self) -> u64 {
        self.dropped + self.buf.len() as u64
    }

    fn search(&mut self, at_end: bool) -> Option<Found> {
        while self.from + HEADER_LEN <= self.buf.len() {
            match verdict(&self.buf[self.from..], at_end) {
                Verdict::Frames => return Some(self.take(self.from)),
                Verdict::NotFrames => self.from += 1,
                Verdict::Undecided => break,
            }
        }
        if at_end || self.from == 0 {
            return None;
        }
        // What is ruled out is let go; what is left is less than one window.
        let gone = self.from;
        self.buf.drain(..gone);
        self.dropped += gone as u64;
        self.from = 0;
        let mut kept = Vec::with_capacity(self.origins.len());
        for (i, &(start, origin)) in self.origins.iter().enumerate() {
            let end = self.origins.get(i + 1).map_or(usize::MAX, |o| o.0);
            if end > gone {
                kept.push((start.saturating_sub(gone), origin));
            }
        }
        self.origins = kept;
        None
    }

    fn take(&mut self, at: usize) -> Found {
        let buf = std::mem::take(&mut self.buf);
        let mut pieces = Vec::new();
        for (i, &(start, origin)) in self.origins.iter().enumerate() {
            let end = self.origins.get(i + 1).map_or(buf.len(), |o| o.0);
            let start = start.max(at);
            if start < end {
                pieces.push((buf[start..end].to_vec(), origin));
            }
        }
        Found {
            skipped: self.dropped + at as u64,
            pieces,
        }
    }
}

fn head_at(b: &[u8], at: usize) -> Option<Head> {
    let bytes: &[u8; HEADER_LEN] = b.get(at..at + HEADER_LEN)?.try_into().ok()?;
    Some(Head::parse(bytes))
}

/// Whether frames start at `b[0]`: [`CHAIN`] resumable headers in a row, or, at the end of
/// the direction, fewer whose frames end exactly at the end of `b`.
fn verdict(b: &[u8], at_end: bool) -> Verdict {
    let mut at = 0;
    for n in 0..CHAIN {
        if at_end && n > 0 && at == b.len() {
            return Verdict::Frames;
        }
        let Some(head) = head_at(b, at) else {
            return if at_end {
                Verdict::NotFrames
            } else {
                Verdict::Undecided
            };
        };
        if !head.resumable() {
            return Verdict::NotFrames;
        }
        at += HEADER_LEN + head.len;
    }
    Verdict::Frames
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::http2::frame::kind;
    use crate::model::Timestamp;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let n = payload.len();
        let mut f = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, kind, flags];
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn at(packet: u64) -> Origin {
        Origin {
            ts: Timestamp::from_unix(0, 0),
            packet,
        }
    }

    fn frames() -> Vec<u8> {
        [
            frame(kind::WINDOW_UPDATE, 0, 0, &[0, 0, 1, 0]),
            frame(kind::HEADERS, 4, 5, b"\x88"),
            frame(kind::DATA, 0, 5, &[7; 300]),
            frame(kind::DATA, 1, 5, b"end"),
        ]
        .concat()
    }

    /// The tail of a DATA frame (body bytes, zeros and text among them) is skipped, and the
    /// frames after it come back whole, in their pieces, with their packets.
    #[test]
    fn the_first_chain_of_frame_headers_is_where_frames_start_again() {
        for tail in [&[0u8; 700][..], &[0xff; 50], b"{\"a\": [1, 2, 3]}\r\n", &[]] {
            let all = [tail, &frames()].concat();
            for split in [1, 7, 100, all.len()] {
                let mut r = Resync::default();
                let mut pieces = all.chunks(split).enumerate();
                let mut found = None;
                for (i, piece) in pieces.by_ref() {
                    found = r.push(piece, at(i as u64));
                    if found.is_some() {
                        break;
                    }
                }
                let found = found.or_else(|| r.end()).expect("frames found");
                assert_eq!(found.skipped, tail.len() as u64);
                let mut bytes: Vec<u8> = found.pieces.iter().flat_map(|p| p.0.clone()).collect();
                bytes.extend(pieces.flat_map(|(_, p)| p.to_vec()));
                assert_eq!(bytes, frames());
                let first = tail.len() / split;
                assert_eq!(found.pieces[0].1.packet, first as u64);
            }
        }
    }

    /// Ended early, a run of frames is taken only when it ends where the bytes end.
    #[test]
    fn at_the_end_a_short_run_must_end_with_the_bytes() {
        let two = [
            frame(kind::HEADERS, 4, 5, b"\x88"),
            frame(kind::DATA, 1, 5, b"x"),
        ]
        .concat();
        let mut r = Resync::default();
        assert!(
            r.push(&[b"tail".as_slice(), &two].concat(), at(1))
                .is_none()
        );
        let found = r.end().expect("two frames that end with the bytes");
        assert_eq!(found.skipped, 4);
        let mut r = Resync::default();
        assert!(
            r.push(&[b"tail".as_slice(), &two[..two.len() - 1]].concat(), at(1))
                .is_none()
        );
        assert!(r.end().is_none(), "a run cut short is not taken");
        assert_eq!(r.skipped(), (4 + two.len() - 1) as u64);
    }

    /// Bytes that never hold frames are let go as they are ruled out: what is held stays
    /// under one window.
    #[test]
    fn held_bytes_stay_under_one_window() {
        let mut r = Resync::default();
        let noise: Vec<u8> = (0..100_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for piece in noise.chunks(1000) {
            assert!(r.push(piece, at(1)).is_none());
            assert!(r.buf.len() < WINDOW);
        }
        assert_eq!(r.skipped(), 100_000);
    }
}
