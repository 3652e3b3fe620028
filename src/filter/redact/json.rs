//! JSON fields in bodies: the values of matching fields (by name anywhere, or by pointer) are
//! replaced in the bytes as they are, so the rest of the document stays byte for byte.

use super::{Hits, JsonField, MARKER, Redaction};

impl Redaction {
    /// `bytes` with the values of matching fields replaced, when they are a JSON document
    /// and something matched.
    pub(super) fn json(&self, bytes: &[u8], hits: &mut Hits<'_>) -> Option<Vec<u8>> {
        // Checked whole first (serde_json ignores a value without recursion), so the scan
        // below can trust the syntax.
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes).ok()?;
        let mut scan = Scan {
            b: bytes,
            i: 0,
            spans: Vec::new(),
            rules: self,
        };
        scan.ws();
        scan.walk();
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

/// One array or object the walk is inside: how it ends, and where the value of the member
/// being read starts and whether it is to be replaced.
struct Open {
    close: u8,
    object: bool,
    index: usize,
    look: bool,
    member: Option<(usize, bool)>,
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

    /// Walks the value at `i` and everything in it, with a stack of its open arrays and
    /// objects rather than recursion, since a body may nest as deep as it likes.
    fn walk(&mut self) {
        let mut path: Vec<String> = Vec::new();
        let mut open: Vec<Open> = Vec::new();
        // False inside a value already being replaced.
        let mut look = true;
        loop {
            match self.b.get(self.i) {
                Some(&c @ (b'{' | b'[')) => {
                    self.i += 1;
                    open.push(Open {
                        close: if c == b'{' { b'}' } else { b']' },
                        object: c == b'{',
                        index: 0,
                        look,
                        member: None,
                    });
                }
                Some(b'"') => {
                    self.string();
                    self.end_member(&mut open, &mut path);
                }
                Some(_) => {
                    self.scalar();
                    self.end_member(&mut open, &mut path);
                }
                None => return,
            }
            // On to the next member of the innermost open value, past those that end here.
            loop {
                let Some(top) = open.last_mut() else {
                    return;
                };
                self.ws();
                match self.b.get(self.i) {
                    Some(&c) if c == top.close => {
                        self.i += 1;
                        open.pop();
                        self.end_member(&mut open, &mut path);
                        continue;
                    }
                    Some(b',') => {
                        self.i += 1;
                        continue;
                    }
                    None => return,
                    _ => {}
                }
                let key = if top.object {
                    let key_start = self.i;
                    self.string();
                    let key = serde_json::from_slice(&self.b[key_start..self.i]);
                    self.ws();
                    self.i += 1; // the colon
                    self.ws();
                    key.unwrap_or_default()
                } else {
                    top.index += 1;
                    (top.index - 1).to_string()
                };
                path.push(key);
                let hit = top.look
                    && (top.object && self.matches_name(&path) || self.matches_pointer(&path));
                top.member = Some((self.i, hit));
                look = top.look && !hit;
                break;
            }
        }
    }

    /// The value of the innermost open member ends at `i`: its span is kept if it is a hit.
    fn end_member(&mut self, open: &mut [Open], path: &mut Vec<String>) {
        let Some((start, hit)) = open.last_mut().and_then(|top| top.member.take()) else {
            return;
        };
        path.pop();
        if hit && &self.b[start..self.i] != format!("\"{MARKER}\"").as_bytes() {
            self.spans.push((start, self.i));
        }
    }

    fn scalar(&mut self) {
        while self
            .b
            .get(self.i)
            .is_some_and(|c| !matches!(c, b',' | b']' | b'}') && !c.is_ascii_whitespace())
        {
            self.i += 1;
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
