//! Message bodies as raw bytes.
//!
//! The model never decides between text and base64: that is each writer's job, because the
//! formats disagree (http-types has text only, Hoverfly has `encodedBody`, HAR has `encoding`).

use serde::{Serialize, Serializer};
use std::sync::Arc;

/// A message body: the bytes after transfer decoding, plus what content decoding was undone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    /// The payload bytes.
    pub bytes: Bytes,
    /// The `Content-Encoding` that was removed to get `bytes` (e.g. `gzip`), if any.
    pub decoded_from: Option<String>,
    /// Set when the body is not whole: the connection or capture ended before it did, a limit
    /// cut it, or bytes of it were lost in a TCP gap. `bytes` are then only the bytes that
    /// were seen, as sent (an incomplete body is never content-decoded).
    pub cut: Option<Cut>,
}

/// What arrived of a body that is not whole.
///
/// `bytes` never hold invented data: the bytes lost in gaps are left out, and `missing` says
/// where they were, as half-open `[start, end)` offsets into the body as it was sent (after
/// transfer decoding, before content decoding). To put `bytes` back where they were sent,
/// lay them out from offset 0 and skip over each missing range on reaching its start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cut {
    /// Body bytes seen (after transfer decoding), not counting the missing ones.
    pub seen: u64,
    /// The length the message announced (`Content-Length`), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced: Option<u64>,
    /// Ranges of the body lost in TCP gaps (bytes never captured), in order. A body with
    /// gaps that ended where its framing said is complete but for these ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<[u64; 2]>,
}

impl Cut {
    /// Adds `n` bytes lost at offset `at` to `missing`, joined to the last range when it ends
    /// there; returns the offset after them.
    pub fn extend_missing(missing: &mut Vec<[u64; 2]>, at: u64, n: u64) -> u64 {
        let end = at.saturating_add(n);
        match missing.last_mut() {
            Some(last) if last[1] == at => last[1] = end,
            _ => missing.push([at, end]),
        }
        end
    }

    /// Bytes in the missing ranges.
    pub fn missing_bytes(&self) -> u64 {
        self.missing.iter().map(|[a, b]| b.saturating_sub(*a)).sum()
    }
}

/// `after 10 of 300 body bytes`, or `after 10 body bytes` when no length was announced; with
/// gaps, `10 of 300 body bytes seen, 290 lost in gaps at 10..300`.
impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.missing.is_empty() {
            return match self.announced {
                Some(n) => write!(f, "after {} of {n} body bytes", self.seen),
                None => write!(f, "after {} body bytes", self.seen),
            };
        }
        match self.announced {
            Some(n) => write!(f, "{} of {n} body bytes seen", self.seen)?,
            None => write!(f, "{} body bytes seen", self.seen)?,
        }
        write!(f, ", {} lost in gaps at ", self.missing_bytes())?;
        for (i, [a, b]) in self.missing.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{a}..{b}")?;
        }
        Ok(())
    }
}

impl Body {
    /// A body holding `bytes` as they are.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Self {
            bytes: bytes.into(),
            decoded_from: None,
            cut: None,
        }
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The body as text when it is valid UTF-8.
    pub fn as_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }
}

impl From<&str> for Body {
    fn from(s: &str) -> Self {
        Self::from_bytes(s)
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Self::from_bytes(s)
    }
}

/// Debug dumps show text as text and anything else as base64, so goldens stay readable.
impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        match self.as_text() {
            Some(text) => map.serialize_entry("text", text)?,
            None => map.serialize_entry(
                "base64",
                &base64::engine::general_purpose::STANDARD.encode(&self.bytes),
            )?,
        }
        if let Some(enc) = &self.decoded_from {
            map.serialize_entry("decodedFrom", enc)?;
        }
        if let Some(cut) = &self.cut {
            map.serialize_entry("cut", cut)?;
        }
        map.end()
    }
}

/// Immutable body bytes, shared by clones: a body that recurs (the same inflated page in many
/// exchanges) is one allocation, and a clone costs a reference count, not a copy.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Bytes(Arc<Vec<u8>>);

impl Bytes {
    /// Whether `a` and `b` share one allocation; being immutable, they are then equal.
    pub fn same(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    /// The address of the shared allocation: equal for clones, and not reused by another
    /// allocation while any clone is alive.
    pub fn address(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// Heap bytes the allocation holds.
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Self(Arc::new(v))
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Self::from(v.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for Bytes {
    fn from(v: &[u8; N]) -> Self {
        Self::from(v.to_vec())
    }
}

impl From<String> for Bytes {
    fn from(s: String) -> Self {
        Self::from(s.into_bytes())
    }
}

impl From<&str> for Bytes {
    fn from(s: &str) -> Self {
        Self::from(s.as_bytes())
    }
}

impl PartialEq<[u8]> for Bytes {
    fn eq(&self, other: &[u8]) -> bool {
        self.0.as_slice() == other
    }
}

impl PartialEq<Vec<u8>> for Bytes {
    fn eq(&self, other: &Vec<u8>) -> bool {
        *self.0 == *other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for Bytes {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.0.as_slice() == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Bytes {
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.0.as_slice() == *other
    }
}
