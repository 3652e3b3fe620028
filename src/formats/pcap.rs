//! pcap and pcapng captures (read only): records in, exchanges out through
//! [`crate::capture::Pipeline`].
//!
//! First step of the capture pipeline. Legacy pcap (both byte orders, micro- and nanosecond,
//! and the "modified" 24-byte record headers) is read here, in place: a batch is one buffer of
//! whole records, and the pipeline's segments point into it, so no payload is copied before
//! reassembly. pcap-parser streams pcapng (several sections and interfaces). This module keeps
//! each interface's link type and timestamp resolution, unwraps gzip, and drives the pipeline
//! one batch at a time so exchanges stream out while memory stays bounded. A file that ends
//! inside a record keeps everything before it, with a note.

use super::read_ahead::ReadAhead;
use super::{Error, Exchanges, Input};
use crate::capture::link::LinkType;
use crate::capture::{Frame, Note, Options, Pipeline, Stats};
use crate::model::Location;
use crate::model::{Exchange, Timestamp};
use pcap_parser::pcapng::SecretsType;
use pcap_parser::pcapng::{Block, InterfaceDescriptionBlock};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};
use std::collections::VecDeque;
use std::io::{BufRead, Read};
use std::time::Instant;

/// Initial read buffer of the record reader; it grows for larger records.
pub const READ_BUFFER_BYTES: usize = 1 << 20;

/// Largest record accepted: pcapng blocks are 32-bit sized, but no link layer captures more.
pub const MAX_RECORD_BYTES: usize = 256 << 20;

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The header is neither pcap nor pcapng.
    #[error("{file}: {found}")]
    NotCapture {
        /// The input's display name.
        file: String,
        /// What the file starts with instead, and what was expected (see [`describe_head`]).
        found: String,
    },
    /// A record did not parse.
    #[error("{file}: block {record} at byte {offset}: {message}")]
    BadRecord {
        /// The input's display name.
        file: String,
        /// 1-based record number (packets and other blocks).
        record: u64,
        /// Where the block starts in the (decompressed) file.
        offset: u64,
        /// What is wrong with it.
        message: String,
    },
    /// Reading failed.
    #[error("{file}: reading the capture failed{}", reason_part(.reason))]
    Read {
        /// The input's display name.
        file: String,
        /// The I/O error's words, when there was one (a cut or corrupt gzip stream).
        reason: Option<String>,
    },
}

/// `: why` for a [`CaptureError::Read`] message.
fn reason_part(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default()
}

/// Says what a file that is not a capture starts with, and what a capture starts with, from
/// its first bytes (a few hundred are enough).
pub fn describe_head(head: &[u8]) -> String {
    const EXPECTED: &str = "expected a pcap (a1b2c3d4, a1b23c4d) or pcapng (0a0d0d0a) magic number";
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    if head.is_empty() {
        return format!("the file is empty; {EXPECTED}");
    }
    if let Some(magic) = head.get(..4).and_then(|m| <[u8; 4]>::try_from(m).ok()) {
        if legacy_format(magic).is_some() {
            return format!(
                "the pcap file header is cut short: {} of 24 bytes",
                head.len().min(23)
            );
        }
        if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
            return match head.get(8..12) {
                None => format!(
                    "the pcapng section header block is cut short: {} of at least 28 bytes",
                    head.len()
                ),
                Some(bom) if bom != [0x4d, 0x3c, 0x2b, 0x1a] && bom != [0x1a, 0x2b, 0x3c, 0x4d] => {
                    format!(
                        "byte 8: pcapng byte-order magic {}, expected 1a2b3c4d or 4d3c2b1a",
                        hex(bom)
                    )
                }
                Some(bom) => {
                    let big_endian = bom == [0x1a, 0x2b, 0x3c, 0x4d];
                    let len = u32_at(head, 4, big_endian) as usize;
                    if head.len() < len {
                        format!(
                            "the pcapng section header block is cut short: {} of {len} bytes",
                            head.len()
                        )
                    } else {
                        format!("block 1 at byte 0: {}", describe_block(head, big_endian))
                    }
                }
            };
        }
    }
    let text = super::detect::after_bom(head);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b @ (b'{' | b'[')) => format!(
            "starts with `{}` like a JSON document; expected a pcap or pcapng magic number",
            char::from(*b)
        ),
        _ => format!(
            "byte 0: magic number {}, {EXPECTED}",
            hex(&head[..head.len().min(4)])
        ),
    }
}

