//! The one format detector: what a file is, from its name and first bytes, and what a parsed
//! JSON document is, from its shape and `meta.schemaVersion`.
//!
//! `convert`, `count`, `merge` and `stats` ask [`input`] (through
//! [`Input::detect`](super::Input::detect)) which reader to open, and
//! [`read_simulation`](super::read_simulation) asks [`document`] which Hoverfly body a
//! document is. `validate` asks the same two functions which schema to check a file against,
//! so a file is never read as one thing and validated as another. The failures are worded
//! here too ([`Undetected`]'s pointer and `Display`, [`unsupported_version`]), so both
//! commands say the same of the same document (issue 14).
//!
//! Two things about a file's first bytes are decided here for every command:
//! - A UTF-8 byte-order mark ([`UTF8_BOM`]) is skipped: every reader reads past it
//!   ([`after_bom`]), and `validate` checks what follows it and warns (rule `utf8-bom`),
//!   because the tools the files are for refuse it.
//! - Content wins over a misleading name: a capture's magic number over a `.json` name, and a
//!   JSON document's first key over a `.pcap` name. The readers' commands print the
//!   [`Misnamed`] note [`misnamed`] gives, and `validate` reports it as a warning.

use super::Format;
use serde_json::Value;
use std::fmt;
use std::path::Path;

/// The UTF-8 byte-order mark (U+FEFF encoded), which Notepad and PowerShell's `Out-File` write
/// before UTF-8 text. RFC 8259 §8.1 lets a parser ignore it, and wirecap does. Hoverfly (Go's
/// `encoding/json`: "invalid character 'ï' looking for beginning of value") and py-http-types
/// (Python's `json.loads`: "Unexpected UTF-8 BOM") refuse a file that starts with one, which
/// is why `validate` warns.
pub const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// What `convert` and `validate` say of a file that starts with a UTF-16 byte-order mark.
pub const UTF16_TEXT: &str = "UTF-16 text (a byte-order mark); expected UTF-8";

/// Whether `head` starts with a UTF-16 byte-order mark (either byte order).
pub fn is_utf16(head: &[u8]) -> bool {
    matches!(head.get(..2), Some([0xff, 0xfe] | [0xfe, 0xff]))
}

/// `bytes` past a leading [`UTF8_BOM`], if there is one.
pub fn after_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

/// An input whose name says one format and whose content another. The content decides (see
/// [`input`]); this is the note that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misnamed {
    /// The input's display name.
    pub file: String,
    /// Its extension, lowercase, as it names a format: `.pcap`, `.json.gz`.
    pub extension: String,
    /// The format that extension names.
    pub named: Format,
    /// The format its content is, and is read as.
    pub holds: Format,
}

impl fmt::Display for Misnamed {
    /// `FILE: a .pcap name, but the content is hoverfly; read as hoverfly`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Misnamed {
            file,
            extension,
            holds,
            ..
        } = self;
        write!(
            f,
            "{file}: a {extension} name, but the content is {holds}; read as {holds}"
        )
    }
}

/// The note for an input named `name` that [`input`] found to be `format`, when its name says
/// otherwise: a capture named like a JSON file, or a JSON file named like a capture. A `.json`
/// name on http-types or HAR content is no mistake (both are saved so), and gets no note.
pub fn misnamed(name: &str, format: Format) -> Option<Misnamed> {
    let path = Path::new(name);
    let named = Format::from_extension(path)?;
    if (named == Format::Pcap) == (format == Format::Pcap) {
        return None;
    }
    // from_extension found one, so the name has a final part and an extension.
    let file_name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let (stem, gz) = match file_name.strip_suffix(".gz") {
        Some(stem) => (stem, ".gz"),
        None => (file_name.as_str(), ""),
    };
    let ext = stem.rsplit_once('.')?.1;
    Some(Misnamed {
        file: name.to_owned(),
        extension: format!(".{ext}{gz}"),
        named,
        holds: format,
    })
}

/// Which legacy Hoverfly admin API body a document is (Hoverfly v0.5–v0.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Legacy {
    /// `/api/records`.
    Records,
    /// `/api/templates`.
    Templates,
    /// `/api/delays`.
    Delays,
}

/// Keys only a legacy delay has: `urlPattern`/`httpMethod`/`delay`, and v0.7.0's Go-default
/// spellings `HostPattern`/`Delay` (Hoverfly v0.7.0 `models.ResponseDelay` had no JSON tags).
const DELAY_KEYS: [&str; 5] = ["urlPattern", "HostPattern", "delay", "Delay", "httpMethod"];

