//! Turns a JSON pointer into a line and column in the document's bytes.
//!
//! Validation works on parsed values, which forget where they came from. Only failing
//! documents need positions, so instead of recording every value's offset while parsing, we
//! re-scan the failing document's bytes along the pointer, skipping the values beside it.
//! The scan trusts that the bytes are valid JSON (they parsed); on anything else it stops and
//! returns the deepest position reached.

/// The 1-based line and column (in characters) of `offset` in `text`.
pub fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let column = before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    (line, column)
}

/// The byte offset where the value at `pointer` (RFC 6901) starts in `text`; for a pointer
/// that goes past what exists, the offset of the deepest value that does.
pub fn offset_of(text: &[u8], pointer: &str) -> usize {
    let mut s = Scanner { text, pos: 0 };
    s.ws();
    if pointer.is_empty() {
        return s.pos;
    }
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        let here = s.pos;
        let found = match s.peek() {
            Some(b'{') => s.find_member(&token),
            Some(b'[') => token.parse::<usize>().ok().is_some_and(|i| s.find_item(i)),
            _ => false,
        };
        if !found {
            return here;
        }
    }
    s.pos
}

struct Scanner<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Leaves `pos` on the value of member `key` of the object at `pos`.
    fn find_member(&mut self, key: &str) -> bool {
        let start = self.pos;
        self.pos += 1;
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                self.pos = start;
                return false;
            }
            let k_start = self.pos;
            if !self.skip_string() {
                self.pos = start;
                return false;
            }
            let raw = &self.text[k_start..self.pos];
            let matches = serde_json::from_slice::<String>(raw).is_ok_and(|k| k == key);
            if !self.eat(b':') {
                self.pos = start;
                return false;
            }
            self.ws();
            if matches {
                return true;
            }
            if !self.skip_value() || !self.eat(b',') {
                self.pos = start;
                return false;
            }
        }
    }

    /// Leaves `pos` on item `index` of the array at `pos`.
    fn find_item(&mut self, index: usize) -> bool {
        let start = self.pos;
        self.pos += 1;
        for _ in 0..index {
            self.ws();
            if !self.skip_value() || !self.eat(b',') {
                self.pos = start;
                return false;
            }
        }
        self.ws();
        if self.peek() == Some(b']') {
            self.pos = start;
            return false;
        }
        true
    }

    fn skip_string(&mut self) -> bool {
        self.pos += 1;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'\\' => self.pos += 1,
                b'"' => return true,
                _ => {}
            }
        }
        false
    }

    fn skip_value(&mut self) -> bool {
        self.ws();
        match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(b) = self.peek() {
                    match b {
                        b'"' => {
                            if !self.skip_string() {
                                return false;
                            }
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                return true;
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
                false
            }
            Some(_) => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.pos += 1;
                }
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, pointer: &str) -> (usize, usize) {
        line_column(text.as_bytes(), offset_of(text.as_bytes(), pointer))
    }

    #[test]
    fn pointers_land_on_their_values() {
        let doc = "{\n  \"a\": [1, {\"b~/\": \"x\"}],\n  \"c\": {\"d\": null}\n}";
        assert_eq!(at(doc, ""), (1, 1));
        assert_eq!(at(doc, "/a"), (2, 8));
        assert_eq!(at(doc, "/a/1"), (2, 12));
        assert_eq!(at(doc, "/a/1/b~0~1"), (2, 20));
        assert_eq!(at(doc, "/c/d"), (3, 14));
    }

    #[test]
    fn missing_members_stop_at_the_deepest_existing_value() {
        let doc = r#"{"a": {"b": 1}, "s": "q\"}"}"#;
        assert_eq!(at(doc, "/a/zz/q"), (1, 7));
        assert_eq!(at(doc, "/a/b"), (1, 13));
        assert_eq!(at(doc, "/x"), (1, 1));
        assert_eq!(at(doc, "/s"), (1, 22));
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(at("{\"é\": 1, \"k\": 2}", "/k"), (1, 15));
    }

    #[test]
    fn truncated_input_stops_at_the_deepest_value_reached() {
        // Past the end of a truncated array or string: the value that holds the pointer.
        assert_eq!(at("{\"a\": [1, ", "/a/3/b"), (1, 7));
        assert_eq!(at("{\"a\": \"x", "/a/3/b"), (1, 7));
        // Nothing to descend into: the document's start.
        for doc in ["{\"a\"", "[", "}", ""] {
            assert_eq!(at(doc, "/a/3/b"), (1, 1), "{doc:?}");
        }
    }
}
