//! Remembered results of costly pure functions of a body: inflating it, escaping it as JSON.
//!
//! Recorded traffic repeats itself: the same page, stylesheet or API answer is served again
//! and again, byte for byte, and a capture holds every copy. A [`Memo`] remembers what a
//! function gave for a body it has met twice, and hands the result back when the same bytes
//! come again, so the work is done once per distinct body rather than once per copy. Hits are
//! checked byte for byte against the remembered input, so a result is only reused for equal
//! bytes: the output is the same with or without the memo, and whatever the thread count.
//!
//! A remembered input is a clone of the caller's [`Bytes`], not a copy, and when the same
//! allocation comes again (a body that is itself a remembered result) it is found by address,
//! with neither hash nor comparison.
//!
//! Traffic whose bodies never repeat pays one hash per body and a small set of hashes.

use crate::model::Bytes;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Bytes a memo holds, inputs and results together, before it forgets everything and starts
/// again (so a change in the traffic's mix is followed, and memory stays bounded).
pub const MEMO_BYTES: usize = 16 << 20;

/// Largest input a memo takes; bigger bodies are rare enough to compute each time.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// Hashes of inputs met once that a memo keeps, waiting for a second meeting.
const MAX_SEEN: usize = 1 << 16;

/// A bounded, thread-safe map from (tag, bytes) to what a function gave for them; see the
/// module documentation.
pub struct Memo<V> {
    min_bytes: usize,
    inner: Mutex<Inner<V>>,
}

struct Inner<V> {
    /// Hashes met once: an input is remembered on its second meeting, so bodies that never
    /// repeat are never copied.
    seen: HashSet<u64>,
    entries: HashMap<u64, Entry<V>>,
    /// Entries by [`Bytes::address`] of their input; the entry keeps that allocation alive.
    by_address: HashMap<usize, u64>,
    bytes: usize,
}

struct Entry<V> {
    tag: Arc<str>,
    input: Bytes,
    value: Arc<V>,
}

impl<V: Weigh> Entry<V> {
    fn weight(&self) -> usize {
        self.tag.len() + self.input.capacity() + self.value.weight()
    }
}

/// A value from [`Memo::get`]: computed for this call, or shared with the memo.
pub enum Got<V> {
    /// Computed for this call.
    Fresh(V),
    /// Remembered from an earlier call with equal input.
    Remembered(Arc<V>),
}

/// What [`Memo::find`] found.
pub enum Found<'i, V> {
    /// The value remembered for an equal input.
    Hit(Arc<V>),
    /// Nothing; with a ticket when the value should be kept once computed.
    Miss(Option<Ticket<'i>>),
}

/// Leave to remember a value for an input met the second time (see [`Memo::find`]).
pub struct Ticket<'i> {
    hash: u64,
    tag: &'i str,
    input: &'i Bytes,
}

impl<V> std::ops::Deref for Got<V> {
    type Target = V;
    fn deref(&self) -> &V {
        match self {
            Got::Fresh(v) => v,
            Got::Remembered(v) => v,
        }
    }
}

impl<V: Clone> Got<V> {
    /// The value, copied out of the memo if it is shared.
    pub fn into_owned(self) -> V {
        match self {
            Got::Fresh(v) => v,
            Got::Remembered(v) => Arc::unwrap_or_clone(v),
        }
    }
}

/// What a memo's value costs in memory.
pub trait Weigh {
    /// Heap bytes held.
    fn weight(&self) -> usize;
}

impl Weigh for Vec<u8> {
    fn weight(&self) -> usize {
        self.capacity()
    }
}

impl Weigh for Bytes {
    fn weight(&self) -> usize {
        self.capacity()
    }
}

impl<T: Weigh> Weigh for Option<T> {
    fn weight(&self) -> usize {
        self.as_ref().map_or(0, Weigh::weight)
    }
}

impl<T: Weigh> Weigh for Result<T, String> {
    fn weight(&self) -> usize {
        match self {
            Ok(v) => v.weight(),
            Err(e) => e.len(),
        }
    }
}

impl<V: Weigh> Memo<V> {
    /// A memo for inputs of at least `min_bytes` (below that, the work costs less than the
    /// lookup).
    pub fn new(min_bytes: usize) -> Self {
        Self {
            min_bytes,
            inner: Mutex::new(Inner {
                seen: HashSet::new(),
                entries: HashMap::new(),
                by_address: HashMap::new(),
                bytes: 0,
            }),
        }
    }

