//! `wirecap convert`: one input, one output, through the canonical model.

use super::{Sink, warn_invalid, warn_losses};
use crate::cli::ConvertArgs;
use anyhow::{Context as _, Result};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use wirecap::capture;
use wirecap::convert::{self, Options, Summary};
use wirecap::formats::{self, Format, Input, ReadOptions, Writer};

pub fn run(args: ConvertArgs) -> Result<ExitCode> {
    let mut input = Input::open(&args.input).with_context(|| format!("opening {}", args.input))?;
    let from = input.detect(args.from)?;
    let output = args.output.as_deref().filter(|p| *p != Path::new("-"));
    let to = args
        .to
        .or_else(|| output.and_then(Format::from_extension))
        .unwrap_or(Format::HttpTypes);
    let stats = (from == Format::Pcap).then(|| Arc::new(Mutex::new(capture::Stats::default())));
    let read_opts = ReadOptions {
        max_line_bytes: args.max_line_bytes,
        capture: capture::Options {
            keep_encoding: args.keep_encoding,
            drop_incomplete: args.drop_incomplete,
            stats: stats.clone(),
            ..capture::Options::default()
        },
    };
    let exchanges = formats::read(from, input, &read_opts)?;
    let mut summary = Summary::default();
    let opts = Options {
        keep_going: args.keep_going,
    };
    let inputs = [Path::new(&args.input)];
    let (sink, out_name) = if let Some(dir) = &args.split_by_host {
        let out_name = dir.display().to_string();
        std::fs::create_dir_all(dir).with_context(|| format!("creating {out_name}"))?;
        if args.strict {
            anyhow::bail!("--strict cannot be combined with --split-by-host");
        }
        convert::run_split(exchanges, dir, to, &inputs, opts, &mut summary)
            .with_context(|| format!("converting {} into {out_name}", args.input))?;
        (None, out_name)
    } else {
        let sink = Sink::create(output, &inputs)?;
        let mut writer = Writer::new(to, sink)?;
        let out_name = output.map_or_else(|| "-".to_owned(), |p| p.display().to_string());
        convert::run(exchanges, &mut writer, opts, &mut summary)
            .with_context(|| format!("converting {} to {out_name}", args.input))?;
        let sink = writer
            .finish()
            .with_context(|| format!("writing {out_name}"))?;
        (Some(sink), out_name)
    };
    summary.capture = stats.and_then(|s| s.lock().ok().map(|s| s.clone()));
    warn_invalid(&summary.invalid_examples, summary.invalid);
    warn_losses(&summary.losses);
    if args.strict && !summary.losses.is_empty() {
        drop(sink);
        eprintln!(
            "wirecap: error: --strict: the output would lose information (see warnings); nothing was written"
        );
        return Ok(ExitCode::from(1));
    }
    if let Some(sink) = sink {
        sink.commit()
            .with_context(|| format!("writing {out_name}"))?;
    }
    if let Some(path) = &args.summary_json {
        let mut json = serde_json::to_vec_pretty(&summary).context("serialising the summary")?;
        json.push(b'\n');
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    if !args.quiet {
        if let Some(stats) = &summary.capture {
            for line in stats.report_lines() {
                eprintln!("wirecap: {line}");
            }
        }
        eprintln!(
            "wirecap: {} ({from}) -> {out_name} ({to}): read {} exchanges, wrote {}, {} not written, {} invalid records skipped",
            args.input, summary.read, summary.written, summary.not_written, summary.invalid
        );
    }
    Ok(if summary.invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