/// What is wrong with the pcapng block at the start of `data`, which pcap-parser refused.
fn describe_block(data: &[u8], big_endian: bool) -> String {
    let Some(header) = data.get(..8) else {
        return "the block header is cut short".into();
    };
    let kind = u32_at(header, 0, big_endian);
    let len = u32_at(header, 4, big_endian);
    let trailer = usize::try_from(len)
        .ok()
        .and_then(|l| l.checked_sub(4).and_then(|at| data.get(at..l)))
        .map(|t| u32_at(t, 0, big_endian));
    let what = if len < 12 {
        "a block is at least 12 bytes"
    } else if len % 4 != 0 {
        "a block length is a multiple of 4"
    } else if trailer.is_some_and(|t| t != len) {
        "the length at its end differs"
    } else {
        "its body does not fit its length"
    };
    format!("malformed pcapng block of type 0x{kind:08x} and length {len}: {what}")
}

struct Interface {
    link: LinkType,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp.
    offset: i64,
}

/// Exchanges ready for the writer, per batch, queued between the reading thread and the writer.
/// One batch lets reading, flow work and writing overlap without holding more.
pub const QUEUED_BATCHES: usize = 1;

/// Reads records and runs the pipeline, one batch at a time.
struct Batches {
    source: Source,
    /// Captures still to read after this one, as one capture with it.
    rest: VecDeque<Input>,
    /// Where each capture's packets start in the numbering of the whole set, and its name;
    /// the last is the one being read.
    files: Vec<(u64, String)>,
    pipeline: Pipeline,
    /// Packets of the whole set so far: frames are numbered across the set, and exchanges
    /// are given their file and its own packet number as they leave.
    packets: u64,
    blocks: u64,
    done: bool,
}

/// Where the pcapng reader is: bytes consumed before the current block, and the byte order
/// of the current section.
#[derive(Default)]
struct BlockPlace {
    offset: u64,
    big_endian: bool,
}

enum Source {
    Legacy(Legacy),
    Blocks {
        records: Box<dyn PcapReaderIterator + Send>,
        interfaces: Vec<Interface>,
        place: BlockPlace,
        /// Packets of the captures before this one in the set.
        base: u64,
    },
}

/// A legacy pcap file, read in place.
struct Legacy {
    /// Reads the next batch while the pipeline works on this one.
    ahead: ReadAhead,
    /// The buffer of the batch before, for the read ahead to fill.
    spare: Vec<u8>,
    iface: Interface,
    /// Packets of the captures before this one in the set.
    base: u64,
    big_endian: bool,
    /// Bytes of a record header: 16, or 24 in the "modified" format.
    header_len: usize,
    buf: Vec<u8>,
    /// Bytes `buf` starts with; it grows for a longer record.
    capacity: usize,
    /// Bytes of `buf` read.
    filled: usize,
    /// Bytes of `buf` handed on as records; the rest starts the next batch.
    parsed: usize,
    /// Bytes of records before `buf` starts, for the byte offsets in notes.
    consumed: u64,
    eof: bool,
}

/// Opens a capture; gzip is unwrapped when the stream starts with its magic (already done
/// when the format was detected).
pub fn read(mut input: Input, opts: crate::capture::Options) -> Result<Exchanges, Error> {
    input.unwrap_gzip()?;
    Ok(Exchanges::from(Reader::spawn(Batches::new(
        input.name,
        input.reader,
        opts,
    )?)))
}

/// Opens several captures as one, so a connection that goes on from one file into the next
/// (`tcpdump -C` or `-G` rotation) is reassembled whole. They are read in the order of their
/// first packet's time; the order given breaks ties, and a capture whose first packet is not
/// within its first read buffer comes after those whose is.
pub fn read_set(mut inputs: Vec<Input>, opts: crate::capture::Options) -> Result<Exchanges, Error> {
    let mut keyed = Vec::with_capacity(inputs.len());
    for mut input in inputs.drain(..) {
        input.unwrap_gzip()?;
        let first = first_timestamp(&mut input);
        keyed.push((first.is_none(), first, input));
    }
    keyed.sort_by_key(|(unknown, first, _)| (*unknown, *first));
    let mut rest: VecDeque<Input> = keyed.into_iter().map(|(_, _, input)| input).collect();
    let Some(first) = rest.pop_front() else {
        return Err(CaptureError::NotCapture {
            file: "(no input)".to_owned(),
            found: "no capture was given".to_owned(),
        }
        .into());
    };
    let mut batches = Batches::new(first.name, first.reader, opts)?;
    batches.rest = rest;
    Ok(Exchanges::from(Reader::spawn(batches)))
}

