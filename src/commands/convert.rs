//! `wirecap convert`: one input, one output, through the canonical model.

use super::{Sink, warn_invalid, warn_losses};
use crate::cli::ConvertArgs;
use anyhow::{Context as _, Result};
use std::path::Path;
use std::process::ExitCode;
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
    let read_opts = ReadOptions {
        max_line_bytes: args.max_line_bytes,
    };
    let exchanges = formats::read(from, input, &read_opts)?;
    let sink = Sink::create(output, &[Path::new(&args.input)])?;
    let mut writer = Writer::new(to, sink)?;
    let mut summary = Summary::default();
    let opts = Options {
        keep_going: args.keep_going,
    };
    let out_name = output.map_or_else(|| "-".to_owned(), |p| p.display().to_string());
    convert::run(exchanges, &mut writer, opts, &mut summary)?;
    let sink = writer
        .finish()
        .with_context(|| format!("writing {out_name}"))?;
    warn_invalid(&summary.invalid_examples, summary.invalid);
    warn_losses(&summary.losses);
    if args.strict && !summary.losses.is_empty() {
        drop(sink);
        eprintln!(
            "wirecap: error: --strict: the output would lose information (see warnings); nothing was written"
        );
        return Ok(ExitCode::from(1));
    }
    sink.commit()
        .with_context(|| format!("writing {out_name}"))?;
    if !args.quiet {
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
