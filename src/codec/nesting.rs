//! How deep JSON text nests, found without parsing it: the check behind `--max-json-depth`
//! ([`crate::limits::MAX_JSON_DEPTH`]). It runs before serde_json parses without its own
//! recursion limit, so that the parser's stack is bounded by the limit and not by the input.
//!
//! The text need not be valid JSON: only strings, brackets and braces are looked at, and
//! whatever else is wrong is the parser's to report.

/// Where arrays and objects first nest deeper than a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    /// Byte offset of the `[` or `{` that goes past the limit.
    pub offset: usize,
    /// Its 1-based line.
    pub line: usize,
    /// Its 1-based column, in bytes.
    pub column: usize,
    /// RFC 6901 pointer to the array or object it opens.
    pub pointer: String,
}

/// The first array or object in `text` nested more than `limit` deep (the root value being
/// depth 1), if there is one.
pub fn too_deep(text: &[u8], limit: usize) -> Option<TooDeep> {
    let offset = first_over(text, limit)?;
    let before = &text[..offset];
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    Some(TooDeep {
        offset,
        line: memchr::memchr_iter(b'\n', before).count() + 1,
        column: offset - line_start + 1,
        pointer: pointer_at(text, offset),
    })
}

fn first_over(text: &[u8], limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                i = after_string(text, i + 1);
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset just past the string whose contents start at `from`.
fn after_string(text: &[u8], mut from: usize) -> usize {
    while let Some(i) = memchr::memchr2(b'"', b'\\', &text[from..]) {
        if text[from + i] == b'"' {
            return from + i + 1;
        }
        from += i + 2;
        if from >= text.len() {
            break;
        }
    }
    text.len()
}

/// One open array or object on the way to a value.
enum Frame {
    Array(usize),
    /// The key of the member being read, once its name has been seen.
    Object {
        key: Option<String>,
        want_key: bool,
    },
}

/// The pointer of the value that starts at `offset`. Runs on the error path only.
fn pointer_at(text: &[u8], offset: usize) -> String {
    let mut frames: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < offset.min(text.len()) {
        match text[i] {
            b'"' => {
                let end = after_string(text, i + 1);
                if let Some(Frame::Object { key, want_key }) = frames.last_mut()
                    && *want_key
                {
                    *key = serde_json::from_slice::<String>(&text[i..end]).ok();
                    *want_key = false;
                }
                i = end;
                continue;
            }
            b'[' => frames.push(Frame::Array(0)),
            b'{' => frames.push(Frame::Object {
                key: None,
                want_key: true,
            }),
            b']' | b'}' => {
                frames.pop();
            }
            b',' => match frames.last_mut() {
                Some(Frame::Array(index)) => *index += 1,
                Some(Frame::Object { want_key, .. }) => *want_key = true,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    let mut out = String::new();
    for frame in &frames {
        out.push('/');
        match frame {
            Frame::Array(index) => out.push_str(&index.to_string()),
            Frame::Object { key, .. } => {
                let key = key.as_deref().unwrap_or_default();
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        "[".repeat(depth) + &"]".repeat(depth)
    }

    #[test]
    fn nesting_up_to_the_limit_passes_and_one_more_level_is_found() {
        assert_eq!(too_deep(nested(128).as_bytes(), 128), None);
        let deep = too_deep(nested(129).as_bytes(), 128).expect("too deep");
        assert_eq!(deep.offset, 128);
        assert_eq!(deep.pointer, "/0".repeat(128));
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let text = r#"{"a":"[[[{{{\"[[[","b":["\\",{"c":"]]]"}]}"#;
        assert_eq!(too_deep(text.as_bytes(), 3), None);
        assert_eq!(
            too_deep(text.as_bytes(), 2).map(|d| d.pointer),
            Some("/b/1".into())
        );
    }

    #[test]
    fn the_pointer_names_keys_and_indices_on_the_way() {
        let text = r#"{"x":1,"meta":{"a~b/c":[0,{"k":"v"},[[]]]}}"#;
        let deep = too_deep(text.as_bytes(), 4).expect("too deep");
        assert_eq!(&text[deep.offset..deep.offset + 2], "[]");
        assert_eq!(deep.pointer, "/meta/a~0b~1c/2/0");
    }

    #[test]
    fn text_that_is_not_json_is_scanned_without_a_panic() {
        for text in ["", "\"", "\"\\", "]]]}}", "[\"\\\"", "{\"a\":[{\""] {
            assert_eq!(too_deep(text.as_bytes(), 3), None, "{text:?}");
        }
        assert!(too_deep(b"]]][[", 1).is_some());
    }
}
