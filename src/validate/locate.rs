//! Turns JSON pointers into lines and columns in the document's bytes.
//!
//! Validation works on parsed values, which forget where they came from. Only failing
//! documents need positions, so instead of recording every value's offset while parsing, we
//! re-scan the failing document's bytes along the pointers, skipping the values beside them.
//! All of a document's pointers share one scan (a file with a finding per pair would be
//! re-scanned once per finding otherwise, quadratic in its size).
//! The scan trusts that the bytes are valid JSON (they parsed); on anything else it stops and
//! returns the deepest position reached.

/// The 1-based line and column (in characters) of `offset` in `text`.
pub fn line_column(text: &[u8], offset: usize) -> (usize, usize) {
    positions(text, &[offset])[0]
}

/// [`line_column`] of each of `offsets`, in one pass over `text`.
pub fn positions(text: &[u8], offsets: &[usize]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut out = vec![(1, 1); offsets.len()];
    let (mut pos, mut line, mut column) = (0, 1, 1);
    for i in order {
        let offset = offsets[i].min(text.len());
        let segment = &text[pos..offset];
        let newlines = memchr::memchr_iter(b'\n', segment).count();
        let counted = match memchr::memrchr(b'\n', segment) {
            Some(nl) => {
                line += newlines;
                column = 1;
                &segment[nl + 1..]
            }
            None => segment,
        };
        column += counted.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
        pos = offset;
        out[i] = (line, column);
    }
    out
}

/// The byte offset where the value at `pointer` (RFC 6901) starts in `text`; for a pointer
/// that goes past what exists, the offset of the deepest value that does.
pub fn offset_of(text: &[u8], pointer: &str) -> usize {
    offsets_of(text, &[pointer])[0]
}

