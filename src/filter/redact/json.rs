//! JSON fields in bodies: the values of matching fields (by name anywhere, or by pointer) are
//! replaced in the bytes as they are, so the rest of the document stays byte for byte.

use super::{Hits, JsonField, MARKER, Redaction};

impl Redaction {
    /// `bytes` with the values of matching fields replaced, when they are a JSON document
    /// and something matched.
    pub(super) fn json(&self, bytes: &[u8], hits: &mut Hits<'_>) -> Option<Vec<u8>> {
        // Checked whole first, so the scan below can trust the syntax (and serde_json's
        // nesting limit bounds its recursion).
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).ok()?;
        let mut scan = Scan {
            b: bytes,
            i: 0,
            spans: Vec::new(),
            rules: self,
        };
        scan.ws();
        scan.value(&mut Vec::new(), true);
        if scan.spans.is_empty() {
            return None;
        }
        let marker = format!("\"{MARKER}\"");
        let mut out = Vec::with_capacity(bytes.len());
        let mut at = 0;
        for (start, end) in scan.spans {
            out.extend_from_slice(&bytes[at..start]);
            out.extend_from_slice(marker.as_bytes());
            at = end;
            let old = &bytes[start..end];
            let old = serde_json::from_slice::<String>(old)
                .unwrap_or_else(|_| String::from_utf8_lossy(old).into_owned());
            hits.hit(&old);
        }
        out.extend_from_slice(&bytes[at..]);
        Some(out)
    }
}

/// A walk over JSON that is known to be valid, collecting the byte spans of values to
/// replace.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    spans: Vec<(usize, usize)>,
    rules: &'a Redaction,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    /// Moves past the value at `i`; `look` is false inside a value already being replaced.
    fn value(&mut self, path: &mut Vec<String>, look: bool) {
        match self.b.get(self.i) {
            Some(&open @ (b'{' | b'[')) => {
                let (close, object) = if open == b'{' {
                    (b'}', true)
                } else {
                    (b']', false)
                };
                self.i += 1;
                let mut index = 0usize;
                loop {
                    self.ws();
                    match self.b.get(self.i) {
                        Some(&c) if c == close => {
                            self.i += 1;
                            return;
                        }
                        Some(b',') => {
                            self.i += 1;
                            continue;
                        }
                        None => return,
                        _ => {}
                    }
                    let key = if object {
                        let key_start = self.i;
                        self.string();
                        let key = serde_json::from_slice(&self.b[key_start..self.i]);
                        self.ws();
                        self.i += 1; // the colon
                        self.ws();
                        key.unwrap_or_default()
                    } else {
                        index += 1;
                        (index - 1).to_string()
                    };
                    let start = self.i;
                    path.push(key);
                    let hit =
                        look && (object && self.matches_name(path) || self.matches_pointer(path));
                    self.value(path, look && !hit);
                    path.pop();
                    if hit && &self.b[start..self.i] != format!("\"{MARKER}\"").as_bytes() {
                        self.spans.push((start, self.i));
                    }
                }
            }
            Some(b'"') => self.string(),
            Some(_) => {
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|c| !matches!(c, b',' | b']' | b'}') && !c.is_ascii_whitespace())
                {
                    self.i += 1;
                }
            }
            None => {}
        }
    }

    fn string(&mut self) {
        self.i += 1;
        while let Some(&c) = self.b.get(self.i) {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => return,
                _ => {}
            }
        }
    }

    fn matches_name(&self, path: &[String]) -> bool {
        self.rules
            .is_json_name(path.last().map_or("", String::as_str))
    }

    fn matches_pointer(&self, path: &[String]) -> bool {
        self.rules
            .json
            .iter()
            .any(|f| matches!(f, JsonField::Pointer(p) if p == path))
    }
}
