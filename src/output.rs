//! Output files that appear whole or not at all.
//!
//! Data goes to a temporary file in the destination's folder and is renamed into place on
//! success, so a failed run leaves neither a partial file nor a clobbered input. A run stopped
//! by a signal removes its temporary files too ([`remove_unfinished`]).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tempfile::NamedTempFile;

/// Temporary files of outputs not yet committed or dropped.
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes the temporary files of every output still being written: for a run that is being
/// stopped by a signal, where no destructor will run.
pub fn remove_unfinished() {
    if let Ok(paths) = UNFINISHED.lock() {
        for path in paths.iter() {
            let _ = fs::remove_file(path);
        }
    }
}

/// A temporary file's entry in [`UNFINISHED`], taken out when its output is committed or
/// dropped.
struct Unfinished(PathBuf);

impl Unfinished {
    fn list(path: &Path) -> Self {
        if let Ok(mut paths) = UNFINISHED.lock() {
            paths.push(path.to_owned());
        }
        Self(path.to_owned())
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Ok(mut paths) = UNFINISHED.lock() {
            paths.retain(|p| *p != self.0);
        }
    }
}

/// Write buffer size for outputs.
pub const WRITE_BUFFER_BYTES: usize = 256 << 10;

/// Why an output could not be set up or committed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The output is one of the inputs.
    #[error("{0}: the output is also an input; write elsewhere and rename")]
    SameAsInput(PathBuf),
    /// The output names a directory.
    #[error("{0} is a directory; name the file to write")]
    IsDirectory(PathBuf),
    /// The output's directory does not exist.
    #[error("{0}: no such directory (wirecap does not create it)")]
    NoDirectory(PathBuf),
    /// The temporary file could not be created.
    #[error("creating a temporary file beside {path}")]
    Create {
        /// The destination.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The finished file could not be renamed into place.
    #[error("renaming the finished output to {path}")]
    Persist {
        /// The destination.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// Checks, before any work, that `dest` can be written as a file: not a directory, in a
/// directory that exists. Returns that directory.
pub fn check_path(dest: &Path) -> Result<&Path, Error> {
    if dest.is_dir() {
        return Err(Error::IsDirectory(dest.to_owned()));
    }
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::NoDirectory(dir.to_owned()));
    }
    Ok(dir)
}

/// Bytes written between two background syncs (see [`AtomicFile`]).
pub const EARLY_SYNC_BYTES: u64 = 64 << 20;

/// A buffered file that becomes visible at `dest` only when [`AtomicFile::commit`] is called.
/// Dropping it without committing removes the temporary file.
///
/// When the file replaces an existing one, the commit syncs it before the rename, so a crash
/// leaves the old file or the new one, never an empty one in its place. For a gigabyte output
/// that sync alone would wait seconds for the disk; instead a thread, started once the file
/// passes [`EARLY_SYNC_BYTES`], syncs what has been written every [`EARLY_SYNC_BYTES`] while
/// the work goes on, and the commit only waits for the last stretch.
///
/// A new file is not synced, as cp, gzip or tshark -w do not sync theirs: nothing existing is
/// at stake, and waiting for the disk would bound every conversion by its write speed (290
/// MB/s on the reference machine, where the JSONL of a capture comes at 1.4x its size).
pub struct AtomicFile {
    writer: BufWriter<NamedTempFile>,
    dest: PathBuf,
    _listed: Unfinished,
    /// Whether `dest` existed when the file was created: only then is it synced.
    replaces: bool,
    syncer: Option<EarlySync>,
    unsynced: u64,
}

