//! `wirecap convert`: one input (or several captures read as one), one output, through the
//! canonical model.

use super::{Sink, warn_invalid, warn_losses};
use crate::cli::ConvertArgs;
use crate::progress::{self, Progress};
use anyhow::{Context as _, Result};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use wirecap::capture;
use wirecap::convert::{self, Options, Summary};
use wirecap::formats::hoverfly::{KeyOrder, WriteOptions};
use wirecap::formats::{self, Format, Input, ReadOptions, Writer};
use wirecap::model::{Simulation, Timestamp};

pub fn run(args: ConvertArgs) -> Result<ExitCode> {
    // Every output path is checked before the work: a run that cannot write its summary must
    // not first write (or replace) its main output.
    super::check_summary_json(args.summary_json.as_deref(), &args.inputs)?;
    if let Some(path) = args.output.as_deref().filter(|p| *p != Path::new("-")) {
        wirecap::output::check_path(path)?;
    }
    let hide = args.quiet
        || (args.split_by_host.is_none() && progress::streams_to_terminal(args.output.as_deref()));
    super::stdin_once(&args.inputs)?;
    let mut progress = Progress::start(args.inputs.iter().map(Path::new), hide);
    let mut inputs = Vec::with_capacity(args.inputs.len());
    for name in &args.inputs {
        let mut input = Input::open_metered(name, progress.meter())
            .with_context(|| format!("opening {name}"))?;
        let from = input.detect(args.from)?;
        inputs.push((input, from));
    }
    formats::check_capture_set(&inputs)?;
    let from = inputs.first().map_or(Format::HttpTypes, |(_, f)| *f);
    let output = args.output.as_deref().filter(|p| *p != Path::new("-"));
    let to = args
        .to
        .or_else(|| output.and_then(Format::from_extension))
        .unwrap_or(Format::HttpTypes);
    let stats = (from == Format::Pcap).then(|| Arc::new(Mutex::new(capture::Stats::default())));
    let read_opts = super::ReadFlags::convert(&args).resolve(stats.clone())?;
    let filter = super::filter(&args.filter);
    if from.is_simulation() || to.is_simulation() {
        return run_simulation(&args, inputs, to, output, &read_opts, progress);
    }
    let exchanges = formats::read_inputs(inputs, &read_opts)?;
    let mut summary = Summary {
        filter: filter.tally(),
        ..Summary::default()
    };
    let opts = Options {
        keep_going: args.keep_going,
    };
    let label = label(&args.inputs);
    let inputs: Vec<&Path> = args.inputs.iter().map(Path::new).collect();
    let (sink, out_name) = if let Some(dir) = &args.split_by_host {
        let out_name = dir.display().to_string();
        std::fs::create_dir_all(dir).with_context(|| format!("creating {out_name}"))?;
        if args.strict {
            anyhow::bail!("--strict cannot be combined with --split-by-host");
        }
        convert::run_split(exchanges, dir, to, &inputs, opts, &filter, &mut summary)
            .with_context(|| format!("converting {label} into {out_name}"))?;
        (None, out_name)
    } else {
        let sink = Sink::create(output, &inputs)?;
        let mut writer = Writer::new(to, sink)?;
        let out_name = output.map_or_else(|| "-".to_owned(), |p| p.display().to_string());
        convert::run(exchanges, &mut writer, opts, &filter, &mut summary).map_err(|e| match e {
            // Read errors name their input; a write error is said with the output's name.
            convert::Error::Write(io) => {
                anyhow::Error::new(io).context(format!("writing {out_name}"))
            }
            e => e.into(),
        })?;
        let sink = writer
            .finish()
            .with_context(|| format!("writing {out_name}"))?;
        (Some(sink), out_name)
    };
    summary.capture = stats.and_then(|s| s.lock().ok().map(|s| s.clone()));
    progress.finish();
    warn_invalid(&summary.invalid_examples, summary.invalid);
    warn_losses(&summary.losses);
    if super::refused_by_strict(
        args.strict,
        &summary.losses,
        summary.invalid,
        summary.capture.as_ref(),
    ) {
        drop(sink);
        return Ok(ExitCode::from(1));
    }
    if let Some(sink) = sink {
        sink.commit()
            .with_context(|| format!("writing {out_name}"))?;
    }
    super::write_summary_json(args.summary_json.as_deref(), &summary)?;
    if !args.quiet {
        if let Some(stats) = &summary.capture {
            for line in stats.report_lines() {
                eprintln!("wirecap: {line}");
            }
        }
        eprintln!(
            "wirecap: {label} ({from}) -> {out_name} ({to}): read {}{}, wrote {}, {} not written, {} skipped",
            super::count_of(summary.read, "exchange", "exchanges"),
            super::filtered_part(&filter, &summary.filter),
            summary.written,
            summary.not_written,
            super::count_of(summary.invalid, "invalid record", "invalid records"),
        );
        super::report_redacted(&summary.filter);
    }
    Ok(finished(&summary, from, to))
}

