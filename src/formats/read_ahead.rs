//! Reading a stream on a thread of its own, into buffers handed back and forth, so that the
//! next batch of a capture is read (and, for gzip, inflated) while the pipeline works on the
//! current one.
//!
//! Copying a file out of the page cache is a sixth of a capture conversion's CPU time; done
//! in turn with the flow work it was all on the critical path.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// A buffer to fill from `from` up to `to` (or the end of the stream).
struct Fill {
    buf: Vec<u8>,
    from: usize,
    to: usize,
}

/// A filled buffer: bytes `..len` hold data, and whether the stream ended.
pub struct Filled {
    /// The buffer sent, filled.
    pub buf: Vec<u8>,
    /// Bytes of `buf` that hold data.
    pub len: usize,
    /// The stream ended (or failed) at `len`.
    pub eof: bool,
    /// The read failed at `len`.
    pub error: Option<io::Error>,
}

/// A reader on its own thread. One fill is in flight at most.
pub struct ReadAhead {
    requests: Option<SyncSender<Fill>>,
    filled: Receiver<Filled>,
    in_flight: bool,
    thread: Option<JoinHandle<()>>,
}

impl ReadAhead {
    /// Moves `reader` to a new thread.
    pub fn new(mut reader: Box<dyn Read + Send>) -> io::Result<Self> {
        let (requests, work) = sync_channel::<Fill>(1);
        let (done, filled) = sync_channel::<Filled>(1);
        let thread = std::thread::Builder::new()
            .name("wirecap-read".into())
            .spawn(move || {
                for Fill { mut buf, from, to } in work {
                    let (len, eof, error) = fill(&mut reader, &mut buf[..to], from);
                    let reply = Filled {
                        buf,
                        len,
                        eof,
                        error,
                    };
                    if done.send(reply).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Self {
            requests: Some(requests),
            filled,
            in_flight: false,
            thread: Some(thread),
        })
    }

    /// Starts filling `buf[from..to]` (`buf` is grown to `to` if shorter). Any fill in flight
    /// must have been taken with [`ReadAhead::wait`] first.
    pub fn start(&mut self, mut buf: Vec<u8>, from: usize, to: usize) {
        debug_assert!(!self.in_flight, "one fill at a time");
        if buf.is_empty() {
            // Zeroed by the allocator (fresh pages from the system): writing the zeros of a
            // first buffer costs more than reading a small input into it.
            buf = vec![0; to];
        } else if buf.len() < to {
            buf.resize(to, 0);
        }
        let sent = self
            .requests
            .as_ref()
            .is_some_and(|r| r.send(Fill { buf, from, to }).is_ok());
        self.in_flight = sent;
    }

    /// The fill in flight, once done; `None` when none is (or the thread is gone).
    pub fn wait(&mut self) -> Option<Filled> {
        if !std::mem::take(&mut self.in_flight) {
            return None;
        }
        self.filled.recv().ok()
    }

    /// Fills `buf[from..to]` and waits for it.
    pub fn fill(&mut self, buf: Vec<u8>, from: usize, to: usize) -> Option<Filled> {
        self.wait();
        self.start(buf, from, to);
        self.wait()
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // Closing the request channel ends the thread once its read returns.
        self.requests = None;
        self.wait();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads into `buf[from..]` until it is full or the stream ends.
fn fill(
    reader: &mut dyn Read,
    buf: &mut [u8],
    mut from: usize,
) -> (usize, bool, Option<io::Error>) {
    while from < buf.len() {
        match reader.read(&mut buf[from..]) {
            Ok(0) => return (from, true, None),
            Ok(n) => from += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (from, true, Some(e)),
        }
    }
    (from, false, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives at most 3 bytes a call, then fails once at `fail_at`.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        fail_at: Option<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.fail_at == Some(self.at) {
                self.fail_at = None;
                return Err(io::Error::other("disk gone"));
            }
            let n = out.len().min(3).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn trickle(data: &[u8], fail_at: Option<usize>) -> ReadAhead {
        ReadAhead::new(Box::new(Trickle {
            data: data.to_vec(),
            at: 0,
            fail_at,
        }))
        .unwrap()
    }

    #[test]
    fn fills_keep_what_is_before_them_and_end_at_the_end() {
        let mut r = trickle(b"0123456789", None);
        let f = r.fill(b"ab".to_vec(), 2, 8).unwrap();
        assert_eq!((&f.buf[..f.len], f.eof), (&b"ab012345"[..], false));
        r.start(f.buf, 0, 8);
        let f = r.wait().unwrap();
        assert_eq!((&f.buf[..f.len], f.eof), (&b"6789"[..], true));
        assert!(r.wait().is_none(), "nothing in flight");
    }

    #[test]
    fn a_failed_read_ends_the_stream_with_its_error() {
        let mut r = trickle(b"0123456789", Some(6));
        let f = r.fill(Vec::new(), 0, 10).unwrap();
        assert_eq!((f.len, f.eof), (6, true));
        assert_eq!(f.error.unwrap().to_string(), "disk gone");
    }

    #[test]
    fn dropping_with_a_fill_in_flight_ends_the_thread() {
        let mut r = trickle(&[7; 100], None);
        r.start(Vec::new(), 0, 50);
        drop(r);
    }
}
