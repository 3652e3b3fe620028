//! HPACK (RFC 7541) header-block decoding for one direction of an HTTP/2 connection, made
//! safe for a capture that may have missed some of the blocks.
//!
//! Decoding is loona-hpack's. Around it sits a [`scan`] of each block's representations
//! (RFC 7541 §6) that reads prefix integers and string lengths but decodes no string: it lists
//! which dynamic-table entries the block refers to, how many it inserts and the size updates
//! it makes. Alongside the decoder we keep the sizes of the entries it holds (32 + name +
//! value, §4.1), taken from the decoded fields, so the number of entries the decoder knows is
//! always at hand.
//!
//! **The loss rule.** The decoder's table must agree with the sender's at every position both
//! have. Insertions go to the front and evictions leave at the back (§2.3.3, §4.4), so a table
//! that starts empty and sees every later insertion keeps agreeing, whatever its maximum size:
//! it is always a prefix of the real table or the real table a prefix of it. A capture that
//! starts mid-connection, or loses a block, breaks this only if insertions are missed. Hence:
//!
//! - a block that refers to an entry the decoder does not hold is not decoded at all (it would
//!   fail half-way, or, had we kept a table out of step, name the wrong header): the caller
//!   drops its stream and counts it as lost to HPACK;
//! - if such a block (or one cut, malformed or over a limit) inserts entries, the decoder is
//!   reset to an empty table, since the sender's table now holds entries we cannot place; a
//!   lost block that inserts nothing leaves the table as it was, its size updates applied;
//! - a capture that starts mid-connection begins with an empty table: blocks made of literals
//!   and static-table references decode, and each decoded insertion is known from then on.
//!
//! Headers are therefore never invented: every field comes from bytes of its own block or an
//! entry whose insertion was decoded. What it costs: after a loss, every block that refers to
//! an entry inserted before it (a `user-agent` sent once at the start, say) stays lost.

use loona_hpack::Decoder;
use std::collections::VecDeque;

/// The static table's length (RFC 7541 Appendix A); dynamic indices start after it.
pub const STATIC_ENTRIES: usize = 61;

/// The dynamic table size both sides start with (SETTINGS_HEADER_TABLE_SIZE default, RFC 9113
/// §6.5.2).
pub const DEFAULT_TABLE_BYTES: usize = 4096;

/// Largest dynamic table size honoured, whatever a SETTINGS frame allows: it bounds the memory
/// a connection's decoder holds. Size updates above it make their block lost.
pub const MAX_TABLE_BYTES: usize = 1 << 20;

/// Largest integer a representation may carry; longer encodings are malformed (RFC 7541 §5.1
/// asks decoders to reject excessive values; loona-hpack stops at the same 2^28 bound).
const MAX_INTEGER: u64 = 1 << 28;

/// One representation, as far as the table is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A field; `inserted` for literals with incremental indexing.
    Field {
        /// Whether the field is added to the dynamic table.
        inserted: bool,
    },
    /// A dynamic table size update.
    SizeUpdate(usize),
}

/// What a block does to the table, read without decoding strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Representations in order.
    pub ops: Vec<Op>,
    /// How many entries present before the block it needs (the deepest reference + 1).
    pub needs: usize,
    /// Entries it inserts.
    pub inserts: usize,
}

/// Why a block was not decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The block refers to a dynamic-table entry whose insertion was not seen.
    #[error("refers to dynamic table entry {needs} of {known} known")]
    UnknownEntry {
        /// Entries needed.
        needs: usize,
        /// Entries held.
        known: usize,
    },
    /// The block does not follow RFC 7541 §6.
    #[error("malformed header block: {0}")]
    Malformed(String),
}

/// Reads a prefix integer (RFC 7541 §5.1) of `bits` bits at `b[*at]`.
fn integer(b: &[u8], at: &mut usize, bits: u32) -> Result<u64, Error> {
    let short = || Error::Malformed("block ends inside an integer".into());
    let mask = (1u16 << bits) - 1;
    let first = *b.get(*at).ok_or_else(short)?;
    *at += 1;
    let mut value = u64::from(u16::from(first) & mask);
    if value < u64::from(mask) {
        return Ok(value);
    }
    let mut shift = 0;
    loop {
        let byte = *b.get(*at).ok_or_else(short)?;
        *at += 1;
        value += u64::from(byte & 0x7f) << shift;
        shift += 7;
        // Zero-valued continuation bytes do not grow the value; the shift bounds them.
        if value > MAX_INTEGER || shift > 28 {
            return Err(Error::Malformed("integer too large".into()));
        }
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
}

/// Skips a string literal (RFC 7541 §5.2) at `b[*at]`, showing it to `visit` as (where it
/// starts, where its octets are).
fn skip_string(b: &[u8], at: &mut usize, visit: &mut Visit<'_>) -> Result<(), Error> {
    let start = *at;
    let len = integer(b, at, 7)?;
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| at.checked_add(l))
        .filter(|&e| e <= b.len())
        .ok_or_else(|| Error::Malformed("block ends inside a string".into()))?;
    visit(start, *at..end)?;
    *at = end;
    Ok(())
}