/// The time of the first packet, if it is within what `input` has buffered (it is not
/// consumed).
fn first_timestamp(input: &mut Input) -> Option<Timestamp> {
    let head = input.reader.fill_buf().ok()?;
    let magic = head.get(..4).map(|m| [m[0], m[1], m[2], m[3]])?;
    if let Some((big_endian, units, _)) = legacy_format(magic) {
        let header = head.get(..32)?;
        let field = |at: usize| u32_at(header, at, big_endian);
        let iface = Interface {
            link: LinkType::from_number(0),
            units,
            offset: i64::from(field(8) as i32),
        };
        let raw = u64::from(field(24)) * units + u64::from(field(28));
        return Some(timestamp(raw, &iface));
    }
    let mut records =
        pcap_parser::create_reader(head.len().max(1024), std::io::Cursor::new(head.to_vec()))
            .ok()?;
    let mut interfaces = Vec::new();
    loop {
        let (consumed, block) = records.next().ok()?;
        match block {
            PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                interfaces.push(interface(&idb));
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let iface = interfaces.get(usize::try_from(epb.if_id).ok()?)?;
                let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                return Some(timestamp(raw, iface));
            }
            _ => {}
        }
        records.consume(consumed);
    }
}

/// A pcapng interface's link type and timestamp units.
fn interface(idb: &InterfaceDescriptionBlock<'_>) -> Interface {
    Interface {
        link: LinkType::from_number(idb.linktype.0),
        units: idb.ts_resolution().unwrap_or(1_000_000).max(1),
        offset: idb.ts_offset(),
    }
}

/// Streams exchanges out of a capture. Reading and the flow work run on a thread of their own
/// (the flows themselves on rayon's pool), so they overlap with whatever consumes the
/// exchanges, typically a writer; the order is fixed before the exchanges leave that thread.
pub struct Reader {
    batches: std::sync::mpsc::Receiver<Result<Vec<Exchange>, Error>>,
    current: std::vec::IntoIter<Exchange>,
    /// The reading thread, which returns the capture's account when it ends.
    thread: Option<std::thread::JoinHandle<Stats>>,
    stats: Option<Stats>,
}

impl Reader {
    fn spawn(mut batches: Batches) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUED_BATCHES);
        let thread = std::thread::spawn(move || {
            while let Some(batch) = batches.next_batch() {
                if tx.send(batch).is_err() {
                    break;
                }
            }
            batches.pipeline.stats()
        });
        Self {
            batches: rx,
            current: Vec::new().into_iter(),
            thread: Some(thread),
            stats: None,
        }
    }

    /// The capture's account (packets, flows, what did not become an exchange): complete once
    /// the last exchange was read, `None` before.
    pub fn stats(&self) -> Option<&Stats> {
        self.stats.as_ref()
    }
}

impl Iterator for Reader {
    type Item = Result<Exchange, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(ex) = self.current.next() {
                return Some(Ok(ex));
            }
            match self.batches.recv() {
                Ok(Ok(batch)) => self.current = batch.into_iter(),
                Ok(Err(e)) => return Some(Err(e)),
                Err(_) => {
                    // The thread has ended, handing back its account.
                    if let Some(t) = self.thread.take() {
                        self.stats = t.join().ok();
                    }
                    return None;
                }
            }
        }
    }
}

impl Batches {
    /// A batch source over `reader`, named `name` in messages.
    fn new(name: String, reader: Box<dyn BufRead + Send>, opts: Options) -> Result<Self, Error> {
        let source = Source::open(&name, reader, 0)?;
        let pipeline = Pipeline::new(&name, opts);
        Ok(Self {
            files: vec![(0, name)],
            source,
            rest: VecDeque::new(),
            pipeline,
            packets: 0,
            blocks: 0,
            done: false,
        })
    }

