//! Output files that appear whole or not at all.
//!
//! Data goes to a temporary file in the destination's folder and is renamed into place on
//! success, so a failed run leaves neither a partial file nor a clobbered input. On Linux the
//! temporary file has no name until the commit (`O_TMPFILE`), so even a run killed by SIGKILL
//! leaves nothing behind; elsewhere, or where the file system cannot do that, it is a named
//! `.wirecap-*.tmp` file, which a run stopped by SIGINT or SIGTERM removes
//! ([`remove_unfinished`]) but SIGKILL cannot. An output that is not a regular file
//! (`/dev/null`, `/dev/stdout`, a FIFO) is written in place, as `cp` would: renaming over it
//! would replace the device.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    /// The last buffered bytes could not be written, or the file not synced: a full disk,
    /// a file-size limit.
    #[error("writing {path}")]
    Write {
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

/// Whether `dest` exists and is something other than a regular file or a directory: a device
/// such as `/dev/null`, a FIFO or a socket, which is written in place.
fn is_special(dest: &Path) -> bool {
    fs::metadata(dest).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Whether `a` and `b` are the same file: the same path once resolved, or (on Unix) the same
/// device and inode, which also catches hard links.
fn same_file(a: &Path, b: &Path) -> bool {
    let resolve = |p: &Path| match p.to_str() {
        // Standard input redirected from a file resolves to that file on Linux.
        Some("-") => fs::canonicalize("/dev/stdin"),
        _ => fs::canonicalize(p),
    };
    let (Ok(a), Ok(b)) = (resolve(a), resolve(b)) else {
        return false;
    };
    if a == b {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let (Ok(a), Ok(b)) = (fs::metadata(&a), fs::metadata(&b)) {
            return a.is_file() && a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    false
}

/// Refuses a `dest` that names the same file as one of `inputs` (through a symlink, a hard
/// link, or another spelling of the path).
pub fn check_not_input(dest: &Path, inputs: &[&Path]) -> Result<(), Error> {
    if inputs.iter().any(|i| same_file(dest, i)) {
        return Err(Error::SameAsInput(dest.to_owned()));
    }
    Ok(())
}

/// Checks, before any work, that `dest` can be written as a file: not a directory, in a
/// directory that exists. Returns that directory.
pub fn check_path(dest: &Path) -> Result<&Path, Error> {
    if dest.is_dir() {
        return Err(Error::IsDirectory(dest.to_owned()));
    }
    if is_special(dest) {
        return Ok(dest.parent().unwrap_or(Path::new("/")));
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
    writer: BufWriter<fs::File>,
    dest: PathBuf,
    tmp: Tmp,
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

/// The temporary file behind an [`AtomicFile`], by how it is put in place.
enum Tmp {
    /// A named temporary file, listed for [`remove_unfinished`] and removed on drop.
    Named(tempfile::TempPath, Unfinished),
    /// A file without a name (Linux `O_TMPFILE`) in this directory, linked in on commit.
    Unnamed(PathBuf),
    /// A device or FIFO written in place.
    Special,
}

impl AtomicFile {
    /// Prepares `dest`, refusing when it names the same file as one of `inputs`.
    pub fn create(dest: &Path, inputs: &[&Path]) -> Result<Self, Error> {
        check_not_input(dest, inputs)?;
        let dir = check_path(dest)?;
        let create = |source: io::Error| Error::Create {
            path: dest.to_owned(),
            // The error names the temporary file, which the user never asked for.
            source: io::Error::from(source.kind()),
        };
        let (file, tmp) = if is_special(dest) {
            let file = fs::OpenOptions::new()
                .write(true)
                .open(dest)
                .map_err(|source| Error::Create {
                    path: dest.to_owned(),
                    source,
                })?;
            (file, Tmp::Special)
        } else if let Some(file) = unnamed::create(dir) {
            (file, Tmp::Unnamed(dir.to_owned()))
        } else {
            let named = tempfile::Builder::new()
                .prefix(".wirecap-")
                .suffix(".tmp")
                .tempfile_in(dir)
                .map_err(create)?;
            let listed = Unfinished::list(named.path());
            let (file, path) = named.into_parts();
            (file, Tmp::Named(path, listed))
        };
        Ok(Self {
            syncer: None,
            writer: BufWriter::with_capacity(WRITE_BUFFER_BYTES, file),
            replaces: !matches!(tmp, Tmp::Special) && fs::symlink_metadata(dest).is_ok(),
            tmp,
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
        let write = |source| Error::Write {
            path: self.dest.clone(),
            source,
        };
        if let Some(mut syncer) = self.syncer.take() {
            syncer.stop().map_err(write)?;
        }
        let file = self
            .writer
            .into_inner()
            .map_err(|e| write(e.into_error()))?;
        if matches!(self.tmp, Tmp::Special) {
            return Ok(());
        }
        // Temporary files are created private (0600); the result should look like any other
        // file the user writes: the replaced file's mode, else rw-r--r--.
        let existing = fs::metadata(&self.dest).ok();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = existing.as_ref().map_or(0o644, |m| m.permissions().mode());
            file.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(persist)?;
        }
        if self.replaces || existing.is_some() {
            file.sync_all().map_err(write)?;
        }
        match self.tmp {
            Tmp::Named(path, _listed) => path.persist(&self.dest).map_err(|e| persist(e.error)),
            Tmp::Unnamed(dir) => unnamed::persist(&file, &dir, &self.dest).map_err(persist),
            Tmp::Special => Ok(()),
        }
    }
}

/// Temporary files without a name: created with `O_TMPFILE`, given one by `linkat` through
/// `/proc/self/fd` at the commit (open(2), "O_TMPFILE"), then renamed over the destination.
#[cfg(target_os = "linux")]
mod unnamed {
    use super::Unfinished;
    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use std::fs;
    use std::io;
    use std::os::fd::AsRawFd as _;
    use std::path::Path;

    /// An unnamed file in `dir`, or `None` where the kernel or file system cannot make one (or
    /// `/proc` is not mounted, so that it could not be linked in later).
    pub(super) fn create(dir: &Path) -> Option<fs::File> {
        if !Path::new("/proc/self/fd").is_dir() {
            return None;
        }
        let flags = OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(CWD, dir, flags, Mode::from_raw_mode(0o600)).ok()?;
        Some(fs::File::from(fd))
    }

    /// Links `file` into `dir` under a fresh name and renames it to `dest`. Only between
    /// those two calls does the temporary file have a name.
    pub(super) fn persist(file: &fs::File, dir: &Path, dest: &Path) -> io::Result<()> {
        let from = format!("/proc/self/fd/{}", file.as_raw_fd());
        let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
        for attempt in 0..16u32 {
            let name = dir.join(format!(
                ".wirecap-{}-{}-{attempt}.tmp",
                std::process::id(),
                nanos()
            ));
            match rustix::fs::linkat(CWD, from.as_str(), CWD, &name, AtFlags::SYMLINK_FOLLOW) {
                Ok(()) => {
                    let listed = Unfinished::list(&name);
                    let renamed = fs::rename(&name, dest);
                    if renamed.is_err() {
                        let _ = fs::remove_file(&name);
                    }
                    drop(listed);
                    return renamed;
                }
                Err(e) if e == rustix::io::Errno::EXIST => last = e.into(),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last)
    }

    /// A few bits that differ between runs started in the same process and nanosecond.
    fn nanos() -> u32 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    }
}

/// Elsewhere temporary files are named (see the module docs).
#[cfg(not(target_os = "linux"))]
mod unnamed {
    use std::{fs, io, path::Path};

    pub(super) fn create(_dir: &Path) -> Option<fs::File> {
        None
    }

    pub(super) fn persist(_file: &fs::File, _dir: &Path, _dest: &Path) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
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
                self.syncer = EarlySync::start(self.writer.get_ref());
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
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let n = self.writer.write_vectored(bufs)?;
        self.wrote(n);
        Ok(n)
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
