//! `wirecap convert`: one input (or several captures read as one), one output, through the
//! canonical model.

use super::{Sink, warn_invalid, warn_losses};
use crate::cli::ConvertArgs;
use crate::progress::{self, Progress};
use anyhow::{Context as _, Result};
use std::path::Path;
use std::process::ExitCode;
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
    let read_opts = super::ReadFlags::convert(&args).resolve()?;
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
    progress.finish();
    warn_invalid(&summary.invalid_examples, summary.invalid);
    warn_losses(&summary.losses);
    warn_empty_capture(&label, &summary);
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
            for line in capture_report(stats) {
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

/// Says so when a capture held packets but no exchange: with `--quiet` nothing else would
/// (its account is part of the summary), and an empty output alone looks like success.
fn warn_empty_capture(input: &str, summary: &Summary) {
    let Some(c) = summary
        .capture
        .as_ref()
        .filter(|c| summary.read == 0 && c.packets > 0)
    else {
        return;
    };
    let why = c
        .notes
        .iter()
        // Records out of time order are a fact about the file, not why nothing was found.
        .filter(|(note, _)| *note != wirecap::capture::Note::OutOfTimeOrder)
        .max_by_key(|(_, n)| n.count)
        .map(|(note, n)| format!(" ({}: {})", note.describe(), n.count))
        .or_else(|| {
            let (bad, non_ip) = (c.protocols.malformed, c.protocols.non_ip);
            (bad + non_ip > 0).then(|| format!(" ({bad} malformed, {non_ip} not IP)"))
        })
        .unwrap_or_default();
    let packets = super::count_of(c.packets, "packet", "packets");
    eprintln!("wirecap: warning: {input}: no HTTP exchange in {packets}{why}");
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
    warn_invalid(&summary.invalid_examples, summary.invalid);
    warn_losses(&summary.losses);
    warn_empty_capture(&label, &summary);
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

/// The capture summary printed on stderr: one line per topic, then one per note. Timings are
/// left out so the text is the same on every run (they are in `--summary-json`).
fn capture_report(stats: &capture::Stats) -> Vec<String> {
    let links = stats
        .links
        .iter()
        .map(|(l, n)| format!("{l} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let p = &stats.protocols;
    let t = &stats.tcp;
    let h = &stats.http;
    let mut lines = vec![
        format!(
            "capture: {} packets ({} bytes); links: {}",
            stats.packets,
            stats.captured_bytes,
            if links.is_empty() {
                "none".into()
            } else {
                links
            }
        ),
        format!(
            "capture: ipv4 {}, ipv6 {}, tcp {}, udp {}, other ip {}, non-ip {}{}, malformed {}",
            p.ipv4,
            p.ipv6,
            p.tcp,
            p.udp,
            p.other_ip,
            p.non_ip,
            if p.non_ip_kinds.is_empty() {
                String::new()
            } else {
                let kinds: Vec<String> = p
                    .non_ip_kinds
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                format!(" ({})", kinds.join(", "))
            },
            p.malformed
        ),
        format!(
            "capture: tcp flows {} ({} http, {} empty); {} bytes retransmitted, {} out-of-order segments, {} bytes in gaps",
            t.flows,
            t.http_flows,
            t.empty_flows,
            t.duplicate_bytes,
            t.out_of_order_segments,
            t.gap_bytes
        ),
        format!(
            "capture: http requests {}, responses {}, exchanges {} ({} without response)",
            h.requests, h.responses, h.exchanges, h.incomplete
        ),
    ];
    let h2 = &stats.http2;
    if h2.connections > 0 {
        lines.push(format!(
            "capture: http/2 connections {}, streams {} ({} reset), goaways {}, push promises {}, header blocks lost to hpack {}",
            h2.connections, h2.streams, h2.resets, h2.goaways, h2.push_promises, h2.hpack_lost
        ));
    }
    let tls = &stats.tls;
    if tls.connections > 0 {
        lines.push(format!(
            "capture: tls connections {} ({} decrypted, {} not); {} records opened, {} failed authentication",
            tls.connections, tls.decrypted, tls.not_decrypted, tls.records, tls.failed_records
        ));
    }
    for (note, c) in stats.notes.iter() {
        lines.push(format!(
            "capture: not an exchange or changed: {}: {} (first: {})",
            note.describe(),
            c.count,
            c.first
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http2_and_tls_lines_appear_only_when_there_was_some() {
        let mut stats = capture::Stats::default();
        let lines = capture_report(&stats);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "capture: 0 packets (0 bytes); links: none");
        stats.http2.connections = 1;
        stats.tls.connections = 2;
        let lines = capture_report(&stats);
        assert!(lines[4].starts_with("capture: http/2 connections 1, "));
        assert!(lines[5].starts_with("capture: tls connections 2 "));
    }
}