    /// Goes on to the next capture of the set, if there is one.
    fn next_file(&mut self) -> Result<(), Error> {
        let Some(mut input) = self.rest.pop_front() else {
            return Ok(());
        };
        input.unwrap_gzip()?;
        let next = Source::open(&input.name, input.reader, self.packets)?;
        // The buffers go on to the next file: a fresh one would be zeroed up to a batch.
        if let (Source::Legacy(old), Source::Legacy(new)) =
            (std::mem::replace(&mut self.source, next), &mut self.source)
        {
            (new.buf, new.spare) = (old.buf, old.spare);
        }
        self.files.push((self.packets, input.name));
        self.blocks = 0;
        Ok(())
    }

    /// Gives exchanges of a set of captures the file their first packet is in, and its
    /// number there.
    fn locate(&self, batch: &mut [Exchange]) {
        if self.files.len() < 2 {
            return;
        }
        for ex in batch {
            if let Some(Location::Packet(n)) = ex.source.location {
                let at = self.files.partition_point(|(base, _)| *base < n).max(1) - 1;
                let (base, name) = &self.files[at];
                ex.source.file = Some(name.clone());
                ex.source.location = Some(Location::Packet(n - base));
            }
        }
    }

    /// Reads records until the batch is full or the file ends; `Ok(true)` at the end.
    fn fill_batch(&mut self) -> Result<bool, Error> {
        // One clock reading per batch: the records and their link, IP and TCP headers together.
        let started = Instant::now();
        let name = self.files.last().map_or("", |(_, name)| name.as_str());
        let result = match &mut self.source {
            Source::Legacy(legacy) => {
                legacy.fill_batch(name, &mut self.pipeline, &mut self.packets)
            }
            Source::Blocks {
                records,
                interfaces,
                place,
                base,
            } => fill_blocks(
                name,
                (records, place),
                interfaces,
                &mut self.pipeline,
                (&mut self.packets, *base, &mut self.blocks),
            ),
        };
        self.pipeline
            .add_read_time(started.elapsed().as_nanos() as u64);
        result.map_err(Error::from)
    }
}

impl Source {
    /// Reads the header of the capture `name`, whose packets follow `base` earlier ones.
    fn open(name: &str, mut reader: Box<dyn BufRead + Send>, base: u64) -> Result<Self, Error> {
        let read_error = || CaptureError::Read {
            file: name.to_owned(),
            reason: None,
        };
        let (magic, found) = match reader.fill_buf() {
            Ok(head) => (
                head.get(..4).map(|m| [m[0], m[1], m[2], m[3]]),
                describe_head(head),
            ),
            Err(e) => {
                return Err(CaptureError::Read {
                    file: name.to_owned(),
                    reason: Some(e.to_string()),
                }
                .into());
            }
        };
        let not_capture = || CaptureError::NotCapture {
            file: name.to_owned(),
            found: found.clone(),
        };
        Ok(match magic.and_then(legacy_format) {
            Some((big_endian, units, header_len)) => {
                let mut header = [0u8; 24];
                reader.read_exact(&mut header).map_err(|_| not_capture())?;
                let field = |at: usize| u32_at(&header, at, big_endian);
                Source::Legacy(Legacy {
                    ahead: ReadAhead::new(reader).map_err(|_| read_error())?,
                    spare: Vec::new(),
                    iface: Interface {
                        // The link type is the low 16 bits; the rest carry FCS flags.
                        link: LinkType::from_number(i32::from(field(20) as u16)),
                        units,
                        offset: i64::from(field(8) as i32),
                    },
                    base,
                    big_endian,
                    header_len,
                    buf: Vec::new(),
                    capacity: crate::capture::BATCH_BYTES,
                    filled: 0,
                    parsed: 0,
                    consumed: 0,
                    eof: false,
                })
            }
            None => Source::Blocks {
                records: pcap_parser::create_reader(READ_BUFFER_BYTES, reader).map_err(
                    |e| match e {
                        PcapError::ReadError => read_error(),
                        _ => not_capture(),
                    },
                )?,
                interfaces: Vec::new(),
                place: BlockPlace::default(),
                base,
            },
        })
    }
}