/// [`offset_of`] each of `pointers`, in one scan of `text`.
pub fn offsets_of(text: &[u8], pointers: &[&str]) -> Vec<usize> {
    let mut root = Node::default();
    for (i, pointer) in pointers.iter().enumerate() {
        let mut node = &mut root;
        if !pointer.is_empty() {
            for token in pointer.split('/').skip(1) {
                let token = token.replace("~1", "/").replace("~0", "~");
                let at = match node.children.iter().position(|(t, _)| *t == token) {
                    Some(at) => at,
                    None => {
                        node.children.push((token, Node::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at].1;
            }
        }
        node.ends.push(i);
    }
    let mut s = Scanner { text, pos: 0 };
    s.ws();
    let mut out = vec![0; pointers.len()];
    s.descend(&root, &mut out);
    out
}

/// The pointers' tokens as a tree: `ends` are the pointers that stop here.
#[derive(Default)]
struct Node {
    ends: Vec<usize>,
    children: Vec<(String, Node)>,
}

impl Node {
    /// Every pointer at or under this node lands on `offset`.
    fn settle(&self, offset: usize, out: &mut [usize]) {
        for &i in &self.ends {
            out[i] = offset;
        }
        for (_, child) in &self.children {
            child.settle(offset, out);
        }
    }
}

#[derive(Clone, Copy)]
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

    /// `pos` is on the value `node` stands for: settles its pointers, and its children's
    /// inside the value (or here, for children the value does not have).
    fn descend(self, node: &Node, out: &mut [usize]) {
        let here = self.pos;
        for &i in &node.ends {
            out[i] = here;
        }
        if node.children.is_empty() {
            return;
        }
        let mut found = vec![false; node.children.len()];
        match self.peek() {
            Some(b'{') => self.members(node, &mut found, out),
            Some(b'[') => self.items(node, &mut found, out),
            _ => {}
        }
        for ((_, child), found) in node.children.iter().zip(found) {
            if !found {
                child.settle(here, out);
            }
        }
    }

    /// The object at `pos`: each child lands on the first member with its key.
    fn members(mut self, node: &Node, found: &mut [bool], out: &mut [usize]) {
        let mut left = node.children.len();
        self.pos += 1;
        while left > 0 {
            self.ws();
            if self.peek() != Some(b'"') {
                return;
            }
            let k_start = self.pos;
            if !self.skip_string() {
                return;
            }
            let key = serde_json::from_slice::<String>(&self.text[k_start..self.pos]).ok();
            if !self.eat(b':') {
                return;
            }
            self.ws();
            if let Some(key) = key {
                for (at, (token, child)) in node.children.iter().enumerate() {
                    if !found[at] && *token == key {
                        found[at] = true;
                        left -= 1;
                        self.descend(child, out);
                    }
                }
            }
            if left == 0 || !self.skip_value() || !self.eat(b',') {
                return;
            }
        }
    }

    /// The array at `pos`: each child whose token is an index lands on that item.
    fn items(mut self, node: &Node, found: &mut [bool], out: &mut [usize]) {
        let mut wanted: Vec<(usize, usize)> = node
            .children
            .iter()
            .enumerate()
            .filter_map(|(at, (token, _))| token.parse::<usize>().ok().map(|i| (i, at)))
            .collect();
        wanted.sort_unstable();
        self.pos += 1;
        let mut index = 0;
        for (target, at) in wanted {
            while index < target {
                self.ws();
                if !self.skip_value() || !self.eat(b',') {
                    return;
                }
                index += 1;
            }
            self.ws();
            if self.peek() != Some(b']') {
                found[at] = true;
                self.descend(&node.children[at].1, out);
            }
        }
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

    #[test]
    fn a_duplicate_key_locates_its_first_member() {
        let doc = r#"{"a": 1, "a": {"b": 2}}"#;
        assert_eq!(at(doc, "/a"), (1, 7));
        assert_eq!(at(doc, "/a/b"), (1, 7));
    }

    /// The pointer walk one pointer at a time, each from the document's start: what the
    /// shared scan must agree with.
    fn alone(text: &[u8], pointer: &str) -> usize {
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

    impl Scanner<'_> {
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
    }

    #[test]
    fn one_scan_lands_every_pointer_where_it_lands_alone() {
        let docs = [
            "{\n  \"a\": [1, {\"b~/\": \"x\"}, [], [3]],\n  \"c\": {\"d\": null, \"d\": 2}\n}",
            r#"{"a": [1, "#,
            r#"{"a": [1, 2]}"#,
            r#"{"a": [], "é": {"k": "v"}}"#,
            r#"[{"x": 1}, {"x": 2}, {"y": {"z": [0, 1, 2]}}]"#,
            "{\"a\"",
            "",
        ];
        let pointers = [
            "",
            "/",
            "/a",
            "/a/0",
            "/a/1",
            "/a/+1",
            "/a/01",
            "/a/1/b~0~1",
            "/a/1/zz",
            "/a/2",
            "/a/2/0",
            "/a/3/0",
            "/a/3/1",
            "/a/9",
            "/a/x",
            "/c",
            "/c/d",
            "/c/e",
            "/c/d/q",
            "/é/k",
            "/0/x",
            "/1/x",
            "/2/y/z/2",
            "/2/y/z/3",
            "/3",
            "/x/y",
        ];
        for doc in docs {
            let text = doc.as_bytes();
            let shared = offsets_of(text, &pointers);
            for (p, got) in pointers.iter().zip(&shared) {
                assert_eq!(*got, alone(text, p), "{doc:?} {p:?}");
            }
            let offsets: Vec<usize> = (0..=text.len() + 1).rev().collect();
            for (&o, got) in offsets.iter().zip(positions(text, &offsets)) {
                let before = &text[..o.min(text.len())];
                let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                let start = before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let column = before[start..]
                    .iter()
                    .filter(|&&b| (b & 0xC0) != 0x80)
                    .count()
                    + 1;
                assert_eq!(got, (line, column), "{doc:?} offset {o}");
            }
        }
    }
}
