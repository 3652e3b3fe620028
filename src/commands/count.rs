//! `wirecap count`: the arguments as [`op::Options`], the count itself the library's
//! ([`wirecap::ops::count`]), and the tallies printed in input order.

use crate::cli::{CountArgs, CountBy, CountFormat};
use crate::progress::Progress;
use anyhow::Result;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use wirecap::count::{By, Tally};
use wirecap::ops::count as op;

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

pub fn run(args: CountArgs) -> Result<ExitCode> {
    let by = args.by.map(|b| match b {
        CountBy::Host => By::Host,
        CountBy::Method => By::Method,
        CountBy::Status => By::Status,
    });
    super::check_summary_json(args.summary_json.as_deref(), &args.inputs)?;
    let reading = super::ReadFlags::look(&args.read).resolve()?;
    let mut progress = Progress::start(args.inputs.iter().map(Path::new), args.read.quiet);
    let opts = reading.look(progress.meter());
    let counted = op::run(&args.inputs, by, &opts).map_err(super::look_error);
    progress.finish();
    let op::Counted {
        files: tallies,
        total,
        misnamed,
    } = counted?;
    super::warn_misnamed(&misnamed);
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
    super::write_table(out, &rows)?;
    if !total.by.is_empty() {
        writeln!(out)?;
        let mut by_rows: Vec<[String; 2]> = vec![["key".into(), "count".into()]];
        by_rows.extend(total.by.iter().map(|(k, n)| [k.clone(), n.to_string()]));
        super::write_table(out, &by_rows)?;
    }
    Ok(())
}