/// What [`scan_with`] shows each string literal to.
type Visit<'a> = dyn FnMut(usize, std::ops::Range<usize>) -> Result<(), Error> + 'a;

/// Walks a block's representations (RFC 7541 §6).
pub fn scan(block: &[u8]) -> Result<Scan, Error> {
    scan_with(block, &mut |_, _| Ok(()))
}

/// [`scan`], showing every string literal to `visit`.
fn scan_with(block: &[u8], visit: &mut Visit<'_>) -> Result<Scan, Error> {
    let mut s = Scan::default();
    let mut at = 0;
    // A reference to index `i` names a dynamic entry when past the static table; entries this
    // block inserted sit in front of those it found.
    let refer = |s: &mut Scan, index: u64| {
        let Some(d) = usize::try_from(index)
            .ok()
            .and_then(|i| i.checked_sub(STATIC_ENTRIES + 1))
        else {
            return;
        };
        if let Some(before) = d.checked_sub(s.inserts) {
            s.needs = s.needs.max(before + 1);
        }
    };
    while let Some(&b) = block.get(at) {
        if b & 0x80 != 0 {
            // §6.1 indexed field.
            let index = integer(block, &mut at, 7)?;
            if index == 0 {
                return Err(Error::Malformed("index 0".into()));
            }
            refer(&mut s, index);
            s.ops.push(Op::Field { inserted: false });
        } else if b & 0x20 != 0 && b & 0x40 == 0 {
            // §6.3 dynamic table size update.
            let size = integer(block, &mut at, 5)?;
            s.ops
                .push(Op::SizeUpdate(usize::try_from(size).unwrap_or(usize::MAX)));
        } else {
            // §6.2 literals: with incremental indexing (6-bit name index), without indexing
            // or never indexed (4-bit).
            let inserted = b & 0x40 != 0;
            let name = integer(block, &mut at, if inserted { 6 } else { 4 })?;
            if name == 0 {
                skip_string(block, &mut at, visit)?;
            } else {
                refer(&mut s, name);
            }
            skip_string(block, &mut at, visit)?;
            s.ops.push(Op::Field { inserted });
            if inserted {
                s.inserts += 1;
            }
        }
    }
    Ok(s)
}

/// Scans `block` and, when it holds Huffman-coded strings, writes it to `plain` with each of
/// them replaced by its octets (RFC 7541 §5.2 with H = 0): loona-hpack's own Huffman decoder
/// is slow ([`super::huffman`]). Returns the scan and whether `plain` holds the block.
fn without_huffman(block: &[u8], plain: &mut Vec<u8>) -> Result<(Scan, bool), Error> {
    let mut copied = 0;
    let mut huffman = false;
    let scan = scan_with(block, &mut |start, octets| {
        if block[start] & 0x80 == 0 {
            return Ok(());
        }
        huffman = true;
        plain.extend_from_slice(&block[copied..start]);
        // The decoded length is not known yet: decode after a 5-byte gap, then write the
        // length prefix and move the octets down.
        let at = plain.len() + 5;
        plain.resize(at, 0);
        super::huffman::decode(&block[octets.clone()], plain)
            .map_err(|e| Error::Malformed(e.to_string()))?;
        let len = plain.len() - at;
        if len as u64 >= MAX_INTEGER {
            return Err(Error::Malformed("string too long".into()));
        }
        let mut prefix = [0u8; 5];
        let n = encode_integer(len, 7, &mut prefix);
        plain.copy_within(at.., at - 5 + n);
        plain.truncate(at - 5 + n + len);
        plain[at - 5..at - 5 + n].copy_from_slice(&prefix[..n]);
        copied = octets.end;
        Ok(())
    })?;
    if huffman {
        plain.extend_from_slice(&block[copied..]);
    }
    Ok((scan, huffman))
}

