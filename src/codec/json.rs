//! JSON helpers shared by the JSON-based formats: locating a deserialisation error as a
//! JSON pointer plus line and column, with serde_json's message made readable.

use super::nesting;
use crate::limits::MAX_JSON_DEPTH;
use serde::de::DeserializeOwned;
use std::fmt;

/// What a record nested deeper than `depth` is told.
pub fn too_deep_message(depth: usize) -> String {
    format!("arrays and objects nested more than {depth} deep (--max-json-depth raises the limit)")
}

/// Where in a JSON document something went wrong, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// RFC 6901 pointer to the offending value; empty for the whole document.
    pub pointer: String,
    /// 1-based line within the document (always 1 for one JSONL line).
    pub line: usize,
    /// 1-based column within that line.
    pub column: usize,
    /// What was expected, in serde_json's words without its position suffix.
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Located(&self.pointer, &self.message).fmt(f)
    }
}

/// `pointer: message`, with `/` for the whole document: how every command shows a problem
/// inside a JSON document (`convert`'s readers after the file and line, `validate` after
/// line and column), so the same problem reads the same everywhere.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a>(pub &'a str, pub &'a str);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Located(pointer, message) = *self;
        let pointer = if pointer.is_empty() { "/" } else { pointer };
        write!(f, "{pointer}: {message}")
    }
}

impl std::error::Error for JsonError {}

/// How deep serde_json's own recursion limit lets arrays and objects nest: its parser counts
/// down from 128 and fails on reaching 0.
pub const SERDE_JSON_DEPTH: usize = 127;

/// Deserialises `bytes` into `T`, reporting failures with a JSON pointer, with arrays and
/// objects nested at most [`MAX_JSON_DEPTH`] deep.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    from_slice_within(bytes, MAX_JSON_DEPTH)
}

