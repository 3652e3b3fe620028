//! `wirecap merge`: many inputs, one output, each request answered once.
//!
//! The command turns its arguments into [`op::Options`], opens the output, and reports; the
//! merge itself is the library's ([`wirecap::ops::merge`]). One input, without
//! `--keep-order`, is sorted before it is written.

use super::{Sink, export_time, warn_invalid, warn_losses};
use crate::cli::{MergeArgs, OnConflictArg};
use crate::progress::{self, Progress};
use anyhow::{Context as _, Result};
use std::path::Path;
use std::process::ExitCode;
use wirecap::filter::Filter;
use wirecap::formats::Format;
use wirecap::formats::hoverfly::WriteOptions;
use wirecap::loss::Losses;
use wirecap::merge::{self, OnConflict};
use wirecap::ops::merge::{self as op, Merged};

pub fn run(args: MergeArgs) -> Result<ExitCode> {
    super::stdin_once(&args.inputs)?;
    let output = args.output.as_deref().filter(|p| *p != Path::new("-"));
    if let Some(path) = output {
        wirecap::output::check_path(path)?;
    }
    super::check_summary_json(args.summary_json.as_deref(), &args.inputs)?;
    let to = args
        .to
        .or_else(|| output.and_then(Format::from_extension))
        .unwrap_or(Format::Hoverfly);
    let policy = match args.on_conflict {
        OnConflictArg::First => OnConflict::First,
        OnConflictArg::Last => OnConflict::Last,
        OnConflictArg::KeepAll => OnConflict::KeepAll,
        OnConflictArg::Error => OnConflict::Error,
    };
    let reading = super::ReadFlags::merge(&args).resolve()?;
    let filter = super::filter(&args.filter);
    let inputs: Vec<&Path> = args.inputs.iter().map(Path::new).collect();
    let hide = args.quiet || progress::streams_to_terminal(output);
    let mut progress = Progress::start(inputs.iter().copied(), hide);
    let mut run = Merged::new(policy, &filter);
    let sink = Sink::create(output, &inputs, args.strict)?;
    let out_name = output.map_or_else(|| "-".to_owned(), |p| p.display().to_string());
    let opts = op::Options {
        from: reading.from,
        to,
        on_conflict: policy,
        sort: args.inputs.len() == 1 && !args.keep_order,
        provenance: args.provenance,
        keep_going: reading.keep_going,
        read: reading.read,
        write: WriteOptions {
            schema_version: args.schema_version,
            time_exported: if to.is_simulation() {
                Some(export_time(args.time_exported)?)
            } else {
                None
            },
            key_order: reading.key_order,
        },
        meter: progress.meter().cloned(),
    };
    let merged = op::run(&args.inputs, &opts, &filter, &mut run, sink);
    progress.finish();
    let sink = match merged {
        Ok(sink) => sink,
        Err(op::Error::Conflict(conflict)) => {
            eprintln!("wirecap: error: {conflict}; nothing was written (--on-conflict error)");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(unwrap_error(e, &out_name)),
    };
    super::warn_misnamed(&run.misnamed);
    warn_invalid(&run.summary.invalid_examples, run.summary.invalid);
    warn_losses(&run.summary.losses);
    for c in run
        .pairs
        .conflicts
        .iter()
        .chain(&run.globals.delays.conflicts)
        .chain(&run.globals.names.conflicts)
    {
        let settled = match args.on_conflict {
            OnConflictArg::KeepAll => "kept both".to_owned(),
            _ => format!("kept {}", c.kept),
        };
        eprintln!(
            "wirecap: warning: conflict: {} is answered differently by {} and {}; {settled}",
            c.what, c.kept, c.other
        );
    }
    let conflicts = run.pairs.conflict_count()
        + run.globals.delays.conflict_count()
        + run.globals.names.conflict_count();
    let reported = run.pairs.conflicts.len()
        + run.globals.delays.conflicts.len()
        + run.globals.names.conflicts.len();
    if conflicts > reported as u64 {
        eprintln!(
            "wirecap: warning: {} more conflicts not listed",
            conflicts - reported as u64
        );
    }
    if super::refused_by_strict(
        args.strict,
        &run.summary.losses,
        run.summary.invalid,
        run.summary.capture.as_ref(),
    ) {
        drop(sink);
        return Ok(ExitCode::from(1));
    }
    sink.commit()
        .with_context(|| format!("writing {out_name}"))?;
    super::write_summary_json(args.summary_json.as_deref(), &summary_json(&args, &run))?;
    if !args.quiet {
        print_summary(&args, to, &out_name, &run, &filter);
    }
    Ok(super::finished(run.summary.invalid))
}

/// What `--summary-json` holds: the tallies of the summary lines, the losses, and the
/// conflicts that were listed as warnings.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct MergeSummary<'a> {
    inputs: usize,
    pairs: &'a merge::Tally,
    written: u64,
    not_written: u64,
    unpairable: u64,
    invalid: u64,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    invalid_examples: &'a [String],
    global_actions: GlobalTallies<'a>,
    losses: &'a Losses,
    conflict_count: u64,
    conflicts: Vec<&'a merge::Conflict>,
}

