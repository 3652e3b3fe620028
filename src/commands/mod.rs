//! Subcommand entry points: each turns its clap arguments into library calls and returns the
//! exit status. Errors carry context naming the file they concern.

mod completions;
mod convert;
mod count;
mod man;
mod merge;
mod schema;
mod stats;
mod validate;

use crate::cli::{
    Cli, Command, FilterArgs, HoverflyCompatArg, InputArgs, JsonLimitArgs, KeepGoingArg, LimitArgs,
};
use anyhow::{Context as _, Result};
use std::io::{self, BufWriter, Stdout, Write};
use std::path::Path;
use std::process::ExitCode;
use wirecap::capture::tls::keylog::KeyLog;
use wirecap::filter::{self, Filter};
use wirecap::loss::Losses;
use wirecap::output::{AtomicFile, WRITE_BUFFER_BYTES};

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> Result<ExitCode> {
    // One worker more than cores: a capture's reading thread and the output's writing thread
    // work beside the pool, which otherwise sat idle between batches (1.1 GB capture to JSONL
    // on 2 cores, runs paired back to back: 3 workers were faster, by up to 40%, or even).
    let (after, json) = match &cli.command {
        Command::Convert(a) => (a.parallel.threads, Some(a.json_limits)),
        Command::Count(a) => (a.parallel.threads, Some(a.read.json_limits)),
        Command::Merge(a) => (a.parallel.threads, Some(a.json_limits)),
        Command::Stats(a) => (a.parallel.threads, Some(a.read.json_limits)),
        Command::Validate(a) => (a.parallel.threads, Some(a.json_limits)),
        Command::Schema(_) | Command::Completions(_) | Command::Man(_) => (None, None),
    };
    // Every thread that parses or holds a record has the stack its nesting limit needs; the
    // main thread's is fixed, so past the default the command runs on a thread of its own.
    let depth = json.map_or(wirecap::limits::MAX_JSON_DEPTH, |j| j.max_json_depth);
    let stack = wirecap::limits::stack_bytes(depth);
    let workers = cli
        .threads
        .or(after)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()) + 1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .stack_size(stack)
        .build_global()
        .context("starting the thread pool")?;
    // A malformed SOURCE_DATE_EPOCH stops the run before any work, whatever the command.
    source_date_epoch()?;
    if depth <= wirecap::limits::MAX_JSON_DEPTH {
        return run_command(cli.command);
    }
    std::thread::Builder::new()
        .name("wirecap-main".into())
        .stack_size(stack)
        .spawn(move || run_command(cli.command))
        .context("starting the main thread")?
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