/// Writes `value` as a prefix integer of `bits` bits (RFC 7541 §5.1) with the other bits of
/// the first byte zero; returns the bytes used. Five bytes hold any length below 2^28.
fn encode_integer(value: usize, bits: u32, out: &mut [u8; 5]) -> usize {
    let max = (1usize << bits) - 1;
    if value < max {
        out[0] = value as u8;
        return 1;
    }
    out[0] = max as u8;
    let mut rest = value - max;
    let mut n = 1;
    while rest >= 0x80 && n < 4 {
        out[n] = (rest & 0x7f) as u8 | 0x80;
        rest >>= 7;
        n += 1;
    }
    out[n] = rest as u8;
    n + 1
}

/// A decoded header field, bytes as sent.
pub type Field = (Vec<u8>, Vec<u8>);

/// A decoded block.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fields {
    /// Fields in order, up to the list-size limit given to [`HeaderDecoder::decode`].
    pub fields: Vec<Field>,
    /// Fields past the limit were left out.
    pub over_limit: bool,
}

/// One direction's HPACK decoder with the bookkeeping of the loss rule (module docs).
pub struct HeaderDecoder {
    decoder: Decoder<'static>,
    /// Sizes of the entries the decoder holds, newest first.
    sizes: VecDeque<usize>,
    size: usize,
    max: usize,
    allowed: usize,
    /// The last block with its Huffman strings decoded, kept for its allocation.
    plain: Vec<u8>,
}

impl std::fmt::Debug for HeaderDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderDecoder")
            .field("entries", &self.sizes.len())
            .field("size", &self.size)
            .field("max", &self.max)
            .field("allowed", &self.allowed)
            .finish()
    }
}

impl Default for HeaderDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HeaderDecoder {
    /// A decoder with an empty table of the default size.
    pub fn new() -> Self {
        let mut d = Self {
            decoder: Decoder::new(),
            sizes: VecDeque::new(),
            size: 0,
            max: DEFAULT_TABLE_BYTES,
            allowed: DEFAULT_TABLE_BYTES,
            plain: Vec::new(),
        };
        d.decoder.set_max_allowed_table_size(d.allowed);
        d
    }

    /// Entries held (the front of the sender's table that is known).
    pub fn known(&self) -> usize {
        self.sizes.len()
    }

    /// The table's size in the RFC 7541 §4.1 sense.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The receiver's SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask for (RFC 7541
    /// §4.2, §6.3), capped at [`MAX_TABLE_BYTES`]. The table itself changes only when the
    /// sender's next size update says so.
    pub fn set_allowed(&mut self, n: u32) {
        self.allowed = usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(MAX_TABLE_BYTES);
        self.decoder.set_max_allowed_table_size(self.allowed);
    }

    /// Forgets the table: the sender's insertions can no longer be placed.
    pub fn reset(&mut self) {
        self.decoder = Decoder::new();
        self.decoder.set_max_allowed_table_size(self.allowed);
        self.sizes.clear();
        self.size = 0;
        self.max = DEFAULT_TABLE_BYTES;
        if self.allowed < self.max {
            self.decoder.set_max_table_size(self.allowed);
            self.max = self.allowed;
        }
    }

    fn resize(&mut self, max: usize) {
        self.max = max;
        while self.size > self.max {
            match self.sizes.pop_back() {
                Some(s) => self.size -= s,
                None => self.size = 0,
            }
        }
    }

    fn insert(&mut self, entry: usize) {
        // RFC 7541 §4.4: an entry larger than the table empties it and is not kept; loona
        // pushes first and then evicts, which ends the same way.
        self.sizes.push_front(entry);
        self.size += entry;
        self.resize(self.max);
    }

    /// Decodes one whole header block; fields past `list_limit` bytes (RFC 9113 §6.5.2 sizes)
    /// are dropped and flagged. On an error the table is kept or reset per the loss rule.
    pub fn decode(&mut self, block: &[u8], list_limit: usize) -> Result<Fields, Error> {
        let mut plain = std::mem::take(&mut self.plain);
        let scanned = without_huffman(block, &mut plain);
        let result = match scanned {
            Ok((scan, huffman)) => {
                self.decode_scanned(if huffman { &plain } else { block }, scan, list_limit)
            }
            Err(e) => {
                self.reset();
                Err(e)
            }
        };
        plain.clear();
        self.plain = plain;
        result
    }