/// [`from_slice`] with arrays and objects nested at most `depth` deep (`--max-json-depth`).
///
/// Valid input within serde_json's own limit takes the plain serde_json path; only a
/// failure is parsed again with path tracking, which costs about a third of the parse time
/// on every document otherwise. Deeper input is measured first ([`nesting::too_deep`]) and
/// then parsed without serde_json's limit: the caller's stack must hold `depth` levels
/// ([`crate::limits::stack_bytes`]).
pub fn from_slice_within<T: DeserializeOwned>(bytes: &[u8], depth: usize) -> Result<T, JsonError> {
    if depth >= SERDE_JSON_DEPTH
        && let Ok(value) = serde_json::from_slice(bytes)
    {
        return Ok(value);
    }
    if let Some(deep) = nesting::too_deep(bytes, depth) {
        return Err(JsonError {
            pointer: deep.pointer,
            line: deep.line,
            column: deep.column,
            message: too_deep_message(depth),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    if let Ok(value) = T::deserialize(&mut de).and_then(|v| de.end().map(|()| v)) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let value = serde_path_to_error::deserialize(&mut de).map_err(into_json_error)?;
    de.end().map_err(|e| JsonError {
        pointer: String::new(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    Ok(value)
}

fn into_json_error(e: serde_path_to_error::Error<serde_json::Error>) -> JsonError {
    let pointer = to_pointer(e.path());
    let inner = e.into_inner();
    JsonError {
        pointer,
        line: inner.line(),
        column: inner.column(),
        message: strip_position(&inner.to_string()),
    }
}

/// Turns serde_path_to_error's path into an RFC 6901 JSON pointer.
pub fn to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            // serde_path_to_error cannot name a segment it never entered; the pointer
            // stops at the last known one.
            Segment::Unknown => break,
        }
    }
    out
}

pub(crate) fn strip_position(msg: &str) -> String {
    let trimmed = match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => &msg[..i],
        _ => msg,
    };
    trimmed
        .replace("EOF while parsing", "unexpected end of input while parsing")
        .replace("invalid type: ", "")
        .replace(
            "invalid unicode code point",
            "invalid UTF-8, expected UTF-8 text",
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        status: u16,
    }

    fn nested(depth: usize) -> String {
        "[".repeat(depth) + &"]".repeat(depth)
    }

    #[test]
    fn the_default_depth_takes_128_levels_where_serde_json_alone_takes_127() {
        assert!(serde_json::from_str::<serde_json::Value>(&nested(128)).is_err());
        assert!(from_slice::<serde_json::Value>(nested(128).as_bytes()).is_ok());
        let err =
            from_slice::<serde_json::Value>(format!(" \n {}", nested(129)).as_bytes()).unwrap_err();
        assert_eq!(err.pointer, "/0".repeat(128));
        assert_eq!((err.line, err.column), (2, 130));
        assert_eq!(err.message, too_deep_message(128));
    }

    #[test]
    fn a_lower_depth_refuses_what_serde_json_would_take_and_a_higher_one_takes_more() {
        let text = br#"{"a":[{"b":[]}]}"#;
        assert!(from_slice_within::<serde_json::Value>(text, 4).is_ok());
        let err = from_slice_within::<serde_json::Value>(text, 3).unwrap_err();
        assert_eq!(err.pointer, "/a/0/b");
        // As deep as the stack the limit asks for holds (a test thread has 2 MiB).
        let deep = nested(5000);
        std::thread::Builder::new()
            .stack_size(crate::limits::stack_bytes(5000))
            .spawn(move || {
                assert!(from_slice_within::<serde_json::Value>(deep.as_bytes(), 5000).is_ok());
                assert!(from_slice_within::<serde_json::Value>(deep.as_bytes(), 4999).is_err());
            })
            .expect("a thread")
            .join()
            .expect("no panic");
    }

    #[test]
    fn past_serde_json_s_own_depth_other_errors_are_still_located() {
        let text = format!(r#"{{"x":{},"items":[{{"status":"200"}}]}}"#, nested(300));
        let err = from_slice_within::<Doc>(text.as_bytes(), 400).unwrap_err();
        assert_eq!(err.pointer, "/items/0/status");
        assert!(err.message.contains("expected u16"), "{}", err.message);
    }

    #[test]
    fn errors_carry_a_pointer_and_a_plain_message() {
        let err = from_slice::<Doc>(br#"{"items":[{"status":200},{"status":"200"}]}"#).unwrap_err();
        assert_eq!(err.pointer, "/items/1/status");
        assert_eq!(
            err.to_string(),
            r#"/items/1/status: string "200", expected u16"#
        );
        assert_eq!((err.line, err.column), (1, 40));
    }

    #[test]
    fn trailing_garbage_is_reported() {
        let err = from_slice::<Doc>(br#"{"items":[]} x"#).unwrap_err();
        assert_eq!(err.message, "trailing characters");
    }
}

/// Appends `s` as a JSON string, byte for byte as serde_json writes it (`\"`, `\\`, the short
/// escapes `\b \t \n \f \r`, other control characters as `\u00xx`, everything else as is).
///
/// Bodies make up most of what the writers emit, and serde_json looks at one byte at a time.
/// This reads eight at a time and stores each word whole before looking for an escape in it,
/// so text with an escape every few dozen bytes (JSON bodies) costs no copy call per escape.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    /// Input bytes per output window: small enough that the window stays in the L1 cache.
    const BLOCK: usize = 4096;
    /// Most one step writes: a whole word, then an escape of up to six bytes after it.
    const STEP: usize = 14;
    let src = s.as_bytes();
    out.push(b'"');
    let mut i = 0;
    while i < src.len() {
        let start = out.len();
        let want = (src.len() - i).min(BLOCK);
        out.resize(start + want + want / 4 + STEP, 0);
        let dst = &mut out[start..];
        let end = i + want;
        let mut pos = 0;
        while i < end && pos + STEP <= dst.len() {
            if let Some(word) = src.get(i..i + 8) {
                let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
                dst[pos..pos + 8].copy_from_slice(word);
                let m = escape_marks(w);
                if m == 0 {
                    i += 8;
                    pos += 8;
                    continue;
                }
                let clean = (m.trailing_zeros() / 8) as usize;
                i += clean;
                pos += clean;
            }
            pos += put_byte(src[i], &mut dst[pos..]);
            i += 1;
        }
        out.truncate(start + pos);
    }
    out.push(b'"');
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// `b` in every byte of a word.
pub(crate) const fn splat(b: u8) -> u64 {
    ONES * b as u64
}

/// Marks (in the high bit of its byte) each zero byte of `v`. A mark can also land above a
/// real one (borrows run upwards), never below, so the lowest mark is exact.
pub(crate) fn zero_byte_marks(v: u64) -> u64 {
    v.wrapping_sub(ONES) & !v & HIGHS
}

/// Marks each byte of `w` that is below 0x20, '"' or '\\', the lowest exactly (see
/// [`zero_byte_marks`]).
fn escape_marks(w: u64) -> u64 {
    (w.wrapping_sub(splat(0x20)) & !w & HIGHS)
        | zero_byte_marks(w ^ splat(b'"'))
        | zero_byte_marks(w ^ splat(b'\\'))
}

/// Writes one byte of a string, escaped where JSON needs it; returns how many bytes it took.
fn put_byte(b: u8, dst: &mut [u8]) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        0x00..=0x1f => b'u',
        _ => {
            dst[0] = b;
            return 1;
        }
    };
    dst[0] = b'\\';
    dst[1] = short;
    if short != b'u' {
        return 2;
    }
    dst[2..6].copy_from_slice(&[
        b'0',
        b'0',
        HEX[usize::from(b >> 4)],
        HEX[usize::from(b & 0xf)],
    ]);
    6
}

#[cfg(test)]
mod write_str_tests {
    use super::write_str;

    fn both(s: &str) -> (String, String) {
        let mut ours = Vec::new();
        write_str(&mut ours, s);
        (
            String::from_utf8(ours).expect("UTF-8"),
            serde_json::to_string(s).expect("a string serialises"),
        )
    }

    #[test]
    fn writes_exactly_what_serde_json_writes() {
        let mut cases: Vec<String> = [
            "",
            "plain text that is longer than eight bytes",
            "{\"a\": [1, 2, \"x\\y\"]}\n",
            "tab\there\r\n\u{0}\u{1f}\u{7f} é ✓ 😀",
            "\"\"\"\"\"\"\"\"\"",
            "12345678\"",
            "1234567\\",
            &"\u{1}".repeat(5000),
            &"ab\"".repeat(3000),
            &"é✓ long text without escapes ".repeat(400),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every byte value below 0x80 at every offset of a 16-byte window.
        for b in 0u8..0x80 {
            for at in 0..16 {
                let mut s = vec![b'a'; 16];
                s[at] = b;
                cases.push(String::from_utf8(s).expect("ASCII"));
            }
        }
        for case in cases {
            let (ours, theirs) = both(&case);
            assert_eq!(ours, theirs, "for {case:?}");
        }
    }
}