fn run_command(command: Command) -> Result<ExitCode> {
    match command {
        Command::Convert(args) => convert::run(args),
        Command::Count(args) => count::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Stats(args) => stats::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}

/// Reads the `--keylog` files into one key log.
fn load_keylog(paths: &[std::path::PathBuf]) -> Result<std::sync::Arc<KeyLog>> {
    let mut keys = KeyLog::default();
    for path in paths {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        keys.add_text(&text)
            .with_context(|| format!("reading key log {}", path.display()))?;
    }
    Ok(std::sync::Arc::new(keys))
}

/// The selection and redaction the flags ask for; any `--redact-*` flag turns redaction on.
fn filter(args: &FilterArgs) -> Filter {
    let select = filter::select::Selection {
        hosts: args.host.clone(),
        methods: args.method.clone(),
        paths: args.path.clone(),
        statuses: args.status.clone(),
        since: args.since,
        until: args.until,
    };
    let redact = args.redact
        || !args.redact_header.is_empty()
        || !args.redact_query.is_empty()
        || !args.redact_json.is_empty();
    Filter {
        select,
        redact: redact.then(|| {
            filter::redact::Redaction::new(
                &args.redact_header,
                &args.redact_query,
                &args.redact_json,
            )
        }),
    }
}

/// `, 3 filtered out (host 3)` for a summary line, when the run selected.
fn filtered_part(filter: &Filter, tally: &filter::Tally) -> String {
    if filter.select.is_empty() {
        String::new()
    } else {
        format!(", {}", tally.selection)
    }
}

/// Prints what redaction did, when it was asked for.
fn report_redacted(tally: &filter::Tally) {
    if let Some(r) = &tally.redacted {
        eprintln!("wirecap: {r}");
    }
}

/// Refuses a second `-`: standard input can be read once.
fn stdin_once(inputs: &[String]) -> Result<()> {
    if inputs.iter().filter(|i| *i == "-").count() > 1 {
        anyhow::bail!("standard input (`-`) may be given once among the inputs");
    }
    Ok(())
}

/// Checks a `--summary-json` path before the work, so a run that could not write its summary
/// does not first write (or replace) its main output.
/// The summary must not be one of `inputs` either.
fn check_summary_json(path: Option<&Path>, inputs: &[impl AsRef<Path>]) -> Result<()> {
    let Some(p) = path else {
        return Ok(());
    };
    let inputs: Vec<&Path> = inputs.iter().map(AsRef::as_ref).collect();
    wirecap::output::check_not_input(p, &inputs).context("--summary-json")?;
    wirecap::output::check_path(p)
        .map(|_| ())
        .context("--summary-json")
}

/// Writes a `--summary-json` file: the value as pretty JSON, with a final newline, renamed
/// into place like any output.
fn write_summary_json(path: Option<&Path>, summary: &impl serde::Serialize) -> Result<()> {
    let Some(path) = path else {
        return Ok(());
    };
    let mut json = serde_json::to_vec_pretty(summary).context("serialising the summary")?;
    json.push(b'\n');
    let mut file = AtomicFile::create(path, &[])?;
    file.write_all(&json)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(file.commit()?)
}

/// The flags that shape reading, each declared once in `cli.rs` and flattened into every
/// reading command's `*Args`. They become options in one place, [`ReadFlags::resolve`], as
/// ripgrep turns its `LowArgs` into `HiArgs`.
struct ReadFlags<'a> {
    /// `--keylog` and `--from`.
    input: &'a InputArgs,
    /// `--hoverfly-compat`.
    hoverfly_compat: HoverflyCompatArg,
    /// `--keep-going`.
    keep_going: KeepGoingArg,
    /// `--max-line-bytes` and `--max-json-depth`.
    json_limits: JsonLimitArgs,
    /// Captures: the `--max-*` resource limits.
    limits: &'a LimitArgs,
    /// Captures: keep bodies as sent (`convert --keep-encoding`; always so for `count` and
    /// `stats`, since looking needs heads and sizes only and undoing gzip would be most of
    /// the time).
    keep_encoding: bool,
    /// Captures: leave out requests without a response (`convert --drop-incomplete`).
    drop_incomplete: bool,
}

/// What the reading flags resolve to.
struct Reading {
    /// The input format for every input; `None`: detected per input.
    from: Option<wirecap::formats::Format>,
    /// Skip records that do not parse, and count them.
    keep_going: bool,
    /// How inputs are read (the key logs loaded).
    read: wirecap::formats::ReadOptions,
    /// How a Hoverfly output orders its keys (`--hoverfly-compat`: as Hoverfly does).
    key_order: wirecap::formats::hoverfly::KeyOrder,
}

impl Reading {
    /// The options of `count` and `stats`, counting the bytes read into `meter`.
    fn look(
        self,
        meter: Option<&std::sync::Arc<wirecap::meter::ReadMeter>>,
    ) -> wirecap::ops::look::Options {
        wirecap::ops::look::Options {
            from: self.from,
            keep_going: self.keep_going,
            read: self.read,
            meter: meter.cloned(),
        }
    }
}

impl<'a> ReadFlags<'a> {
    /// `convert`'s reading flags.
    fn convert(args: &'a crate::cli::ConvertArgs) -> Self {
        Self {
            input: &args.input,
            hoverfly_compat: args.hoverfly_compat,
            keep_going: args.keep_going,
            json_limits: args.json_limits,
            limits: &args.limits,
            keep_encoding: args.keep_encoding,
            drop_incomplete: args.drop_incomplete,
        }
    }

    /// `merge`'s reading flags.
    fn merge(args: &'a crate::cli::MergeArgs) -> Self {
        Self {
            input: &args.input,
            hoverfly_compat: args.hoverfly_compat,
            keep_going: args.keep_going,
            json_limits: args.json_limits,
            limits: &args.limits,
            keep_encoding: false,
            drop_incomplete: false,
        }
    }

