//! pcap and pcapng captures (read only): records in, exchanges out through
//! [`crate::capture::Pipeline`].
//!
//! First step of the capture pipeline. pcap-parser streams the file (both pcap byte orders,
//! micro- and nanosecond pcap, pcapng with several sections and interfaces); this module keeps
//! each interface's link type and timestamp resolution, unwraps gzip, and drives the pipeline
//! one batch at a time so exchanges stream out while memory stays bounded. A file that ends
//! inside a record keeps everything before it, with a note.

use super::{Error, Exchanges, Input};
use crate::capture::link::LinkType;
use crate::capture::{Frame, Note, Options, Pipeline};
use crate::model::{Exchange, Timestamp};
use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};
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
    #[error("{file}: not a pcap or pcapng capture")]
    NotCapture {
        /// The input's display name.
        file: String,
    },
    /// A record did not parse.
    #[error("{file}: record {record}: {message}")]
    BadRecord {
        /// The input's display name.
        file: String,
        /// 1-based record number (packets and other blocks).
        record: u64,
        /// What the parser said.
        message: String,
    },
    /// Reading failed.
    #[error("{file}: reading the capture failed")]
    Read {
        /// The input's display name.
        file: String,
    },
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
    name: String,
    records: Box<dyn PcapReaderIterator + Send>,
    interfaces: Vec<Interface>,
    /// Legacy pcap: one interface, this resolution.
    legacy: Option<Interface>,
    pipeline: Pipeline,
    packets: u64,
    blocks: u64,
    done: bool,
}

/// Opens a capture; gzip is unwrapped when the stream starts with its magic.
pub fn read(mut input: Input, opts: crate::capture::Options) -> Result<Exchanges, Error> {
    let head = input.reader.fill_buf().map_err(|source| Error::Io {
        file: input.name.clone(),
        source,
    })?;
    let reader: Box<dyn Read + Send> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(input.reader))
    } else {
        Box::new(input.reader)
    };
    Ok(Box::new(Reader::spawn(Batches::new(
        input.name, reader, opts,
    )?)))
}

/// Streams exchanges out of a capture. Reading and the flow work run on a thread of their own
/// (the flows themselves on rayon's pool), so they overlap with whatever consumes the
/// exchanges, typically a writer; the order is fixed before the exchanges leave that thread.
pub struct Reader {
    batches: std::sync::mpsc::Receiver<Result<Vec<Exchange>, Error>>,
    current: std::vec::IntoIter<Exchange>,
    thread: Option<std::thread::JoinHandle<()>>,
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
        });
        Self {
            batches: rx,
            current: Vec::new().into_iter(),
            thread: Some(thread),
        }
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
                    // The thread has published its stats and ended.
                    if let Some(t) = self.thread.take() {
                        let _ = t.join();
                    }
                    return None;
                }
            }
        }
    }
}

impl Batches {
    /// A batch source over `reader`, named `name` in messages.
    fn new(name: String, reader: Box<dyn Read + Send>, opts: Options) -> Result<Self, Error> {
        let records =
            pcap_parser::create_reader(READ_BUFFER_BYTES, reader).map_err(|e| match e {
                PcapError::ReadError => CaptureError::Read { file: name.clone() },
                _ => CaptureError::NotCapture { file: name.clone() },
            })?;
        let pipeline = Pipeline::new(&name, opts);
        Ok(Self {
            name,
            records,
            interfaces: Vec::new(),
            legacy: None,
            pipeline,
            packets: 0,
            blocks: 0,
            done: false,
        })
    }

