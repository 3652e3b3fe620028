//! `wirecap merge`: many inputs, one output, each request answered once.
//!
//! Simulation outputs are one JSON document, so inputs are read whole, in parallel across
//! files, and merged in input order. http-types output streams: exchanges are written as they
//! are kept, and only digests of what was kept are remembered (`--on-conflict last` is the
//! exception: a later answer replaces an earlier one, so the kept exchanges are held until
//! the end).
//!
//! One input, without `--keep-order`, is sorted before it is written ([`merge::sort_pairs`],
//! [`merge::sort_exchanges`]): http-types output then holds every kept exchange, as sorting
//! needs them all. Several inputs keep the order given, so that path stays bounded.

use super::{Sink, export_time, warn_invalid, warn_losses};
use crate::cli::{MergeArgs, OnConflictArg};
use crate::progress::{self, Progress};
use anyhow::{Context as _, Result};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use wirecap::convert::{self, Options, Summary};
use wirecap::filter::Filter;
use wirecap::formats::hoverfly::{KeyOrder, Upgrade, WriteOptions};
use wirecap::formats::{self, Format, Input, ReadOptions, Writer};
use wirecap::loss::Losses;
use wirecap::merge::{
    self, ConflictError, Deduper, GlobalDedupers, OnConflict, Verdict, describe, digest,
};
use wirecap::meter::ReadMeter;
use wirecap::model::{Exchange, Pair, Simulation};

/// Everything one merge run tallies, across inputs.
struct Run {
    filter: Filter,
    pairs: Deduper,
    globals: GlobalDedupers,
    summary: Summary,
    /// Exchanges read that are not pairs at all (no response, no host, a binary request
    /// body): they cannot be compared, and are handed to the writer, which reports them.
    unpairable: u64,
    written: u64,
    not_written: u64,
    /// Where inputs count the bytes they read, for the progress bar.
    meter: Option<Arc<ReadMeter>>,
}

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
    let read_opts = ReadOptions {
        max_line_bytes: args.max_line_bytes,
        hoverfly_upgrade: if args.hoverfly_compat {
            Upgrade::HoverflyCompat
        } else {
            Upgrade::Faithful
        },
        capture: wirecap::capture::Options {
            keys: super::load_keylog(&args.keylog)?,
            ..Default::default()
        },
    };
    let filter = super::filter(&args.filter);
    let inputs: Vec<&Path> = args.inputs.iter().map(Path::new).collect();
    let hide = args.quiet || progress::streams_to_terminal(output);
    let mut progress = Progress::start(inputs.iter().copied(), hide);
    let mut run = Run {
        summary: Summary {
            filter: filter.tally(),
            ..Summary::default()
        },
        filter,
        pairs: Deduper::new(policy),
        globals: GlobalDedupers::new(policy),
        unpairable: 0,
        written: 0,
        not_written: 0,
        meter: progress.meter().cloned(),
    };
    let sort = args.inputs.len() == 1 && !args.keep_order;
    let sink = Sink::create(output, &inputs)?;
    let out_name = output.map_or_else(|| "-".to_owned(), |p| p.display().to_string());
    let merged = if to.is_simulation() {
        merge_into_simulation(&args, to, &read_opts, sort, &mut run, sink)
    } else {
        merge_streaming(&args, to, &read_opts, sort, &mut run, sink)
    };
    progress.finish();
    let sink = match merged {
        Ok(sink) => sink,
        Err(e) => match e.downcast::<ConflictError>() {
            Ok(conflict) => {
                eprintln!("wirecap: error: {conflict}; nothing was written (--on-conflict error)");
                return Ok(ExitCode::from(1));
            }
            Err(e) => return Err(e),
        },
    };
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
    if super::refused_by_strict(args.strict, &run.summary.losses) {
        drop(sink);
        return Ok(ExitCode::from(1));
    }
    sink.commit()
        .with_context(|| format!("writing {out_name}"))?;
    super::write_summary_json(args.summary_json.as_deref(), &summary_json(&args, &run))?;
    if !args.quiet {
        print_summary(&args, to, &out_name, &run);
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

fn summary_json<'a>(args: &MergeArgs, run: &'a Run) -> MergeSummary<'a> {
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