/// The background syncing thread and the way to wake it.
struct EarlySync {
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl EarlySync {
    fn start(file: &fs::File) -> Option<Self> {
        let file = file.try_clone().ok()?;
        // One wake-up may wait while a sync runs; more would only repeat it.
        let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("wirecap-sync".into())
            .spawn(move || woken.iter().try_for_each(|()| file.sync_data()))
            .ok()?;
        Some(Self {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    fn wake(&self) {
        if let Some(wake) = &self.wake {
            // Full means a sync is already queued behind the running one.
            let _ = wake.try_send(());
        }
    }

    /// Stops the thread; an error it met comes back here.
    fn stop(&mut self) -> io::Result<()> {
        self.wake = None;
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            None => Ok(()),
        }
    }
}

impl Drop for EarlySync {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

impl AtomicFile {
    /// Prepares `dest`, refusing when it names the same file as one of `inputs`.
    pub fn create(dest: &Path, inputs: &[&Path]) -> Result<Self, Error> {
        if let Ok(d) = fs::canonicalize(dest) {
            // Standard input redirected from a file resolves to that file on Linux.
            let resolve = |i: &Path| match i.to_str() {
                Some("-") => fs::canonicalize("/dev/stdin"),
                _ => fs::canonicalize(i),
            };
            if inputs.iter().any(|i| resolve(i).is_ok_and(|i| i == d)) {
                return Err(Error::SameAsInput(dest.to_owned()));
            }
        }
        let dir = check_path(dest)?;
        let tmp = tempfile::Builder::new()
            .prefix(".wirecap-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|source| Error::Create {
                path: dest.to_owned(),
                // The error names the temporary file, which the user never asked for.
                source: io::Error::from(source.kind()),
            })?;
        Ok(Self {
            syncer: None,
            _listed: Unfinished::list(tmp.path()),
            writer: BufWriter::with_capacity(WRITE_BUFFER_BYTES, tmp),
            replaces: fs::symlink_metadata(dest).is_ok(),
            dest: dest.to_owned(),
            unsynced: 0,
        })
    }

    /// Flushes, syncs if it replaces a file, and renames the file into place.
    pub fn commit(mut self) -> Result<(), Error> {
        let persist = |source| Error::Persist {
            path: self.dest.clone(),
            source,
        };
        if let Some(mut syncer) = self.syncer.take() {
            syncer.stop().map_err(persist)?;
        }
        let tmp = self
            .writer
            .into_inner()
            .map_err(|e| persist(e.into_error()))?;
        // Temporary files are created private (0600); the result should look like any other
        // file the user writes: the replaced file's mode, else rw-r--r--.
        let existing = fs::metadata(&self.dest).ok();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = existing.as_ref().map_or(0o644, |m| m.permissions().mode());
            tmp.as_file()
                .set_permissions(fs::Permissions::from_mode(mode))
                .map_err(persist)?;
        }
        if self.replaces || existing.is_some() {
            tmp.as_file().sync_all().map_err(persist)?;
        }
        tmp.persist(&self.dest).map_err(|e| persist(e.error))?;
        Ok(())
    }
}

impl AtomicFile {
    fn wrote(&mut self, n: usize) {
        if !self.replaces {
            return;
        }
        self.unsynced += n as u64;
        if self.unsynced >= EARLY_SYNC_BYTES {
            self.unsynced = 0;
            if self.syncer.is_none() {
                self.syncer = EarlySync::start(self.writer.get_ref().as_file());
            }
            if let Some(syncer) = &self.syncer {
                syncer.wake();
            }
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.writer.write(buf)?;
        self.wrote(n);
        Ok(n)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)?;
        self.wrote(buf.len());
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.jsonl");
        let mut f = AtomicFile::create(&dest, &[]).unwrap();
        f.write_all(b"x\n").unwrap();
        assert!(!dest.exists());
        f.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"x\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
                0o644
            );
        }
    }

    fn write_past_the_sync_threshold(f: &mut AtomicFile) -> u64 {
        let chunk = vec![b'x'; 1 << 20];
        let chunks = (EARLY_SYNC_BYTES >> 20) + 3;
        for _ in 0..chunks {
            f.write_all(&chunk).unwrap();
        }
        chunks << 20
    }

    #[test]
    fn replacing_a_file_syncs_early_and_commits_whole() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("big.jsonl");
        fs::write(&dest, "old").unwrap();
        let mut f = AtomicFile::create(&dest, &[]).unwrap();
        let len = write_past_the_sync_threshold(&mut f);
        assert!(f.syncer.is_some(), "a sync thread runs past the threshold");
        f.commit().unwrap();
        assert_eq!(fs::metadata(&dest).unwrap().len(), len);
    }

    #[test]
    fn a_new_file_is_left_to_the_kernel_to_write_back() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("big.jsonl");
        let mut f = AtomicFile::create(&dest, &[]).unwrap();
        let len = write_past_the_sync_threshold(&mut f);
        assert!(f.syncer.is_none(), "nothing existing is at stake");
        f.commit().unwrap();
        assert_eq!(fs::metadata(&dest).unwrap().len(), len);
    }

    #[test]
    fn dropped_files_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.jsonl");
        drop(AtomicFile::create(&dest, &[]).unwrap());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn refuses_to_overwrite_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        fs::write(&input, "keep").unwrap();
        let err = AtomicFile::create(&dir.path().join(".").join("in.jsonl"), &[&input]).err();
        assert!(matches!(err, Some(Error::SameAsInput(_))));
        assert_eq!(fs::read(&input).unwrap(), b"keep");
    }
}