impl Legacy {
    /// The legacy body a `{"data": [...]}` document without `meta` is, by its first entry:
    /// `requestTemplate` (templates), a delay key (delays), anything else or nothing
    /// (records). `None` when `data` is not an array.
    fn of(doc: &Value) -> Option<Legacy> {
        let data = doc.get("data")?.as_array()?;
        let Some(first) = data.first().and_then(Value::as_object) else {
            return Some(Legacy::Records);
        };
        Some(if first.contains_key("requestTemplate") {
            Legacy::Templates
        } else if DELAY_KEYS.iter().any(|k| first.contains_key(*k)) {
            Legacy::Delays
        } else {
            Legacy::Records
        })
    }
}

/// What a parsed JSON document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document<'a> {
    /// A Hoverfly simulation; its `meta.schemaVersion` as written (see [`read_as`]).
    Simulation(&'a str),
    /// A legacy Hoverfly body: `data` is an array and there is no `meta`.
    Legacy(Legacy),
    /// An HTTP Archive: a `log` and neither `data` nor `meta`.
    Har,
    /// One http-types exchange: a `request` and neither `data` nor `meta`.
    HttpTypes,
}

/// Why a parsed JSON document is none of the [`Document`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undetected<'a> {
    /// The document is not a JSON object.
    NotObject,
    /// An object with none of `data`, `meta`, `log` or `request`.
    NoDataOrMeta,
    /// A `data` that is not an array, and no `meta`.
    MissingMeta,
    /// A `meta` that is not an object.
    MetaNotObject,
    /// A `meta.schemaVersion` that is not a string.
    VersionNotString(&'a Value),
    /// A `meta` object without `schemaVersion`.
    MissingVersion,
}

impl Undetected<'_> {
    /// Where the document falls short: an RFC 6901 pointer, empty for the whole document.
    pub fn pointer(&self) -> &'static str {
        match self {
            Undetected::NotObject | Undetected::NoDataOrMeta | Undetected::MissingMeta => "",
            Undetected::MetaNotObject | Undetected::MissingVersion => "/meta",
            Undetected::VersionNotString(_) => "/meta/schemaVersion",
        }
    }
}

impl std::fmt::Display for Undetected<'_> {
    /// What is missing, for `convert`'s error and `validate`'s finding alike.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Undetected::NotObject => f.write_str(
                "expected a JSON object: a Hoverfly simulation or legacy body, or http-types lines",
            ),
            Undetected::NoDataOrMeta => {
                f.write_str("no \"data\" or \"meta\": not a Hoverfly simulation or legacy body")
            }
            Undetected::MissingMeta => {
                f.write_str("missing \"meta\" object: Hoverfly cannot tell the schemaVersion")
            }
            Undetected::MetaNotObject => {
                f.write_str("meta must be an object holding schemaVersion")
            }
            Undetected::VersionNotString(v) => {
                let found = match v {
                    Value::Null => "null".to_owned(),
                    Value::Bool(b) => format!("boolean `{b}`"),
                    Value::Number(n) => format!("number {n}"),
                    Value::Array(_) => "an array".to_owned(),
                    Value::Object(_) => "an object".to_owned(),
                    Value::String(s) => format!("string {s:?}"),
                };
                write!(f, "meta.schemaVersion must be a string, found {found}")
            }
            Undetected::MissingVersion => f.write_str("missing meta.schemaVersion"),
        }
    }
}

/// Why a simulation whose `meta.schemaVersion` is `version` cannot be read (see [`read_as`]).
pub fn unsupported_version(version: &str) -> String {
    format!("schema version {version:?} is not supported by Hoverfly (v1, v2, v3, v4 and v5.x are)")
}

/// What a parsed JSON document is, from its shape: legacy bodies by their first entry, and
/// simulations by `meta` (whose `schemaVersion` must be a string).
pub fn document(value: &Value) -> Result<Document<'_>, Undetected<'_>> {
    let Some(obj) = value.as_object() else {
        return Err(Undetected::NotObject);
    };
    let Some(meta) = obj.get("meta") else {
        if let Some(legacy) = Legacy::of(value) {
            return Ok(Document::Legacy(legacy));
        }
        if obj.contains_key("data") {
            return Err(Undetected::MissingMeta);
        }
        if obj.contains_key("log") {
            return Ok(Document::Har);
        }
        if obj.contains_key("request") {
            return Ok(Document::HttpTypes);
        }
        return Err(Undetected::NoDataOrMeta);
    };
    let Some(meta) = meta.as_object() else {
        return Err(Undetected::MetaNotObject);
    };
    match meta.get("schemaVersion") {
        Some(Value::String(v)) => Ok(Document::Simulation(v)),
        Some(other) => Err(Undetected::VersionNotString(other)),
        None => Err(Undetected::MissingVersion),
    }
}

