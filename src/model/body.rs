//! Message bodies as raw bytes.
//!
//! The model never decides between text and base64: that is each writer's job, because the
//! formats disagree (http-types has text only, Hoverfly has `encodedBody`, HAR has `encoding`).

use serde::{Serialize, Serializer};

/// A message body: the bytes after transfer decoding, plus what content decoding was undone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    /// The payload bytes.
    pub bytes: Vec<u8>,
    /// The `Content-Encoding` that was removed to get `bytes` (e.g. `gzip`), if any.
    pub decoded_from: Option<String>,
}

impl Body {
    /// A body holding `bytes` as they are.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
            decoded_from: None,
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
        Self::from_bytes(s.as_bytes())
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Self::from_bytes(s.into_bytes())
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
        map.end()
    }
}