    /// The reading flags of `count` and `stats`, which look at files rather than convert them.
    fn look(args: &'a crate::cli::LookArgs) -> Self {
        Self {
            input: &args.input,
            hoverfly_compat: args.hoverfly_compat,
            keep_going: args.keep_going,
            json_limits: args.json_limits,
            limits: &args.limits,
            keep_encoding: true,
            drop_incomplete: false,
        }
    }

    /// The options the flags ask for (reading the key logs).
    fn resolve(&self) -> Result<Reading> {
        use wirecap::formats::hoverfly::{KeyOrder, Upgrade};
        let compat = self.hoverfly_compat.hoverfly_compat;
        Ok(Reading {
            from: self.input.from,
            keep_going: self.keep_going.keep_going,
            read: wirecap::formats::ReadOptions {
                max_line_bytes: self.json_limits.max_line_bytes,
                json_depth: self.json_limits.max_json_depth,
                hoverfly_upgrade: if compat {
                    Upgrade::HoverflyCompat
                } else {
                    Upgrade::Faithful
                },
                capture: wirecap::capture::Options {
                    keep_encoding: self.keep_encoding,
                    drop_incomplete: self.drop_incomplete,
                    keys: load_keylog(&self.input.keylog)?,
                    limits: self.limits.to_limits(),
                    ..wirecap::capture::Options::default()
                },
            },
            key_order: if compat {
                KeyOrder::Hoverfly
            } else {
                KeyOrder::AsRead
            },
        })
    }
}

/// A failure to open or read a file for `count` and `stats` ([`wirecap::ops::look`]), worded
/// as the commands report it: a read error as itself, not wrapped.
fn look_error(e: wirecap::ops::look::Error) -> anyhow::Error {
    match e {
        wirecap::ops::look::Error::Read(e) => e.into(),
        other => other.into(),
    }
}

/// Prints a warning for each input whose content was read as another format than its name
/// says.
fn warn_misnamed(notes: &[wirecap::formats::detect::Misnamed]) {
    for note in notes {
        eprintln!("wirecap: warning: {note}");
    }
}