    /// Reads records until the batch is full or the file ends; `Ok(true)` at the end.
    fn fill_batch(&mut self) -> Result<bool, Error> {
        // One clock reading per batch: the records and their link, IP and TCP headers together.
        let started = Instant::now();
        let result = loop {
            if self.pipeline.batch_full() {
                break Ok(false);
            }
            match self.records.next() {
                Ok((consumed, block)) => {
                    self.blocks += 1;
                    match block {
                        PcapBlockOwned::LegacyHeader(h) => {
                            self.legacy = Some(Interface {
                                link: LinkType::from_number(h.network.0),
                                units: if h.is_nanosecond_precision() {
                                    1_000_000_000
                                } else {
                                    1_000_000
                                },
                                offset: i64::from(h.thiszone),
                            });
                        }
                        PcapBlockOwned::Legacy(b) => {
                            if let Some(iface) = &self.legacy {
                                self.packets += 1;
                                let ts = timestamp(
                                    u64::from(b.ts_sec) * iface.units + u64::from(b.ts_usec),
                                    iface,
                                );
                                self.pipeline.packet(Frame {
                                    link: iface.link,
                                    ts,
                                    data: b.data,
                                    number: self.packets,
                                });
                            }
                        }
                        PcapBlockOwned::NG(block) => ng_block(
                            block,
                            &mut self.interfaces,
                            &mut self.pipeline,
                            &mut self.packets,
                        ),
                    }
                    self.records.consume(consumed);
                }
                Err(PcapError::Eof) => break Ok(true),
                Err(PcapError::Incomplete(_)) => {
                    if self.records.refill().is_err() {
                        break Err(CaptureError::Read {
                            file: self.name.clone(),
                        });
                    }
                }
                Err(PcapError::BufferTooSmall) => {
                    let size = self.records.data().len().max(READ_BUFFER_BYTES) * 2;
                    if size > MAX_RECORD_BYTES || !self.records.grow(size) {
                        let (name, n) = (self.name.clone(), self.blocks + 1);
                        self.pipeline.note(Note::Limit, || {
                            format!("{name}: record {n} larger than {MAX_RECORD_BYTES} bytes")
                        });
                        break Ok(true);
                    }
                    if self.records.refill().is_err() {
                        break Err(CaptureError::Read {
                            file: self.name.clone(),
                        });
                    }
                }
                Err(PcapError::UnexpectedEof) => {
                    let (name, n) = (self.name.clone(), self.blocks + 1);
                    self.pipeline.note(Note::TruncatedFile, || {
                        format!("{name}: record {n} is cut off; the records before it were read")
                    });
                    break Ok(true);
                }
                Err(PcapError::ReadError) => {
                    break Err(CaptureError::Read {
                        file: self.name.clone(),
                    });
                }
                Err(e) => {
                    break Err(CaptureError::BadRecord {
                        file: self.name.clone(),
                        record: self.blocks + 1,
                        message: e.to_string(),
                    });
                }
            }
        };
        self.pipeline
            .add_read_time(started.elapsed().as_nanos() as u64);
        result.map_err(Error::from)
    }
}

fn ng_block(
    block: Block<'_>,
    interfaces: &mut Vec<Interface>,
    pipeline: &mut Pipeline,
    packets: &mut u64,
) {
    match block {
        Block::SectionHeader(_) => interfaces.clear(),
        Block::InterfaceDescription(idb) => interfaces.push(Interface {
            link: LinkType::from_number(idb.linktype.0),
            units: idb.ts_resolution().unwrap_or(1_000_000).max(1),
            offset: idb.ts_offset(),
        }),
        Block::EnhancedPacket(epb) => {
            *packets += 1;
            let number = *packets;
            let Some(iface) = usize::try_from(epb.if_id)
                .ok()
                .and_then(|i| interfaces.get(i))
            else {
                pipeline.note(Note::UnsupportedLink, || {
                    format!("packet {number}: unknown interface {}", epb.if_id)
                });
                return;
            };
            let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            let caplen = (epb.caplen as usize).min(epb.data.len());
            pipeline.packet(Frame {
                link: iface.link,
                ts: timestamp(raw, iface),
                data: &epb.data[..caplen],
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
                number,
            });
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
                self.pipeline.publish();
                return Some(Err(e));
            }
        };
        let batch = self.pipeline.end_batch(eof);
        self.done = eof;
        self.pipeline.publish();
        Some(Ok(batch))
    }
}
