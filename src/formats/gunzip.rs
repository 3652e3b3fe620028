//! Gzipped inputs (`.jsonl.gz`, `.json.gz`, `.pcap.gz`), unwrapped before format detection.
//!
//! A cut download or a flipped bit shows up as an I/O error deep in whichever reader is
//! pulling bytes; the error is reworded here to say where the gzip data broke: at which byte
//! of the file, after how many unpacked bytes.

use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, Read};

/// Reads the gzip members of `inner` one after another (as gzip -d does), naming the place of
/// any error.
pub struct Gunzip<R: BufRead> {
    decoder: MultiGzDecoder<Counted<R>>,
    unpacked: u64,
}

impl<R: BufRead> Gunzip<R> {
    /// A decoder over `inner`, which starts with the gzip magic.
    pub fn new(inner: R) -> Self {
        Self {
            decoder: MultiGzDecoder::new(Counted { inner, consumed: 0 }),
            unpacked: 0,
        }
    }
}

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.decoder.read(buf) {
            Ok(n) => {
                self.unpacked += n as u64;
                Ok(n)
            }
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!(
                    "gzip data broken by byte {} of the file, after {} unpacked bytes: {e}",
                    self.decoder.get_ref().consumed,
                    self.unpacked
                ),
            )),
        }
    }
}

/// A reader that counts the bytes its consumer has taken.
struct Counted<R> {
    inner: R,
    consumed: u64,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_stream_names_its_place() {
        let mut packed = Vec::new();
        let mut enc = flate2::write::GzEncoder::new(&mut packed, flate2::Compression::fast());
        io::Write::write_all(&mut enc, &[7u8; 10_000]).unwrap();
        enc.finish().unwrap();
        packed.truncate(packed.len() - 4);
        let err = Gunzip::new(packed.as_slice())
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(
            err.to_string().starts_with("gzip data broken by byte "),
            "{err}"
        );
    }
}