/// Prints rows as a table: the first column left-aligned, the others right-aligned, two
/// spaces apart, no trailing blanks.
fn write_table<const N: usize>(out: &mut impl Write, rows: &[[String; N]]) -> Result<()> {
    let mut widths = [0usize; N];
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for r in rows {
        let mut line = String::new();
        for (i, (cell, w)) in r.iter().zip(widths).enumerate() {
            if i == 0 {
                line.push_str(&format!("{cell:<w$}"));
            } else {
                line.push_str(&format!("  {cell:>w$}"));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// `n` and the noun, singular for one: "1 pair", "2 pairs".
pub fn count_of(n: u64, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// Whether the error is a closed pipe on output (`wirecap … | head`), which ends quietly.
///
/// serde_json's writers wrap the `io::Error` without exposing it as the error's source, so
/// they are asked for its kind.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        let kind = if let Some(e) = e.downcast_ref::<io::Error>() {
            Some(e.kind())
        } else if let Some(wirecap::formats::Error::Write(e)) =
            e.downcast_ref::<wirecap::formats::Error>()
        {
            // Transparent: the io::Error itself is not in the chain.
            Some(e.kind())
        } else {
            match e.downcast_ref::<wirecap::formats::Error>() {
                // Transparent: the io::Error is the variant itself, not its source.
                Some(wirecap::formats::Error::Write(io)) => Some(io.kind()),
                _ => e
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind),
            }
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}

/// Where a command's data goes: standard output, or a file renamed into place on success.
pub enum Sink {
    /// Standard output, buffered.
    Stdout(BufWriter<Stdout>),
    /// Standard output under `--strict`: spooled to an unnamed temporary file and copied out
    /// on commit, so that a refused run writes nothing there either.
    Spooled(BufWriter<std::fs::File>),
    /// A file that appears only on commit.
    File(AtomicFile),
}

impl Sink {
    /// Standard output for `None` or `-`, else an atomic file that must not be one of `inputs`.
    /// `all_or_nothing` (`--strict`) holds standard output back until commit as well.
    pub fn create(output: Option<&Path>, inputs: &[&Path], all_or_nothing: bool) -> Result<Sink> {
        match output {
            Some(p) if p != Path::new("-") => Ok(Sink::File(AtomicFile::create(p, inputs)?)),
            _ if all_or_nothing => {
                let spool = tempfile::tempfile()
                    .context("creating a temporary file to hold standard output (--strict)")?;
                Ok(Sink::Spooled(BufWriter::with_capacity(
                    WRITE_BUFFER_BYTES,
                    spool,
                )))
            }
            _ => Ok(Sink::Stdout(BufWriter::with_capacity(
                WRITE_BUFFER_BYTES,
                io::stdout(),
            ))),
        }
    }

    /// Makes the output visible: flushes stdout, copies the spool to it, or renames the file
    /// into place.
    pub fn commit(self) -> Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush().context("writing to standard output"),
            Sink::Spooled(w) => {
                use std::io::Seek;
                let mut spool = w.into_inner().map_err(io::IntoInnerError::into_error)?;
                spool.rewind()?;
                let mut out = io::stdout().lock();
                io::copy(&mut spool, &mut out)
                    .and_then(|_| out.flush())
                    .context("writing to standard output")
            }
            Sink::File(f) => Ok(f.commit()?),
        }
    }

    fn inner(&mut self) -> &mut dyn Write {
        match self {
            Sink::Stdout(w) => w,
            Sink::Spooled(w) => w,
            Sink::File(f) => f,
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner().write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner().write_all(buf)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.inner().write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner().flush()
    }
}

/// Prints each kind of loss once, with how often it happened and where first.
pub fn warn_losses(losses: &Losses) {
    for (kind, c) in losses.iter() {
        let times = if c.count == 1 {
            "once".to_owned()
        } else {
            format!("{} times", c.count)
        };
        eprintln!("wirecap: warning: {kind}: {times}, first at {}", c.first);
    }
}

/// Prints the messages kept for skipped records, and how many more there were.
pub fn warn_invalid(examples: &[String], total: u64) {
    for e in examples {
        eprintln!("wirecap: warning: skipped {e}");
    }
    let more = total.saturating_sub(examples.len() as u64);
    if more > 0 {
        eprintln!("wirecap: warning: skipped {more} more invalid records");
    }
}

/// The latest `SOURCE_DATE_EPOCH` accepted: 9999-12-31T23:59:59Z, the last second RFC 3339
/// can write.
const MAX_SOURCE_DATE_EPOCH: i64 = 253_402_300_799;

/// `SOURCE_DATE_EPOCH` when set: seconds since 1970 as a plain decimal integer, as the
/// reproducible-builds specification defines it; anything else is an error naming the
/// variable, rather than silently "now".
pub fn source_date_epoch() -> Result<Option<wirecap::model::Timestamp>> {
    let Some(raw) = std::env::var_os("SOURCE_DATE_EPOCH") else {
        return Ok(None);
    };
    let value = raw.to_string_lossy();
    let secs = Some(&*value)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|&s| s <= MAX_SOURCE_DATE_EPOCH);
    match secs {
        Some(secs) => Ok(Some(wirecap::model::Timestamp::from_unix(secs, 0))),
        None => anyhow::bail!(
            "SOURCE_DATE_EPOCH={value:?}: expected a whole number of seconds since 1970-01-01, at most {MAX_SOURCE_DATE_EPOCH} (9999-12-31)"
        ),
    }
}

/// `meta.timeExported` for a rebuilt simulation: the flag, else `SOURCE_DATE_EPOCH`
/// (reproducible builds), else now.
pub fn export_time(flag: Option<wirecap::model::Timestamp>) -> Result<wirecap::model::Timestamp> {
    use wirecap::model::Timestamp;
    if let Some(t) = flag {
        return Ok(t);
    }
    if let Some(t) = source_date_epoch()? {
        return Ok(t);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Ok(Timestamp::from_unix(now, 0))
}

/// Under `--strict`, any loss, skipped invalid record or skipped part of a capture refuses
/// the output (see [`wirecap::loss::strict_refusal`]): says so and returns true; the caller
/// drops the unwritten output and exits 1.
pub fn refused_by_strict(
    strict: bool,
    losses: &Losses,
    invalid: u64,
    capture: Option<&wirecap::capture::Stats>,
) -> bool {
    let reason = strict
        .then(|| wirecap::loss::strict_refusal(losses, invalid, capture))
        .flatten();
    if let Some(why) = &reason {
        eprintln!("wirecap: error: --strict: {why}; nothing was written");
    }
    reason.is_some()
}

/// The exit status of a run that wrote its output: 1 when invalid records were skipped.
pub fn finished(invalid: u64) -> ExitCode {
    if invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