fn print_summary(args: &MergeArgs, to: Format, out_name: &str, run: &Run) {
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
        super::filtered_part(&run.filter, &run.summary.filter),
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

/// One input read whole into a simulation, with its own tallies.
fn read_whole(
    name: &str,
    from: Option<Format>,
    read_opts: &ReadOptions,
    opts: Options,
    filter: &Filter,
    meter: Option<&Arc<ReadMeter>>,
) -> Result<(Simulation, Summary)> {
    let mut input = Input::open_metered(name, meter).with_context(|| format!("opening {name}"))?;
    let format = input.detect(from)?;
    let mut summary = Summary::default();
    let sim = if format.is_simulation() {
        let mut sim = formats::read_simulation(format, input, read_opts, &mut summary.losses)?;
        filter.simulation(&mut sim, &mut summary.filter);
        sim
    } else {
        let exchanges = formats::read(format, input, read_opts)?;
        let exchanges = convert::collect(exchanges, opts, filter, &mut summary)?;
        Simulation::from_exchanges(exchanges, &mut summary.losses)
    };
    Ok((sim, summary))
}

fn merge_into_simulation(
    args: &MergeArgs,
    to: Format,
    read_opts: &ReadOptions,
    sort: bool,
    run: &mut Run,
    mut sink: Sink,
) -> Result<Sink> {
    let opts = Options {
        keep_going: args.keep_going,
    };
    let read: Vec<(Simulation, Summary)> = args
        .inputs
        .par_iter()
        .map(|name| {
            read_whole(
                name,
                args.from,
                read_opts,
                opts,
                &run.filter,
                run.meter.as_ref(),
            )
        })
        .collect::<Result<_>>()?;
    let mut sims = Vec::with_capacity(read.len());
    for ((sim, summary), name) in read.into_iter().zip(&args.inputs) {
        // Exchanges that did not become pairs (no response, say) were noted as losses.
        let filtered = summary.filter.selection.filtered_out;
        run.unpairable += summary
            .read
            .saturating_sub(filtered + sim.pairs.len() as u64);
        run.summary.filter.merge(&summary.filter);
        run.summary.invalid += summary.invalid;
        run.summary
            .invalid_examples
            .extend(summary.invalid_examples);
        run.summary.losses.merge(summary.losses);
        sims.push((name.clone(), sim));
    }
    run.not_written = run.unpairable;
    let mut merged = merge::merge_simulations(sims, &mut run.pairs, &mut run.globals)?;
    if sort {
        merge::sort_pairs(&mut merged.pairs);
    }
    if args.provenance {
        for pair in &mut merged.pairs {
            pair.labels.push(format!("wirecap-source={}", pair.source));
        }
    }
    let wopts = WriteOptions {
        schema_version: args.schema_version,
        time_exported: Some(export_time(args.time_exported)?),
        key_order: if args.hoverfly_compat {
            KeyOrder::Hoverfly
        } else {
            KeyOrder::AsRead
        },
    };
    let writing = || {
        let name = args.output.as_deref().map(Path::display);
        format!("writing {}", name.map_or("-".into(), |n| n.to_string()))
    };
    let n = formats::write_simulation(to, &merged, &wopts, &mut sink, &mut run.summary.losses)
        .with_context(writing)?;
    run.written = n as u64;
    run.not_written += (merged.pairs.len() as u64).saturating_sub(n as u64);
    sink.flush().with_context(writing)?;
    Ok(sink)
}

/// Where kept exchanges go: straight to the writer, or held until the end, for
/// `--on-conflict last` (a later answer takes the place of an earlier one) or for sorting.
enum Kept {
    Streamed,
    Held {
        /// Every exchange to write, in input order; `None` for a pair with no exchange form.
        items: Vec<Option<Exchange>>,
        /// Where the deduper's n-th kept pair is in `items`: [`Verdict::Replace`] counts kept
        /// pairs only, not the unpairable exchanges held between them.
        slots: Vec<usize>,
    },
}

fn merge_streaming(
    args: &MergeArgs,
    to: Format,
    read_opts: &ReadOptions,
    sort: bool,
    run: &mut Run,
    sink: Sink,
) -> Result<Sink> {
    let mut writer = Writer::new(to, sink)?;
    let mut kept = if sort || args.on_conflict == OnConflictArg::Last {
        Kept::Held {
            items: Vec::new(),
            slots: Vec::new(),
        }
    } else {
        Kept::Streamed
    };
    for name in &args.inputs {
        let mut input = Input::open_metered(name, run.meter.as_ref())
            .with_context(|| format!("opening {name}"))?;
        let format = input.detect(args.from)?;
        if format.is_simulation() {
            let mut sim =
                formats::read_simulation(format, input, read_opts, &mut run.summary.losses)?;
            run.filter.simulation(&mut sim, &mut run.summary.filter);
            sim.note_global_losses(name, &mut run.summary.losses);
            for pair in &sim.pairs {
                let verdict = offer(&mut run.pairs, pair)?;
                let ex = match verdict {
                    Verdict::Duplicate | Verdict::Dropped => continue,
                    _ => pair.to_exchange(&mut run.summary.losses),
                };
                place(args, &mut writer, &mut kept, run, verdict, ex, pair)?;
            }
            continue;
        }
        for item in formats::read(format, input, read_opts)? {
            let mut ex = match item {
                Ok(ex) => ex,
                Err(e) => {
                    let opts = Options {
                        keep_going: args.keep_going,
                    };
                    run.summary.skip_invalid(e, opts)?;
                    continue;
                }
            };
            if !run.filter.exchange(&mut ex, &mut run.summary.filter) {
                continue;
            }
            // The pair is only the comparison key here; what capture mode would drop
            // (request headers) stays in the exchange that is written.
            let mut scratch = Losses::default();
            let Some(pair) = Pair::from_exchange(&ex, &mut scratch) else {
                run.unpairable += 1;
                match &mut kept {
                    Kept::Streamed => write_one(&mut writer, run, &ex)?,
                    Kept::Held { items, .. } => items.push(Some(ex)),
                }
                continue;
            };
            let verdict = offer(&mut run.pairs, &pair)?;
            if matches!(verdict, Verdict::Duplicate | Verdict::Dropped) {
                continue;
            }
            place(args, &mut writer, &mut kept, run, verdict, Some(ex), &pair)?;
        }
    }
    if let Kept::Held { items, .. } = kept {
        let mut exchanges = Vec::with_capacity(items.len());
        for ex in items {
            match ex {
                Some(ex) => exchanges.push(ex),
                None => run.not_written += 1,
            }
        }
        if sort {
            merge::sort_exchanges(&mut exchanges);
        }
        for ex in &exchanges {
            write_one(&mut writer, run, ex)?;
        }
    }
    Ok(writer.finish()?)
}

fn offer(d: &mut Deduper, pair: &Pair) -> Result<Verdict, ConflictError> {
    d.offer(
        digest(&pair.request),
        digest(&pair.response),
        || describe(pair),
        || pair.source.to_string(),
    )
}

fn write_one<W: Write>(writer: &mut Writer<W>, run: &mut Run, ex: &Exchange) -> Result<()> {
    if writer.write(ex, &mut run.summary.losses)? {
        run.written += 1;
    } else {
        run.not_written += 1;
    }
    Ok(())
}

fn place<W: Write>(
    args: &MergeArgs,
    writer: &mut Writer<W>,
    kept: &mut Kept,
    run: &mut Run,
    verdict: Verdict,
    ex: Option<Exchange>,
    pair: &Pair,
) -> Result<()> {
    let ex = ex.map(|mut ex| {
        if args.provenance {
            ex.extra
                .insert("source".to_owned(), pair.source.to_string().into());
        }
        ex
    });
    match kept {
        Kept::Streamed => match ex {
            Some(ex) => write_one(writer, run, &ex)?,
            None => run.not_written += 1,
        },
        Kept::Held { items, slots } => match verdict {
            Verdict::Replace(at) => items[slots[at]] = ex,
            _ => {
                slots.push(items.len());
                items.push(ex);
            }
        },
    }
    Ok(())
}