    fn decode_scanned(
        &mut self,
        block: &[u8],
        scan: Scan,
        list_limit: usize,
    ) -> Result<Fields, Error> {
        if scan.needs > self.known() {
            let err = Error::UnknownEntry {
                needs: scan.needs,
                known: self.known(),
            };
            self.skip(&scan);
            return Err(err);
        }
        let mut out = Fields::default();
        let mut lens = Vec::with_capacity(scan.ops.len());
        let mut list = 0usize;
        let decoded = self.decoder.decode_with_cb(block, |name, value| {
            lens.push(name.len() + value.len());
            list = list.saturating_add(32 + name.len() + value.len());
            if list <= list_limit {
                out.fields.push((name.into_owned(), value.into_owned()));
            } else {
                out.over_limit = true;
            }
        });
        if let Err(e) = decoded {
            self.reset();
            return Err(Error::Malformed(e.to_string()));
        }
        let mut lens = lens.into_iter();
        for op in &scan.ops {
            match *op {
                Op::SizeUpdate(n) => self.resize(n),
                Op::Field { inserted } => match lens.next() {
                    Some(n) if inserted => self.insert(32 + n),
                    Some(_) => {}
                    None => {
                        // The scan and loona disagree; the sizes cannot be trusted.
                        self.reset();
                        return Ok(out);
                    }
                },
            }
        }
        Ok(out)
    }

    /// A block that will not be decoded (lost, cut, over a limit): keeps the table if the
    /// block inserts nothing, else resets it.
    pub fn skip(&mut self, scan: &Scan) {
        if scan.inserts > 0 {
            self.reset();
            return;
        }
        for op in &scan.ops {
            if let Op::SizeUpdate(n) = *op {
                if n > self.allowed {
                    self.reset();
                    return;
                }
                self.decoder.set_max_table_size(n);
                self.resize(n);
            }
        }
    }

    /// A block whose bytes were not all seen: nothing can be said of what it inserted.
    pub fn lost(&mut self) {
        self.reset();
    }

