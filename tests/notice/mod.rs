//! Skip notices that reach the terminal: libtest captures `eprintln!` in passing tests, so a
//! test that skips because `../shared` (or a Python reader) is absent would pass in silence.
//! Writing to the standard error handle itself is not captured, so `cargo test` and
//! `scripts/test.sh` on a fresh clone say what they did not check.

use std::io::Write as _;

/// Prints `notice: {message}` on standard error, past libtest's capture, in one write so
/// that tests running in parallel do not cut each other's lines.
pub fn notice(message: &str) {
    let line = format!("notice: {message}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}