/// The simulation `schemaVersion`s Hoverfly reads, oldest first.
pub const SCHEMA_VERSIONS: [&str; 8] = ["v1", "v2", "v3", "v4", "v5", "v5.1", "v5.2", "v5.3"];

/// The schemaVersion a simulation whose `meta.schemaVersion` is `version` is read as: itself
/// when it is one of [`SCHEMA_VERSIONS`], `v5.3` for a later `v5.x` (Hoverfly v1.10+ reads any
/// v5.x as its newest), `None` when no Hoverfly reads it.
pub fn read_as(version: &str) -> Option<&'static str> {
    if let Some(known) = SCHEMA_VERSIONS.iter().find(|v| **v == version) {
        return Some(known);
    }
    version.starts_with("v5").then_some("v5.3")
}

/// The format of an input named `name` whose first bytes are `head`: a capture's magic
/// number first (it cannot be mistaken for text, so it wins over any name), then the
/// extension, where `.json` (Hoverfly's) yields to a first key only http-types or HAR use and
/// a capture's name yields to any format's first key, then the content alone ([`sniff`]).
/// Where the content overrode the name, [`misnamed`] says so.
pub fn input(name: &str, head: &[u8]) -> Option<Format> {
    if capture_magic(head) {
        return Some(Format::Pcap);
    }
    let by_key = || sniff_first_key(head).or_else(|| array_first_key(head));
    match Format::from_extension(Path::new(name)) {
        // http-types recordings and HAR files are saved as `.json` too.
        Some(Format::Hoverfly) => Some(match by_key() {
            Some(f @ (Format::HttpTypes | Format::Har)) => f,
            _ => Format::Hoverfly,
        }),
        // A JSON document saved under a capture's name (a simulation as `sim.pcap`) is read as
        // what it is. Anything else stays a capture, for the pcap reader to say what is wrong
        // with its header.
        Some(Format::Pcap) => Some(by_key().unwrap_or(Format::Pcap)),
        Some(by_name) => Some(by_name),
        None => sniff(head),
    }
}

/// The format the first bytes of a file show: capture magic numbers (and gzip, which only
/// captures are sent as unnamed), or the first key of the first JSON object, or else an
/// object that ends its line (taken for JSONL).
pub fn sniff(head: &[u8]) -> Option<Format> {
    if capture_magic(head) || head.starts_with(&[0x1f, 0x8b]) {
        return Some(Format::Pcap);
    }
    if let Some(f) = sniff_first_key(head) {
        return Some(f);
    }
    let text = after_bom(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    if text[start] != b'{' {
        return None;
    }
    first_key(&text[start + 1..])?;
    text[start..].contains(&b'\n').then_some(Format::HttpTypes)
}

/// Whether an input is read line by line as http-types JSONL when no schema is forced: a
/// `.jsonl`/`.ndjson` name (gzipped or not), or a first object whose first key is `request`
/// or `response`, as in every http-types line and in no Hoverfly document.
pub fn is_jsonl(name: &str, head: &[u8]) -> bool {
    let ext = Path::new(name.strip_suffix(".gz").unwrap_or(name))
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("jsonl" | "ndjson"))
        || sniff_first_key(head) == Some(Format::HttpTypes)
}

/// Whether `head` starts with the magic number of a pcap (micro, nano or modified, either
/// byte order) or pcapng file.
pub fn capture_magic(head: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 7] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x34, 0xcd, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xcd, 0x34],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    head.get(..4).is_some_and(|h| MAGICS.iter().any(|m| h == m))
}

/// Whether `head` starts a JSON document of exchanges: an object or an array whose first
/// object's first key is `request` or `response`.
pub fn holds_http_types(head: &[u8]) -> bool {
    sniff_first_key(head).or_else(|| array_first_key(head)) == Some(Format::HttpTypes)
}

