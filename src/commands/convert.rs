//! `wirecap convert`: one input (or several captures read as one), one output, through the
//! canonical model.
//!
//! The command turns its arguments into [`op::Options`], creates the output, and reports;
//! the conversion itself is the library's ([`wirecap::ops::convert`]).

use super::{Sink, warn_invalid, warn_losses};
use crate::cli::ConvertArgs;
use crate::progress::{self, Progress};
use anyhow::{Context as _, Result};
use std::path::Path;
use std::process::ExitCode;
use wirecap::capture;
use wirecap::convert::Summary;
use wirecap::formats::Format;
use wirecap::formats::hoverfly::WriteOptions;
use wirecap::ops::convert::{self as op, Opened};

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
    let output = args.output.as_deref().filter(|p| *p != Path::new("-"));
    let to = args
        .to
        .or_else(|| output.and_then(Format::from_extension))
        .unwrap_or(Format::HttpTypes);
    let reading = super::ReadFlags::convert(&args).resolve()?;
    let filter = super::filter(&args.filter);
    let opts = op::Options {
        from: reading.from,
        to,
        keep_going: reading.keep_going,
        read: reading.read,
        write: WriteOptions {
            schema_version: args.schema_version,
            time_exported: args.time_exported.or(super::source_date_epoch()?),
            key_order: reading.key_order,
        },
        clock: super::export_time(args.time_exported)?,
        meter: progress.meter().cloned(),
    };
    let mut opened = op::open(&args.inputs, &opts, &filter).map_err(unwrap_error)?;
    let inputs: Vec<&Path> = args.inputs.iter().map(Path::new).collect();
    let (sink, out_name) = match &args.split_by_host {
        Some(dir) if !opened.is_whole() => {
            let out_name = dir.display().to_string();
            std::fs::create_dir_all(dir).with_context(|| format!("creating {out_name}"))?;
            if args.strict {
                anyhow::bail!("--strict cannot be combined with --split-by-host");
            }
            opened
                .split_by_host(dir, &inputs, &opts, &filter)
                .map_err(unwrap_error)
                .with_context(|| format!("converting {} into {out_name}", opened.label))?;
            (None, out_name)
        }
        _ => {
            let out_name = output.map_or_else(|| "-".to_owned(), |p| p.display().to_string());
            let sink = Sink::create(output, &inputs, args.strict)?;
            let sink = opened
                .write(sink, &opts, &filter)
                .map_err(|e| write_error(e, &opened.label, &out_name))?;
            (Some(sink), out_name)
        }
    };
    progress.finish();
    let Opened {
        from,
        label,
        misnamed,
        summary,
        ..
    } = &opened;
    super::warn_misnamed(misnamed);
    warn_invalid(&summary.invalid_examples, summary.invalid);
    warn_losses(&summary.losses);
    warn_empty_capture(label, summary);
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
    super::write_summary_json(args.summary_json.as_deref(), summary)?;
    if !args.quiet {
        // A conversion through a simulation says nothing of the capture it read.
        let capture = summary.capture.as_ref().filter(|_| !opened.is_whole());
        for line in capture.map(capture_report).unwrap_or_default() {
            eprintln!("wirecap: {line}");
        }
        let read = if from.is_simulation() {
            super::count_of(summary.read, "pair", "pairs")
        } else {
            super::count_of(summary.read, "exchange", "exchanges")
        };
        eprintln!(
            "wirecap: {label} ({from}) -> {out_name} ({to}): read {read}{}, wrote {}, {} not written, {} skipped",
            super::filtered_part(&filter, &summary.filter),
            summary.written,
            summary.not_written,
            super::count_of(summary.invalid, "invalid record", "invalid records"),
        );
        super::report_redacted(&summary.filter);
    }
    Ok(finished(summary, *from, to))
}

/// The library's error as the command reports it: the cause itself where the variant only
/// wraps one, so the message and its chain are what they were when the conversion lived
/// here.
fn unwrap_error(e: op::Error) -> anyhow::Error {
    match e {
        op::Error::Format(e) => e.into(),
        op::Error::Convert(e) => e.into(),
        other => other.into(),
    }
}

/// A failure to write the output, said with the output's name (and, for pairs written as
/// exchanges, the input's); read errors name their input already.
fn write_error(e: op::Error, label: &str, out_name: &str) -> anyhow::Error {
    let writing = format!("writing {out_name}");
    match e {
        op::Error::Convert(wirecap::convert::Error::Write(io)) | op::Error::Finish(io) => {
            anyhow::Error::new(io).context(writing)
        }
        op::Error::Simulation(e) => anyhow::Error::new(e).context(writing),
        op::Error::Pairs(e) => {
            anyhow::Error::new(e).context(format!("converting {label} to {out_name}"))
        }
        other => unwrap_error(other),
    }
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
