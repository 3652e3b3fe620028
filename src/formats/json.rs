//! JSON helpers shared by the JSON-based formats: locating a deserialisation error as a
//! JSON pointer plus line and column, with serde_json's message made readable.

use serde::de::DeserializeOwned;
use std::fmt;

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
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

impl std::error::Error for JsonError {}

/// Deserialises `bytes` into `T`, reporting failures with a JSON pointer.
///
/// Valid input takes the plain serde_json path; only a failure is parsed again with path
/// tracking, which costs about a third of the parse time on every document otherwise.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
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

fn strip_position(msg: &str) -> String {
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