/// The format the first key of the first JSON object names, when only one format uses
/// that key: `request`/`response` (http-types), `log` (HAR), `data`/`meta` (Hoverfly).
fn sniff_first_key(head: &[u8]) -> Option<Format> {
    let text = after_bom(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    if text[start] != b'{' {
        return None;
    }
    match first_key(&text[start + 1..])? {
        "request" | "response" => Some(Format::HttpTypes),
        "log" => Some(Format::Har),
        "data" | "meta" => Some(Format::Hoverfly),
        _ => None,
    }
}

/// The format the first key of the first object in a JSON array names (an array of
/// http-types exchanges saved as `.json`).
fn array_first_key(head: &[u8]) -> Option<Format> {
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = head[start..].strip_prefix(b"[")?;
    sniff_first_key(rest).filter(|f| *f == Format::HttpTypes)
}

fn first_key(after_brace: &[u8]) -> Option<&str> {
    let start = after_brace.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = after_brace[start..].strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&rest[..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sniffing_reads_magic_numbers_and_first_keys() {
        assert_eq!(sniff(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]), Some(Format::Pcap));
        assert_eq!(sniff(&[0x0a, 0x0d, 0x0d, 0x0a]), Some(Format::Pcap));
        assert_eq!(sniff(b"{\"request\":{}}\n"), Some(Format::HttpTypes));
        assert_eq!(sniff(b"  {\n \"data\": {"), Some(Format::Hoverfly));
        assert_eq!(sniff(b"{\"log\":{}}"), Some(Format::Har));
        assert_eq!(sniff(b"hello"), None);
    }

    #[test]
    fn issue_13_content_wins_over_a_misleading_name() {
        let sim = b"{\"data\": {}, \"meta\": {\"schemaVersion\": \"v5\"}}";
        assert_eq!(input("sim.pcap", sim), Some(Format::Hoverfly));
        assert_eq!(
            input("rec.pcapng.gz", b"{\"request\":{}}\n"),
            Some(Format::HttpTypes)
        );
        assert_eq!(input("cut.pcap", b"\xd4\xc3"), Some(Format::Pcap));
        assert_eq!(input("text.pcap", b"hello"), Some(Format::Pcap));
        let note = misnamed("sim.pcap", Format::Hoverfly).expect("a note");
        assert_eq!(
            note.to_string(),
            "sim.pcap: a .pcap name, but the content is hoverfly; read as hoverfly"
        );
        let note = misnamed("dir.d/Cap.JSON.gz", Format::Pcap).expect("a note");
        assert_eq!(
            (note.extension.as_str(), note.named),
            (".json.gz", Format::Hoverfly)
        );
        assert!(misnamed("cap.pcap", Format::Pcap).is_none());
        assert!(misnamed("rec.json", Format::HttpTypes).is_none());
        assert!(misnamed("-", Format::Hoverfly).is_none());
    }

    #[test]
    fn issue_13_a_byte_order_mark_is_read_past() {
        let sim = b"\xef\xbb\xbf{\"data\": {}}";
        assert_eq!(input("sim", sim), Some(Format::Hoverfly));
        assert_eq!(after_bom(sim), &sim[3..]);
        assert_eq!(after_bom(b"{}"), b"{}");
    }

    #[test]
    fn documents_by_shape_and_version() {
        let sim = json!({"data": {}, "meta": {"schemaVersion": "v5.2"}});
        assert_eq!(document(&sim), Ok(Document::Simulation("v5.2")));
        let templates = json!({"data": [{"requestTemplate": {}}]});
        assert_eq!(
            document(&templates),
            Ok(Document::Legacy(Legacy::Templates))
        );
        let empty = json!({"data": []});
        assert_eq!(document(&empty), Ok(Document::Legacy(Legacy::Records)));
        assert_eq!(document(&json!({"log": {}})), Ok(Document::Har));
        assert_eq!(document(&json!({"request": {}})), Ok(Document::HttpTypes));
        assert_eq!(document(&json!([])), Err(Undetected::NotObject));
        assert_eq!(document(&json!({"x": 1})), Err(Undetected::NoDataOrMeta));
        assert_eq!(document(&json!({"data": {}})), Err(Undetected::MissingMeta));
        assert_eq!(
            document(&json!({"meta": []})),
            Err(Undetected::MetaNotObject)
        );
        assert_eq!(
            document(&json!({"meta": {}})),
            Err(Undetected::MissingVersion)
        );
    }

    #[test]
    fn issue_13_a_v0_7_delays_body_is_delays() {
        for key in ["HostPattern", "Delay", "httpMethod", "urlPattern", "delay"] {
            let body = json!({"data": [{key: 1}]});
            assert_eq!(
                document(&body),
                Ok(Document::Legacy(Legacy::Delays)),
                "{key}"
            );
        }
    }

    #[test]
    fn later_v5_versions_read_as_the_newest() {
        assert_eq!(read_as("v5.1"), Some("v5.1"));
        assert_eq!(read_as("v5.9"), Some("v5.3"));
        assert_eq!(read_as("v3"), Some("v3"));
        assert_eq!(read_as("v6"), None);
    }
}