/// The exit status: 1 when invalid records were skipped, or when records were read but none
/// could be written, which is said with the format that would have held them. A selection
/// that keeps nothing is no failure: the output is empty as asked.
fn finished(summary: &Summary, from: Format, to: Format) -> ExitCode {
    if summary.read > summary.filter.selection.filtered_out && summary.written == 0 {
        let hint = if from.is_simulation() && !to.is_simulation() {
            format!("; --to {from} keeps them")
        } else {
            String::new()
        };
        eprintln!(
            "wirecap: warning: nothing that was read could be written as {to} (the warnings above say why){hint}"
        );
        return ExitCode::from(1);
    }
    super::finished(summary.invalid)
}

/// `meta.timeExported` when no flag gives it: SOURCE_DATE_EPOCH (reproducible builds), else
/// the input's own (`None`), else now.
fn time_exported(args: &ConvertArgs, sim: &Simulation) -> Result<Option<Timestamp>> {
    let forced = args.time_exported.is_some() || std::env::var_os("SOURCE_DATE_EPOCH").is_some();
    if !forced && sim.meta.time_exported.is_some() {
        return Ok(None);
    }
    super::export_time(args.time_exported).map(Some)
}

/// Conversions from or to Hoverfly: through the simulation model, whole-document.
fn run_simulation(
    args: &ConvertArgs,
    mut inputs: Vec<(Input, Format)>,
    to: Format,
    output: Option<&Path>,
    read_opts: &ReadOptions,
    mut progress: Progress,
) -> Result<ExitCode> {
    let filter = &super::filter(&args.filter);
    let mut summary = Summary {
        filter: filter.tally(),
        ..Summary::default()
    };
    let opts = Options {
        keep_going: args.keep_going,
    };
    let out_name = output.map_or_else(|| "-".to_owned(), |p| p.display().to_string());
    let label = label(&args.inputs);
    let from = inputs.first().map_or(Format::HttpTypes, |(_, f)| *f);
    // Several inputs are all captures (checked on opening), so a simulation is read alone.
    let mut sim = match inputs.pop() {
        Some((input, from)) if from.is_simulation() => {
            formats::read_simulation(from, input, read_opts, &mut summary.losses)?
        }
        last => {
            inputs.extend(last);
            let exchanges = formats::read_inputs(inputs, read_opts)?;
            let exchanges = convert::collect(exchanges, opts, filter, &mut summary)
                .with_context(|| format!("reading {label}"))?;
            Simulation::from_exchanges(exchanges, &mut summary.losses)
        }
    };
    let paths: Vec<&Path> = args.inputs.iter().map(Path::new).collect();
    let mut sink = Sink::create(output, &paths)?;
    if to.is_simulation() {
        if from.is_simulation() {
            summary.read = sim.pairs.len() as u64;
            filter.simulation(&mut sim, &mut summary.filter);
        }
        let wopts = WriteOptions {
            schema_version: args.schema_version,
            time_exported: time_exported(args, &sim)?,
            key_order: if args.hoverfly_compat {
                KeyOrder::Hoverfly
            } else {
                KeyOrder::AsRead
            },
        };
        let n = formats::write_simulation(to, &sim, &wopts, &mut sink, &mut summary.losses)
            .with_context(|| format!("writing {out_name}"))?;
        summary.written = n as u64;
        summary.not_written = summary
            .read
            .saturating_sub(summary.filter.selection.filtered_out + n as u64);
    } else {
        let mut writer = Writer::new(to, sink)?;
        convert::run_pairs(&sim, &label, filter, &mut writer, &mut summary)
            .with_context(|| format!("converting {label} to {out_name}"))?;
        sink = writer
            .finish()
            .with_context(|| format!("writing {out_name}"))?;
    }
    progress.finish();
    // A capture read into a simulation: its account, for --strict and the summary.
    let stats = read_opts.capture.stats.as_ref();
    summary.capture = stats.and_then(|s| s.lock().ok().map(|s| s.clone()));
    warn_invalid(&summary.invalid_examples, summary.invalid);
    warn_losses(&summary.losses);
    if super::refused_by_strict(
        args.strict,
        &summary.losses,
        summary.invalid,
        summary.capture.as_ref(),
    ) {
        drop(sink);
        return Ok(ExitCode::from(1));
    }
    sink.commit()
        .with_context(|| format!("writing {out_name}"))?;
    super::write_summary_json(args.summary_json.as_deref(), &summary)?;
    if !args.quiet {
        let read = if from.is_simulation() {
            super::count_of(summary.read, "pair", "pairs")
        } else {
            super::count_of(summary.read, "exchange", "exchanges")
        };
        eprintln!(
            "wirecap: {label} ({from}) -> {out_name} ({to}): read {read}{}, wrote {}, {} not written, {} skipped",
            super::filtered_part(filter, &summary.filter),
            summary.written,
            summary.not_written,
            super::count_of(summary.invalid, "invalid record", "invalid records"),
        );
        super::report_redacted(&summary.filter);
    }
    Ok(finished(&summary, from, to))
}

/// The inputs as messages name them: the one input, or the first of several captures and how
/// many more.
fn label(inputs: &[String]) -> String {
    match inputs {
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
        [] => "-".to_owned(),
    }
}