    /// Sets the table size directly, as a size update would.
    #[cfg(test)]
    fn with_table_size(mut self, n: usize) -> Self {
        self.allowed = n;
        self.decoder.set_max_allowed_table_size(n);
        self.decoder.set_max_table_size(n);
        self.resize(n);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hex with spaces and newlines, as RFC 7541 Appendix C prints it.
    use crate::test_support::hex;

    fn text(f: &Fields) -> Vec<String> {
        f.fields
            .iter()
            .map(|(n, v)| {
                format!(
                    "{}: {}",
                    String::from_utf8_lossy(n),
                    String::from_utf8_lossy(v)
                )
            })
            .collect()
    }

    /// Decodes `blocks` in order with `d`, checking each block's fields and the table size
    /// after it.
    fn appendix(mut d: HeaderDecoder, cases: &[(&str, &[&str], usize)]) {
        for (i, (block, want, size)) in cases.iter().enumerate() {
            let got = d.decode(&hex(block), usize::MAX).expect("decodes");
            assert_eq!(text(&got), *want, "block {i}");
            assert_eq!(d.size(), *size, "table size after block {i}");
        }
    }

    const REQ1: &[&str] = &[
        ":method: GET",
        ":scheme: http",
        ":path: /",
        ":authority: www.example.com",
    ];
    const REQ2: &[&str] = &[
        ":method: GET",
        ":scheme: http",
        ":path: /",
        ":authority: www.example.com",
        "cache-control: no-cache",
    ];
    const REQ3: &[&str] = &[
        ":method: GET",
        ":scheme: https",
        ":path: /index.html",
        ":authority: www.example.com",
        "custom-key: custom-value",
    ];

    /// RFC 7541 C.1: 10 and 1337 with a 5-bit prefix, 42 with 8 bits.
    #[test]
    fn integers_encode_as_rfc7541_c1_says() {
        let enc = |v, bits| {
            let mut out = [0u8; 5];
            let n = encode_integer(v, bits, &mut out);
            out[..n].to_vec()
        };
        assert_eq!(enc(10, 5), [10]);
        assert_eq!(enc(1337, 5), [31, 154, 10]);
        assert_eq!(enc(42, 8), [42]);
        let mut at = 0;
        assert_eq!(
            integer(&enc((1 << 28) - 1, 7), &mut at, 7),
            Ok((1 << 28) - 1)
        );
    }

    #[test]
    fn rfc7541_c3_requests_without_huffman() {
        appendix(
            HeaderDecoder::new(),
            &[
                (
                    "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                    REQ1,
                    57,
                ),
                ("8286 84be 5808 6e6f 2d63 6163 6865", REQ2, 110),
                (
                    "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
                    REQ3,
                    164,
                ),
            ],
        );
    }

    #[test]
    fn rfc7541_c4_requests_with_huffman() {
        appendix(
            HeaderDecoder::new(),
            &[
                ("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", REQ1, 57),
                ("8286 84be 5886 a8eb 1064 9cbf", REQ2, 110),
                (
                    "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
                    REQ3,
                    164,
                ),
            ],
        );
    }

    const RESP1: &[&str] = &[
        ":status: 302",
        "cache-control: private",
        "date: Mon, 21 Oct 2013 20:13:21 GMT",
        "location: https://www.example.com",
    ];
    const RESP2: &[&str] = &[
        ":status: 307",
        "cache-control: private",
        "date: Mon, 21 Oct 2013 20:13:21 GMT",
        "location: https://www.example.com",
    ];
    const RESP3: &[&str] = &[
        ":status: 200",
        "cache-control: private",
        "date: Mon, 21 Oct 2013 20:13:22 GMT",
        "location: https://www.example.com",
        "content-encoding: gzip",
        "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    ];

    #[test]
    fn rfc7541_c5_responses_without_huffman_evict() {
        appendix(
            HeaderDecoder::new().with_table_size(256),
            &[
                (
                    "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
                     2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
                     6c65 2e63 6f6d",
                    RESP1,
                    222,
                ),
                ("4803 3330 37c1 c0bf", RESP2, 222),
                (
                    "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
                     54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
                     5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
                     3d31",
                    RESP3,
                    215,
                ),
            ],
        );
    }

    #[test]
    fn rfc7541_c6_responses_with_huffman_evict() {
        appendix(
            HeaderDecoder::new().with_table_size(256),
            &[
                (
                    "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                     2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
                    RESP1,
                    222,
                ),
                ("4883 640e ffc1 c0bf", RESP2, 222),
                (
                    "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
                     77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                     9587 3160 65c0 03ed 4ee5 b106 3d50 07",
                    RESP3,
                    215,
                ),
            ],
        );
    }

    macro_rules! scans {
        ($hex:expr => needs $needs:expr, inserts $ins:expr) => {{
            let s = scan(&hex($hex)).expect("scans");
            assert_eq!((s.needs, s.inserts), ($needs, $ins), "{}", $hex);
        }};
    }

    #[test]
    fn scan_reads_references_without_decoding() {
        scans!("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d" => needs 0, inserts 1);
        scans!("8286 84be" => needs 1, inserts 0);
        // One insertion first: index 63 is then the first entry found before the block.
        scans!("4001 6101 62 bf" => needs 1, inserts 1);
        scans!("4001 6101 62 be" => needs 0, inserts 1);
        // A literal with an indexed name refers too; a size update refers to nothing.
        scans!("3fe1 1f 1f31 0161" => needs 3, inserts 0);
        scans!("04 0161" => needs 0, inserts 0);
        scans!("1f55 0161" => needs 39, inserts 0);
        assert!(scan(&hex("80")).is_err(), "index 0");
        assert!(scan(&hex("4005 61")).is_err(), "string past the end");
        assert!(
            scan(&hex("ff ff ff ff ff ff 01")).is_err(),
            "integer too large"
        );
    }

    #[test]
    fn mid_connection_blocks_that_need_unknown_entries_are_not_decoded() {
        // Joining after C.3.1: block 2 refers to the :authority entry it never saw.
        let mut d = HeaderDecoder::new();
        let err = d.decode(&hex("8286 84be 5808 6e6f 2d63 6163 6865"), usize::MAX);
        assert_eq!(err, Err(Error::UnknownEntry { needs: 1, known: 0 }));
        assert_eq!(d.known(), 0, "its insertion is unknown: reset");
        // Block 3 needs entries 1..2 of the sender's table (known: none) → lost too.
        let b3 = "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65";
        assert!(d.decode(&hex(b3), usize::MAX).is_err());
        // A block of literals decodes, and what it inserts is known afterwards.
        let lit = "4001 6101 62";
        assert_eq!(
            text(&d.decode(&hex(lit), usize::MAX).expect("literal")),
            ["a: b"]
        );
        assert_eq!(
            text(&d.decode(&hex("be"), usize::MAX).expect("known")),
            ["a: b"]
        );
        // A lost block that inserts nothing keeps the table.
        assert!(d.decode(&hex("bf"), usize::MAX).is_err());
        assert_eq!(d.known(), 1);
    }

    #[test]
    fn list_limit_drops_the_rest_and_size_updates_obey_settings() {
        let mut d = HeaderDecoder::new();
        let f = d.decode(&hex("8286 8441 0161"), 32 + 10).expect("decodes");
        assert_eq!(text(&f), [":method: GET"]);
        assert!(f.over_limit);
        assert_eq!(d.known(), 1, "the table still follows the block");
        d.set_allowed(100);
        assert!(
            d.decode(&hex("3f46 82"), usize::MAX).is_err(),
            "update to 101"
        );
        assert!(
            d.decode(&hex("3f25 82"), usize::MAX).is_ok(),
            "update to 68"
        );
    }
}