/// The 32-bit field at `at` of a header at least `at + 4` bytes long.
fn u32_at(header: &[u8], at: usize, big_endian: bool) -> u32 {
    let b = [header[at], header[at + 1], header[at + 2], header[at + 3]];
    if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

/// Byte order, timestamp units per second and record header length of a legacy pcap magic.
fn legacy_format(magic: [u8; 4]) -> Option<(bool, u64, usize)> {
    let format = |m: u32| match m {
        0xa1b2_c3d4 => Some((1_000_000, 16)),
        0xa1b2_3c4d => Some((1_000_000_000, 16)),
        // Alexey Kuznetzov's patched libpcap: 8 more bytes per record header.
        0xa1b2_cd34 => Some((1_000_000, 24)),
        _ => None,
    };
    let little = format(u32::from_le_bytes(magic)).map(|(u, h)| (false, u, h));
    little.or_else(|| format(u32::from_be_bytes(magic)).map(|(u, h)| (true, u, h)))
}

impl Legacy {
    /// Reads a buffer's worth of whole records and hands them to `pipeline` in place; the
    /// buffer then goes to [`Pipeline::end_batch`] via [`Legacy::batch`]. `Ok(true)` at the end.
    fn fill_batch(
        &mut self,
        name: &str,
        pipeline: &mut Pipeline,
        packets: &mut u64,
    ) -> Result<bool, CaptureError> {
        // The pipeline asks for larger batches while they touch few flows (tests set a small
        // capacity to cut records at buffer ends).
        let mut want = if self.capacity < crate::capture::BATCH_BYTES {
            self.capacity
        } else {
            pipeline.batch_bytes()
        };
        let read_error = |e: Option<std::io::Error>| CaptureError::Read {
            file: name.to_owned(),
            reason: e.map(|e| e.to_string()),
        };
        // Either way below, this batch starts where the last one's records ended.
        self.consumed += self.parsed as u64;
        match self.ahead.wait() {
            // Read while the last batch was worked on, after its unfinished record.
            Some(next) => {
                self.spare = std::mem::replace(&mut self.buf, next.buf);
                (self.filled, self.parsed, self.eof) = (next.len, 0, next.eof);
                if next.error.is_some() {
                    return Err(read_error(next.error));
                }
            }
            None => {
                // The unfinished record of the last batch starts this one.
                self.buf.copy_within(self.parsed..self.filled, 0);
                self.filled -= self.parsed;
                self.parsed = 0;
            }
        }
        loop {
            let limit = want.max(self.filled);
            if self.filled < limit && !self.eof {
                let buf = std::mem::take(&mut self.buf);
                let read = self
                    .ahead
                    .fill(buf, self.filled, limit)
                    .ok_or_else(|| read_error(None))?;
                (self.buf, self.filled, self.eof) = (read.buf, read.len, read.eof);
                if read.error.is_some() {
                    return Err(read_error(read.error));
                }
            }
            let needed = self.hand_on(name, pipeline, packets);
            match needed {
                // A record longer than the buffer: make room and read on.
                Some(len) if self.parsed == 0 && len > want && !self.eof => want = len,
                Some(len) if len > MAX_RECORD_BYTES => return Ok(true),
                _ => break,
            }
        }
        if self.eof && self.parsed < self.filled {
            let rest = &self.buf[self.parsed..self.filled];
            let h = self.header_len;
            let left = if rest.len() < h {
                format!("only {} of its {h}-byte header is in the file", rest.len())
            } else {
                let caplen = u32_at(rest, 8, self.big_endian);
                format!(
                    "only {} of its {caplen} bytes are in the file",
                    rest.len() - h
                )
            };
            // The file header is 24 bytes.
            let at = 24 + self.consumed + self.parsed as u64;
            note_cut_off(pipeline, name, (*packets - self.base + 1, at), &left);
            self.parsed = self.filled;
        }
        if !self.eof {
            // The next batch is read behind this one, its unfinished record first.
            let tail = self.filled - self.parsed;
            let mut next = std::mem::take(&mut self.spare);
            if next.len() < tail {
                next.resize(tail, 0);
            }
            next[..tail].copy_from_slice(&self.buf[self.parsed..self.filled]);
            self.ahead.start(next, tail, want.max(tail));
        }
        Ok(self.eof && self.parsed == self.filled)
    }

    /// Hands whole records to `pipeline`; returns the length of the first incomplete one.
    fn hand_on(&mut self, name: &str, pipeline: &mut Pipeline, packets: &mut u64) -> Option<usize> {
        let h = self.header_len;
        loop {
            let rest = &self.buf[self.parsed..self.filled];
            if rest.len() < h {
                return (!rest.is_empty()).then_some(h);
            }
            let field = |at: usize| u32_at(rest, at, self.big_endian);
            let caplen = field(8) as usize;
            if caplen > MAX_RECORD_BYTES {
                note_too_large(pipeline, name, *packets - self.base + 1);
                // Nothing after it can be found: the rest of the file is left unread.
                self.eof = true;
                self.filled = self.parsed;
                return Some(h + caplen);
            }
            if rest.len() < h + caplen {
                return Some(h + caplen);
            }
            *packets += 1;
            let raw = u64::from(field(0)) * self.iface.units + u64::from(field(4));
            pipeline.packet(Frame {
                link: self.iface.link,
                ts: timestamp(raw, &self.iface),
                data: &rest[h..h + caplen],
                at: Some(self.parsed + h),
                number: *packets,
            });
            self.parsed += h + caplen;
        }
    }

    /// The records of the batch just read, for [`Pipeline::end_batch`].
    fn batch(&self) -> &[u8] {
        &self.buf[..self.parsed]
    }
}

/// Notes that record `n`, at byte `at`, ends the file early with only `left` of it there;
/// what came before it is kept.
fn note_cut_off(pipeline: &mut Pipeline, name: &str, (n, at): (u64, u64), left: &str) {
    pipeline.note(Note::TruncatedFile, || {
        format!(
            "{name}: record {n} at byte {at} is cut off ({left}); the records before it were read"
        )
    });
}

/// Notes that record `n` is too large to read, which ends the file there.
fn note_too_large(pipeline: &mut Pipeline, name: &str, n: u64) {
    pipeline.note(Note::Limit, || {
        format!("{name}: record {n} larger than {MAX_RECORD_BYTES} bytes")
    });
}

/// Reads pcapng blocks until the batch is full or the file ends; `Ok(true)` at the end.
fn fill_blocks(
    name: &str,
    (records, place): (&mut Box<dyn PcapReaderIterator + Send>, &mut BlockPlace),
    interfaces: &mut Vec<Interface>,
    pipeline: &mut Pipeline,
    (packets, base, blocks): (&mut u64, u64, &mut u64),
) -> Result<bool, CaptureError> {
    loop {
        if pipeline.batch_full() {
            return Ok(false);
        }
        match records.next() {
            Ok((consumed, block)) => {
                *blocks += 1;
                if let PcapBlockOwned::NG(block) = block {
                    if let Block::SectionHeader(shb) = &block {
                        place.big_endian = shb.big_endian();
                    }
                    ng_block(block, interfaces, pipeline, (packets, base));
                }
                place.offset += consumed as u64;
                records.consume(consumed);
            }
            Err(PcapError::Eof) => return Ok(true),
            Err(PcapError::Incomplete(_)) => {
                if let Err(e) = records.refill() {
                    return Err(CaptureError::Read {
                        file: name.to_owned(),
                        reason: Some(e.to_string()),
                    });
                }
            }
            Err(PcapError::BufferTooSmall) => {
                let size = records.data().len().max(READ_BUFFER_BYTES) * 2;
                if size > MAX_RECORD_BYTES || !records.grow(size) {
                    note_too_large(pipeline, name, *blocks + 1);
                    return Ok(true);
                }
                if let Err(e) = records.refill() {
                    return Err(CaptureError::Read {
                        file: name.to_owned(),
                        reason: Some(e.to_string()),
                    });
                }
            }
            Err(PcapError::UnexpectedEof) => {
                let data = records.data();
                let left = match data.get(4..8).map(|_| u32_at(data, 4, place.big_endian)) {
                    // Whole, but what it holds claims more (a packet's captured length).
                    Some(len) if data.len() as u64 >= u64::from(len) => {
                        format!("its {len} bytes are there, but its contents claim more")
                    }
                    Some(len) => format!("only {} of its {len} bytes are in the file", data.len()),
                    None => format!(
                        "only {} of its 8-byte block header is in the file",
                        data.len()
                    ),
                };
                note_cut_off(pipeline, name, (*blocks + 1, place.offset), &left);
                return Ok(true);
            }
            Err(PcapError::ReadError) => {
                return Err(CaptureError::Read {
                    file: name.to_owned(),
                    reason: None,
                });
            }
            Err(_) => {
                return Err(CaptureError::BadRecord {
                    file: name.to_owned(),
                    record: *blocks + 1,
                    offset: place.offset,
                    message: describe_block(records.data(), place.big_endian),
                });
            }
        }
    }
}

/// Hands one pcapng block on; `packets` counts the set's packets, of which `base` came before
/// this capture.
fn ng_block(
    block: Block<'_>,
    interfaces: &mut Vec<Interface>,
    pipeline: &mut Pipeline,
    (packets, base): (&mut u64, u64),
) {
    match block {
        Block::SectionHeader(_) => interfaces.clear(),
        Block::InterfaceDescription(idb) => interfaces.push(interface(&idb)),
        Block::EnhancedPacket(epb) => {
            *packets += 1;
            let number = *packets;
            let Some(iface) = usize::try_from(epb.if_id)
                .ok()
                .and_then(|i| interfaces.get(i))
            else {
                pipeline.note(Note::UnsupportedLink, || {
                    format!("packet {}: unknown interface {}", number - base, epb.if_id)
                });
                return;
            };
            let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            let caplen = (epb.caplen as usize).min(epb.data.len());
            pipeline.packet(Frame {
                link: iface.link,
                ts: timestamp(raw, iface),
                data: &epb.data[..caplen],
                at: None,
                number,
            });
        }
        Block::SimplePacket(spb) => {
            *packets += 1;
            let number = *packets;
            // Simple packets have no timestamp and belong to the first interface.
            let Some(iface) = interfaces.first() else {
                return;
            };
            let caplen = (spb.origlen as usize).min(spb.data.len());
            pipeline.packet(Frame {
                link: iface.link,
                ts: Timestamp::from_unix(0, 0),
                data: &spb.data[..caplen],
                at: None,
                number,
            });
        }
        // What `editcap --inject-secrets tls,KEYS` writes: key log text for the connections
        // that follow (pcapng spec §4.7).
        Block::DecryptionSecrets(dsb) if dsb.secrets_type == SecretsType::TlsKeyLog => {
            let len = (dsb.secrets_len as usize).min(dsb.data.len());
            if let Err(e) = pipeline.add_secrets(&dsb.data[..len]) {
                let after = *packets - base;
                pipeline.note(Note::TlsBadSecrets, || {
                    format!("decryption secrets block after packet {after}: {e}")
                });
            }
        }
        _ => {}
    }
}

fn timestamp(raw: u64, iface: &Interface) -> Timestamp {
    let secs = raw / iface.units;
    let frac = raw % iface.units;
    let nanos = (u128::from(frac) * 1_000_000_000 / u128::from(iface.units)) as u32;
    let secs = i64::try_from(secs)
        .unwrap_or(i64::MAX)
        .saturating_add(iface.offset);
    Timestamp::from_unix(secs, nanos)
}

impl Batches {
    /// The next batch of ordered exchanges; `None` after the last.
    fn next_batch(&mut self) -> Option<Result<Vec<Exchange>, Error>> {
        if self.done {
            return None;
        }
        let eof = match self.fill_batch() {
            Ok(eof) => eof,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let records = match &self.source {
            Source::Legacy(legacy) => legacy.batch(),
            Source::Blocks { .. } => &[],
        };
        let last = eof && self.rest.is_empty();
        let mut batch = self.pipeline.end_batch(last, records);
        self.locate(&mut batch);
        if eof && !last {
            if let Err(e) = self.next_file() {
                self.done = true;
                return Some(Err(e));
            }
        }
        self.done = last;
        Some(Ok(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (method and target, request time, status, response body length) of every exchange,
    /// read with a legacy buffer of `capacity` bytes.
    fn read_all(bytes: &[u8], capacity: usize) -> Vec<(String, String, Option<u16>, usize)> {
        let reader = Box::new(std::io::Cursor::new(bytes.to_vec()));
        let mut batches = Batches::new("t.pcap".into(), reader, Options::default()).unwrap();
        match &mut batches.source {
            Source::Legacy(legacy) => legacy.capacity = capacity,
            Source::Blocks { .. } => panic!("not read as legacy pcap"),
        }
        let mut out = Vec::new();
        while let Some(batch) = batches.next_batch() {
            for ex in batch.unwrap() {
                let r = &ex.request;
                out.push((
                    format!("{} {}", r.method, r.target),
                    format!("{:?}", r.timestamp),
                    ex.response.as_ref().map(|p| p.status),
                    ex.response.as_ref().map_or(0, |p| p.body.bytes.len()),
                ));
            }
        }
        out
    }

    fn capture() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/pcap/curl-keepalive.pcap"
        );
        std::fs::read(path).unwrap()
    }

    /// `bytes` with every header field byte-swapped, under `magic`, and `pad` bytes added to
    /// each record header.
    fn rewrite(bytes: &[u8], magic: u32, big_endian: bool, pad: usize) -> Vec<u8> {
        let swap = |b: &[u8]| -> Vec<u8> {
            if big_endian {
                b.iter().rev().copied().collect()
            } else {
                b.to_vec()
            }
        };
        let mut out = if big_endian {
            magic.to_be_bytes().to_vec()
        } else {
            magic.to_le_bytes().to_vec()
        };
        for (at, n) in [(4, 2), (6, 2), (8, 4), (12, 4), (16, 4), (20, 4)] {
            out.extend(swap(&bytes[at..at + n]));
        }
        let mut at = 24;
        while at < bytes.len() {
            let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
            for field in 0..4 {
                out.extend(swap(&bytes[at + 4 * field..at + 4 * field + 4]));
            }
            out.extend(std::iter::repeat_n(0xee, pad));
            out.extend(&bytes[at + 16..at + 16 + caplen]);
            at += 16 + caplen;
        }
        out
    }

    #[test]
    fn records_across_and_beyond_the_buffer_read_as_from_one_buffer() {
        let bytes = capture();
        let whole = read_all(&bytes, 1 << 20);
        assert!(whole.len() >= 3, "{whole:?}");
        // 100 bytes: most records straddle a batch boundary or are longer than the buffer.
        for capacity in [100, 1000, 4099] {
            assert_eq!(read_all(&bytes, capacity), whole, "buffer of {capacity}");
        }
    }

    #[test]
    fn both_byte_orders_and_the_modified_header_read_alike() {
        let bytes = capture();
        let whole = read_all(&bytes, 1 << 20);
        for (magic, big_endian, pad) in [
            (0xa1b2_c3d4, true, 0),
            (0xa1b2_cd34, false, 8),
            (0xa1b2_cd34, true, 8),
        ] {
            let other = rewrite(&bytes, magic, big_endian, pad);
            assert_eq!(read_all(&other, 1000), whole, "{magic:x} {big_endian}");
        }
    }

    #[test]
    fn a_cut_record_ends_the_file_with_a_note() {
        let mut bytes = capture();
        bytes.truncate(bytes.len() - 5);
        let reader = Box::new(std::io::Cursor::new(bytes));
        let mut batches = Batches::new("t.pcap".into(), reader, Options::default()).unwrap();
        while let Some(batch) = batches.next_batch() {
            batch.unwrap();
        }
        let stats = batches.pipeline.stats();
        assert_eq!(stats.notes.count(Note::TruncatedFile), 1);
    }

    #[test]
    fn a_cut_record_is_placed_at_its_byte_whatever_the_buffer() {
        let mut bytes = capture();
        // The last record (a 66-byte ACK) starts 82 bytes before the end.
        let at = bytes.len() - 82;
        bytes.truncate(bytes.len() - 5);
        for capacity in [100, 1000, 1 << 20] {
            let reader = Box::new(std::io::Cursor::new(bytes.clone()));
            let mut batches = Batches::new("t.pcap".into(), reader, Options::default()).unwrap();
            if let Source::Legacy(legacy) = &mut batches.source {
                legacy.capacity = capacity;
            }
            while let Some(batch) = batches.next_batch() {
                batch.unwrap();
            }
            let stats = batches.pipeline.stats();
            let (_, note) = stats
                .notes
                .iter()
                .find(|(n, _)| *n == Note::TruncatedFile)
                .expect("a cut-off note");
            let want = format!("record 75 at byte {at} is cut off (only 61 of its 66 bytes");
            assert!(note.first.contains(&want), "{capacity}: {}", note.first);
        }
    }
}