#[derive(serde::Serialize)]
struct GlobalTallies<'a> {
    delays: &'a merge::Tally,
    /// Literals and variables.
    names: &'a merge::Tally,
}

fn summary_json<'a>(args: &MergeArgs, run: &'a Merged) -> MergeSummary<'a> {
    let dedupers = [&run.pairs, &run.globals.delays, &run.globals.names];
    MergeSummary {
        inputs: args.inputs.len(),
        pairs: &run.pairs.tally,
        written: run.written,
        not_written: run.not_written,
        unpairable: run.unpairable,
        invalid: run.summary.invalid,
        invalid_examples: &run.summary.invalid_examples,
        global_actions: GlobalTallies {
            delays: &run.globals.delays.tally,
            names: &run.globals.names.tally,
        },
        losses: &run.summary.losses,
        conflict_count: dedupers.iter().map(|d| d.conflict_count()).sum(),
        conflicts: dedupers.iter().flat_map(|d| &d.conflicts).collect(),
    }
}

fn print_summary(args: &MergeArgs, to: Format, out_name: &str, run: &Merged, filter: &Filter) {
    let p = &run.pairs.tally;
    let g = [&run.globals.delays.tally, &run.globals.names.tally];
    let g_read: u64 = g.iter().map(|t| t.read).sum();
    let g_kept: u64 = g.iter().map(|t| t.kept).sum();
    let g_dup: u64 = g.iter().map(|t| t.duplicates).sum();
    let g_drop: u64 = g.iter().map(|t| t.conflicts_dropped).sum();
    let filtered = run.summary.filter.selection.filtered_out;
    eprintln!(
        "wirecap: merged {} -> {out_name} ({to}): read {}{}, wrote {}, folded {}, dropped {} conflicting, kept {} conflicting side by side, {} not writable, {} skipped",
        super::count_of(args.inputs.len() as u64, "input", "inputs"),
        super::count_of(p.read + run.unpairable + filtered, "pair", "pairs"),
        super::filtered_part(filter, &run.summary.filter),
        run.written,
        super::count_of(p.duplicates, "duplicate", "duplicates"),
        p.conflicts_dropped,
        p.conflicts_kept,
        run.not_written,
        super::count_of(run.summary.invalid, "invalid record", "invalid records"),
    );
    if g_read > 0 {
        eprintln!(
            "wirecap: global actions (delays, literals, variables): read {g_read}, kept {g_kept}, folded {g_dup} duplicates, dropped {g_drop} conflicting"
        );
    }
    super::report_redacted(&run.summary.filter);
}

/// The library's error as the command reports it: the cause itself where the variant only
/// wraps one, so the message and its chain (and a closed pipe's `io::Error`) are what they
/// were when the merge lived here; a failed write is said with the output's name.
fn unwrap_error(e: op::Error, out_name: &str) -> anyhow::Error {
    match e {
        op::Error::Simulation(e) => anyhow::Error::new(e).context(format!("writing {out_name}")),
        op::Error::Read(wirecap::formats::Error::Write(e))
        | op::Error::Write(e)
        | op::Error::Flush(e) => anyhow::Error::new(e).context(format!("writing {out_name}")),
        op::Error::Read(e) => e.into(),
        op::Error::Convert(e) => e.into(),
        op::Error::Conflict(e) => e.into(),
        other => other.into(),
    }
}