    /// What `compute(input)` gives, computed now or remembered from equal `tag` and `input`.
    /// `tag` names whatever else `compute` depends on.
    pub fn get(&self, tag: &str, input: &Bytes, compute: impl FnOnce(&[u8]) -> V) -> Got<V> {
        match self.find(tag, input) {
            Found::Hit(v) => Got::Remembered(v),
            Found::Miss(None) => Got::Fresh(compute(input)),
            Found::Miss(Some(ticket)) => Got::Remembered(self.keep(ticket, compute(input))),
        }
    }

    /// Looks `tag` and `input` up. A miss carries a [`Ticket`] when the input has been met
    /// before: then the caller should compute the value and [`Memo::keep`] it.
    pub fn find<'i>(&self, tag: &'i str, input: &'i Bytes) -> Found<'i, V> {
        if input.len() < self.min_bytes || input.len() > MAX_INPUT_BYTES {
            return Found::Miss(None);
        }
        {
            let Ok(inner) = self.inner.lock() else {
                return Found::Miss(None);
            };
            let known = inner.by_address.get(&input.address());
            if let Some(e) = known.and_then(|hash| inner.entries.get(hash)) {
                if Bytes::same(&e.input, input) && *e.tag == *tag {
                    return Found::Hit(e.value.clone());
                }
            }
        }
        // Hashed with the lock released: the threads that encode a batch all come here, and a
        // body's hash under the lock made them take turns.
        let hash = hash(tag.as_bytes(), input);
        let Ok(mut inner) = self.inner.lock() else {
            return Found::Miss(None);
        };
        if let Some(e) = inner.entries.get(&hash) {
            let (t, i, v) = (e.tag.clone(), e.input.clone(), e.value.clone());
            drop(inner);
            // Equal hashes of unequal inputs: compute, and leave the entry alone.
            return if *t == *tag && *i == **input {
                Found::Hit(v)
            } else {
                Found::Miss(None)
            };
        }
        if inner.seen.len() >= MAX_SEEN {
            inner.seen.clear();
        }
        if inner.seen.insert(hash) {
            return Found::Miss(None);
        }
        Found::Miss(Some(Ticket { hash, tag, input }))
    }

    /// Remembers `value` for the input of `ticket`, and hands it back shared.
    pub fn keep(&self, ticket: Ticket<'_>, value: V) -> Arc<V> {
        let value = Arc::new(value);
        let entry = Entry {
            tag: ticket.tag.into(),
            input: ticket.input.clone(),
            value: value.clone(),
        };
        self.remember(ticket.hash, entry);
        value
    }

    fn remember(&self, hash: u64, entry: Entry<V>) {
        let weight = entry.weight();
        if weight > MEMO_BYTES / 4 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.bytes + weight > MEMO_BYTES {
            inner.entries.clear();
            inner.by_address.clear();
            inner.seen.clear();
            inner.bytes = 0;
        }
        inner.seen.remove(&hash);
        let address = entry.input.address();
        if let Some(old) = inner.entries.insert(hash, entry) {
            inner.by_address.remove(&old.input.address());
            inner.bytes -= old.weight();
        }
        inner.by_address.insert(address, hash);
        inner.bytes += weight;
    }
}

/// Bytes at each end of an input that [`hash`] reads whole.
const HASHED_ENDS: usize = 128;

/// Words [`hash`] reads from the middle of a longer input, evenly spaced.
const HASHED_SAMPLES: usize = 32;

