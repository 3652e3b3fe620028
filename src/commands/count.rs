//! `wirecap count`: tallies per file, in parallel across files, printed in input order.

use crate::cli::{CountArgs, CountBy, CountFormat};
use crate::progress::Progress;
use anyhow::{Context as _, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use wirecap::count::{self, By, Tally};
use wirecap::formats::hoverfly_v2::Upgrade;
use wirecap::formats::{self, Input, ReadOptions};
use wirecap::loss::Losses;

#[derive(Serialize)]
struct FileTally<'a> {
    file: &'a str,
    #[serde(flatten)]
    tally: &'a Tally,
}

#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    total: &'a Tally,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<FileTally<'a>>,
}

fn count_one(
    name: &str,
    args: &CountArgs,
    by: Option<By>,
    keys: &std::sync::Arc<wirecap::capture::tls::keylog::KeyLog>,
    meter: Option<&std::sync::Arc<wirecap::meter::ReadMeter>>,
) -> Result<Tally> {
    let mut input = Input::open_metered(name, meter).with_context(|| format!("opening {name}"))?;
    let format = input.detect(args.from)?;
    let opts = ReadOptions {
        max_line_bytes: args.max_line_bytes,
        hoverfly_upgrade: if args.hoverfly_compat {
            Upgrade::HoverflyCompat
        } else {
            Upgrade::Faithful
        },
        // Counting looks at heads only; undoing gzip would be most of its time.
        capture: wirecap::capture::Options {
            keep_encoding: true,
            keys: keys.clone(),
            ..Default::default()
        },
    };
    if format.is_simulation() {
        let sim = formats::read_simulation(format, input, &opts, &mut Losses::default())?;
        return Ok(count::count_simulation(&sim, by));
    }
    let exchanges = formats::read(format, input, &opts)?;
    Ok(count::count_exchanges(exchanges, by, args.keep_going)?)
}

pub fn run(args: CountArgs) -> Result<ExitCode> {
    let by = args.by.map(|b| match b {
        CountBy::Host => By::Host,
        CountBy::Method => By::Method,
        CountBy::Status => By::Status,
    });
    super::check_summary_json(args.summary_json.as_deref())?;
    let keys = super::load_keylog(&args.keylog)?;
    let mut progress = Progress::start(args.inputs.iter().map(Path::new), args.quiet);
    let tallies: Vec<Tally> = args
        .inputs
        .par_iter()
        .map(|name| count_one(name, &args, by, &keys, progress.meter()))
        .collect::<Result<_>>()?;
    progress.finish();
    let mut total = Tally::default();
    for t in &tallies {
        total.add(t);
    }
    let files = if tallies.len() > 1 {
        args.inputs
            .iter()
            .zip(&tallies)
            .map(|(file, tally)| FileTally { file, tally })
            .collect()
    } else {
        Vec::new()
    };
    let report = Report {
        total: &total,
        files,
    };
    super::write_summary_json(args.summary_json.as_deref(), &report)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        CountFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        CountFormat::Text => write_text(&mut out, &args.inputs, &tallies, &total)?,
    }
    out.flush()?;
    Ok(if total.invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_text(
    out: &mut impl Write,
    names: &[String],
    tallies: &[Tally],
    total: &Tally,
) -> Result<()> {
    let mut rows: Vec<[String; 6]> = vec![[
        "file".into(),
        "all".into(),
        "recordings".into(),
        "templates".into(),
        "delays".into(),
        "invalid".into(),
    ]];
    let row = |name: &str, t: &Tally| {
        let opt = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
        [
            name.to_owned(),
            t.count.all.to_string(),
            opt(t.count.recordings),
            opt(t.count.templates),
            opt(t.count.delays),
            t.invalid.to_string(),
        ]
    };
    for (name, t) in names.iter().zip(tallies) {
        rows.push(row(name, t));
    }
    if tallies.len() > 1 {
        rows.push(row("total", total));
    }
    write_table(out, &rows)?;
    if !total.by.is_empty() {
        writeln!(out)?;
        let mut by_rows: Vec<[String; 2]> = vec![["key".into(), "count".into()]];
        by_rows.extend(total.by.iter().map(|(k, n)| [k.clone(), n.to_string()]));
        write_table(out, &by_rows)?;
    }
    Ok(())
}

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
