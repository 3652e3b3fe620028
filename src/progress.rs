//! The progress bar on stderr: bytes of input read (from a [`ReadMeter`] the inputs count
//! into), with rate, and percentage and ETA when the inputs' total size is known.
//!
//! Shown only when stderr is a terminal that can move its cursor (not `TERM=dumb`), never
//! with `--quiet` or while the command writes its data to the same terminal (the data would
//! be drawn over), without colour under `NO_COLOR`; and only once a run has lasted
//! [`SHOW_AFTER`], so quick runs never flash a bar. A timer thread reads the meter, so the
//! readers pay one atomic add per buffer refill and nothing else. [`Progress::finish`] (or
//! dropping it, when a run fails) clears the bar before anything else is printed.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wirecap::meter::ReadMeter;

/// How long a run goes before its bar appears.
const SHOW_AFTER: Duration = Duration::from_millis(250);

/// How often the bar is redrawn from the meter.
const TICK: Duration = Duration::from_millis(100);

/// A run's progress display; inert when no bar is to be shown.
pub struct Progress {
    meter: Option<Arc<ReadMeter>>,
    ticker: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl Progress {
    /// Starts the display for a run that reads `inputs` (`-` for standard input), unless
    /// `hide` (`--quiet`, or data streaming to a terminal) or stderr is no terminal.
    pub fn start<'a>(inputs: impl IntoIterator<Item = &'a Path>, hide: bool) -> Progress {
        let term = std::env::var_os("TERM");
        if hide || !std::io::stderr().is_terminal() || term.as_deref() == Some("dumb".as_ref()) {
            return Progress {
                meter: None,
                ticker: None,
            };
        }
        let total = total_size(inputs);
        let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let meter = Arc::new(ReadMeter::default());
        let (stop, stopped) = mpsc::channel();
        let read = meter.clone();
        let thread = std::thread::spawn(move || {
            // Drawn from SHOW_AFTER on, but fed from the start, so the rate and ETA cover the
            // whole run rather than jumping from zero.
            let bar = bar(total, colour, ProgressDrawTarget::hidden());
            let started = Instant::now();
            let mut shown = false;
            loop {
                if !shown && started.elapsed() >= SHOW_AFTER {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                    shown = true;
                }
                bar.set_position(read.bytes());
                if stopped.recv_timeout(TICK) != Err(RecvTimeoutError::Timeout) {
                    break;
                }
            }
            bar.finish_and_clear();
        });
        Progress {
            meter: Some(meter),
            ticker: Some((stop, thread)),
        }
    }

    /// The meter inputs should count into, when a bar may be shown.
    pub fn meter(&self) -> Option<&Arc<ReadMeter>> {
        self.meter.as_ref()
    }

    /// Clears the bar; what is printed after this stands alone on its lines.
    pub fn finish(&mut self) {
        if let Some((stop, thread)) = self.ticker.take() {
            // The thread ends on a message or on the channel closing; either way it clears.
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Whether data written to `output` (`None` or `-` for standard output) would appear on a
/// terminal while the bar is drawn there.
pub fn streams_to_terminal(output: Option<&Path>) -> bool {
    output.is_none_or(|p| p == Path::new("-")) && std::io::stdout().is_terminal()
}

/// The inputs' total size when every one is a regular file (standard input redirected from
/// a file counts), else `None`: a pipe's length is not known until it ends.
fn total_size<'a>(inputs: impl IntoIterator<Item = &'a Path>) -> Option<u64> {
    let mut total = 0u64;
    for path in inputs {
        let meta = if path == Path::new("-") {
            use std::os::fd::AsFd as _;
            let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
            std::fs::File::from(fd).metadata().ok()?
        } else {
            std::fs::metadata(path).ok()?
        };
        if !meta.is_file() {
            return None;
        }
        total = total.saturating_add(meta.len());
    }
    Some(total)
}

/// A bar for `total` bytes (a spinner with the count and rate when unknown).
fn bar(total: Option<u64>, colour: bool, target: ProgressDrawTarget) -> ProgressBar {
    let template = match (total, colour) {
        (Some(_), true) => {
            "{spinner:.green} [{elapsed_precise}] [{wide_bar:.cyan/blue}] {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta})"
        }
        (Some(_), false) => {
            "{spinner} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta})"
        }
        (None, true) => "{spinner:.green} [{elapsed_precise}] {bytes} read ({bytes_per_sec})",
        (None, false) => "{spinner} [{elapsed_precise}] {bytes} read ({bytes_per_sec})",
    };
    let style = ProgressStyle::with_template(template)
        .expect("the templates are fixed and valid")
        .progress_chars("=> ");
    ProgressBar::with_draw_target(total, target).with_style(style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::TermLike;
    use std::sync::Mutex;

    /// A terminal that keeps what is drawn on it.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.write_str("<clear>")
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn drawn(total: Option<u64>, colour: bool, pos: u64) -> String {
        let screen = Screen::default();
        let target = ProgressDrawTarget::term_like(Box::new(screen.clone()));
        let bar = bar(total, colour, target);
        bar.set_position(pos);
        bar.tick();
        screen.0.lock().unwrap().clone()
    }

    #[test]
    fn a_known_total_shows_the_share_read_and_an_eta() {
        let text = drawn(Some(4 << 20), false, 1 << 20);
        assert!(text.contains("1.00 MiB/4.00 MiB"), "{text}");
        assert!(text.contains("ETA "), "{text}");
        assert!(text.contains("[======="), "{text}");
    }

    #[test]
    fn an_unknown_total_shows_bytes_and_rate() {
        let text = drawn(None, false, 3 << 10);
        assert!(text.contains("3.00 KiB read ("), "{text}");
        assert!(!text.contains("ETA"), "{text}");
    }

    #[test]
    fn the_regular_files_sizes_add_up_and_a_missing_one_makes_it_unknown() {
        let a = Path::new("testdata/pcap/curl-keepalive.pcap");
        let b = Path::new("testdata/har/chromium-site.har");
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert_eq!(total_size([a, b]), Some(size(a) + size(b)));
        assert_eq!(total_size([a, Path::new("testdata/no-such-file")]), None);
        assert_eq!(total_size([Path::new("testdata")]), None);
    }
}