/// A 64-bit hash of `tag`, the length of `bytes`, both ends of it and words sampled between.
/// It reads at most a few hundred bytes, since a hit is confirmed by comparing every byte
/// anyway; inputs that differ only between the samples share a hash, and then the first one
/// keeps the entry and the others are computed each time.
fn hash(tag: &[u8], bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, w: u64| (h ^ w).wrapping_mul(K).rotate_left(29);
    let absorb = |h: u64, part: &[u8]| {
        part.chunks(8).fold(h, |h, chunk| {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            mix(h, u64::from_le_bytes(w))
        })
    };
    let mut h = absorb(mix(K, bytes.len() as u64), tag);
    if bytes.len() <= 2 * HASHED_ENDS {
        return mix(absorb(h, bytes), K);
    }
    h = absorb(h, &bytes[..HASHED_ENDS]);
    let middle = &bytes[HASHED_ENDS..bytes.len() - HASHED_ENDS];
    let step = (middle.len() / HASHED_SAMPLES).max(8);
    for at in (0..middle.len().saturating_sub(7)).step_by(step) {
        h = absorb(h, &middle[at..at + 8]);
    }
    mix(absorb(h, &bytes[bytes.len() - HASHED_ENDS..]), K)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A memo over an upper-casing function that counts its calls.
    fn upper(memo: &Memo<Vec<u8>>, calls: &AtomicUsize, tag: &str, input: &str) -> String {
        let v = memo.get(tag, &Bytes::from(input), |b| {
            calls.fetch_add(1, Ordering::Relaxed);
            b.to_ascii_uppercase()
        });
        String::from_utf8(v.into_owned()).unwrap()
    }

    #[test]
    fn a_body_met_twice_is_computed_twice_and_then_remembered() {
        let (memo, calls) = (Memo::new(4), AtomicUsize::new(0));
        for _ in 0..5 {
            assert_eq!(upper(&memo, &calls, "", "hello"), "HELLO");
        }
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn different_bytes_or_tags_are_never_confused() {
        let (memo, calls) = (Memo::new(4), AtomicUsize::new(0));
        for _ in 0..3 {
            assert_eq!(upper(&memo, &calls, "gzip", "hello"), "HELLO");
            assert_eq!(upper(&memo, &calls, "br", "hello"), "HELLO");
            assert_eq!(upper(&memo, &calls, "gzip", "hellp"), "HELLP");
        }
        // Each of the three keys: computed on its first two meetings only.
        assert_eq!(calls.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn a_remembered_input_is_held_shared_and_found_again_by_address() {
        let (memo, calls) = (Memo::<Vec<u8>>::new(4), AtomicUsize::new(0));
        let input = Bytes::from("shared body");
        let twin = Bytes::from("shared body");
        for _ in 0..3 {
            let v = memo.get("", &input, |b| {
                calls.fetch_add(1, Ordering::Relaxed);
                b.to_ascii_uppercase()
            });
            assert_eq!(*v, b"SHARED BODY");
        }
        let inner = memo.inner.lock().unwrap();
        let entry = inner.entries.values().next().unwrap();
        assert!(
            Bytes::same(&entry.input, &input),
            "the input is held, not copied"
        );
        assert_eq!(
            inner.by_address.get(&input.address()),
            Some(&hash(b"", &input))
        );
        drop(inner);
        // An equal input in another allocation is found by hash and comparison.
        memo.get("", &twin, |_| panic!("recomputed an equal input"));
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn small_inputs_are_always_computed() {
        let (memo, calls) = (Memo::new(16), AtomicUsize::new(0));
        for _ in 0..3 {
            upper(&memo, &calls, "", "short");
        }
        assert_eq!(calls.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_full_memo_starts_again() {
        let memo: Memo<Vec<u8>> = Memo::new(1);
        let big = vec![b'x'; MAX_INPUT_BYTES];
        for i in 0..(MEMO_BYTES / MAX_INPUT_BYTES + 4) as u8 {
            let mut input = big.clone();
            input[0] = i;
            let input = Bytes::from(input);
            for _ in 0..2 {
                memo.get("", &input, |b| b[..1].to_vec());
            }
        }
        let inner = memo.inner.lock().unwrap();
        assert!(inner.bytes <= MEMO_BYTES, "{} bytes held", inner.bytes);
        assert!(!inner.entries.is_empty());
    }

    #[test]
    fn inputs_equal_where_the_hash_does_not_look_are_still_told_apart() {
        let (memo, calls) = (Memo::new(4), AtomicUsize::new(0));
        let mut a = "x".repeat(10_000);
        let b = a.clone();
        a.replace_range(5_001..5_002, "y");
        assert_eq!(hash(b"", a.as_bytes()), hash(b"", b.as_bytes()));
        for _ in 0..3 {
            assert!(upper(&memo, &calls, "", &a).contains('Y'));
            assert!(!upper(&memo, &calls, "", &b).contains('Y'));
        }
    }

    #[test]
    fn the_hash_sees_every_byte_of_a_short_input_and_the_length() {
        let base = vec![7u8; 2 * HASHED_ENDS];
        let h = hash(b"", &base);
        for i in 0..base.len() {
            let mut v = base.clone();
            v[i] ^= 1;
            assert_ne!(hash(b"", &v), h, "byte {i}");
        }
        assert_ne!(hash(b"", &base[..base.len() - 1]), h);
        assert_ne!(hash(b"t", &base), h);
        assert_ne!(hash(b"", &[0u8; 3]), hash(b"", &[0u8; 4]));
    }
}
