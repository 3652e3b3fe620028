//! Bytes of input read so far, counted where inputs are opened ([`crate::formats::Input`],
//! [`crate::validate::validate_path`]) so that a progress display can follow a run without
//! the readers knowing about it.
//!
//! Bytes are counted as they come from the file, before any gzip is undone, so the count
//! can be compared with the files' sizes.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A running total of bytes read, shared between the readers and whoever displays it.
#[derive(Debug, Default)]
pub struct ReadMeter {
    bytes: AtomicU64,
}

impl ReadMeter {
    /// The bytes read so far, by every reader this meter counts for.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// A reader that adds what it reads to a [`ReadMeter`].
///
/// One relaxed atomic add per `read` call: the callers read through buffers of
/// [`crate::formats::READ_BUFFER_BYTES`], so this costs nothing measurable.
pub struct Metered<R> {
    inner: R,
    meter: Arc<ReadMeter>,
}

impl<R> Metered<R> {
    /// Counts what `inner` reads into `meter`.
    pub fn new(inner: R, meter: Arc<ReadMeter>) -> Self {
        Metered { inner, meter }
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_byte_read_by_every_reader() {
        let meter = Arc::new(ReadMeter::default());
        let mut a = Metered::new(&b"hello"[..], meter.clone());
        let mut b = Metered::new(&b"wirecap"[..], meter.clone());
        let mut out = Vec::new();
        a.read_to_end(&mut out).unwrap();
        b.read_to_end(&mut out).unwrap();
        assert_eq!(meter.bytes(), 12);
        assert_eq!(out, b"hellowirecap");
    }
}
