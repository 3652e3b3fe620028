//! Opening a run of records ahead of the parser, on all cores.
//!
//! Flows run in parallel, but one busy connection in a batch (a large HTTPS download) is one
//! task, and its decryption is most of it. The records of a run under one key are independent
//! (each has its own sequence number), so they are opened together, and the parser then takes
//! them in order as if each had been opened when it came.
//!
//! A guess can be wrong: a TLS 1.3 KeyUpdate inside the run changes the key for the records
//! after it. Each guess is tied to the key and sequence number it was made with, and the
//! ciphertext of the run is kept until the parser has taken it, so a record whose guess no
//! longer applies is put back and opened again the ordinary way. An AEAD that opens a record
//! proves it was sealed under that key and number, so a guess that is used is never wrong.

use super::MAX_RECORD_BYTES;
use super::keys::{AuthFailed, RecordKey};
use rayon::prelude::*;
use std::collections::VecDeque;
use std::ops::Range;

/// Fewest whole records worth opening together: below it the hand-off costs more.
const MIN_RECORDS: usize = 4;

/// Ciphertext bytes opened together at most, which bounds the copy kept to put them back.
const MAX_BYTES: usize = 1 << 20;

/// What a record opened to: its content type and where its plaintext lies in its fragment.
type Opened = Result<(u8, Range<usize>), AuthFailed>;

#[derive(Debug)]
struct Guess {
    /// Where the record's fragment starts in the direction's buffer.
    body_start: usize,
    /// The sequence number it was opened with.
    seq: u64,
    result: Opened,
}

/// Records of one direction opened ahead, and the ciphertext to put back what is not used.
#[derive(Debug, Default)]
pub struct Ahead {
    guesses: VecDeque<Guess>,
    /// The key's IV when the guesses were made: a KeyUpdate gives a new one.
    iv: [u8; 12],
    /// The run's ciphertext, in its first `saved_len` bytes (the rest is room kept from
    /// longer runs).
    saved: Vec<u8>,
    saved_len: usize,
    /// Where `saved` starts in the buffer.
    saved_from: usize,
}

impl Ahead {
    /// Opens the record whose header is `header` and whose fragment is `buf[body]` with `key`,
    /// as [`RecordKey::open`] does (the sequence number advances on success). When `guess` is
    /// allowed, whole records that follow it under the same key are opened with it.
    pub fn open(
        &mut self,
        buf: &mut [u8],
        key: &mut RecordKey,
        header: &[u8; 5],
        body: Range<usize>,
        guess: bool,
    ) -> Opened {
        if !self.leads_with(body.start, key) {
            self.put_back(buf);
            if guess {
                if let Some(at) = body.start.checked_sub(5) {
                    self.open_run(buf, key, at);
                }
            }
        }
        if self.leads_with(body.start, key) {
            if let Some(g) = self.guesses.pop_front() {
                if g.result.is_ok() {
                    key.seq += 1;
                }
                return g.result;
            }
        }
        key.open(header, &mut buf[body])
    }

    /// Puts the ciphertext of records not taken back into `buf`, and forgets the guesses.
    /// Called before the buffer's front is dropped or its bytes are read another way.
    pub fn put_back(&mut self, buf: &mut [u8]) {
        if let Some(first) = self.guesses.front() {
            let end = self.saved_from + self.saved_len;
            if let (Some(to), Some(from)) = (
                buf.get_mut(first.body_start..end),
                self.saved[..self.saved_len].get(first.body_start - self.saved_from..),
            ) {
                to.copy_from_slice(from);
            }
        }
        self.forget();
    }

    /// Forgets the guesses, for a buffer that was emptied.
    pub fn forget(&mut self) {
        self.guesses.clear();
        self.saved_len = 0;
    }

    fn leads_with(&self, body_start: usize, key: &RecordKey) -> bool {
        self.guesses
            .front()
            .is_some_and(|g| g.body_start == body_start && g.seq == key.seq && self.iv == key.iv())
    }

    /// Opens the whole application-data records from `buf[at..]` on, in parallel.
    fn open_run(&mut self, buf: &mut [u8], key: &RecordKey, at: usize) {
        let mut records: Vec<([u8; 5], Range<usize>)> = Vec::new();
        let mut pos = at;
        while pos - at < MAX_BYTES {
            let Some(h) = buf.get(pos..pos + 5) else {
                break;
            };
            let header: [u8; 5] = h.try_into().expect("five bytes");
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            if header[0] != 23 || header[1] != 3 || len > MAX_RECORD_BYTES {
                break;
            }
            if buf.len() < pos + 5 + len {
                break;
            }
            records.push((header, pos + 5..pos + 5 + len));
            pos += 5 + len;
        }
        if records.len() < MIN_RECORDS {
            return;
        }
        let len = pos - at;
        if self.saved.len() < len {
            self.saved.resize(len, 0);
        }
        self.saved_len = len;
        self.saved_from = at;
        self.iv = key.iv();
        let mut jobs = Vec::with_capacity(records.len());
        let mut rest = &mut buf[at..pos];
        let mut room = &mut self.saved[..len];
        let mut offset = at;
        for (i, (header, body)) in records.iter().enumerate() {
            let (record, tail) = rest.split_at_mut(body.end - offset);
            let (copy, room_tail) = room.split_at_mut(body.end - offset);
            jobs.push((header, record, copy, key.seq + i as u64, body.start));
            (rest, room) = (tail, room_tail);
            offset = body.end;
        }
        // Each job keeps its record's ciphertext before opening it in place: on one busy
        // connection this copy, made for the whole run before the jobs, was a serial pass.
        let guesses: Vec<Guess> = jobs
            .into_par_iter()
            .map(|(header, record, copy, seq, body_start)| {
                copy.copy_from_slice(record);
                Guess {
                    body_start,
                    seq,
                    result: key.open_at(seq, header, &mut record[5..]),
                }
            })
            .collect();
        self.guesses = guesses.into();
    }
}
