//! `wirecap stats`: the files gathered by the library ([`wirecap::ops::stats`]), summarised
//! together, printed as tables (and as JSON with `--summary-json`).

use super::count_of;
use crate::cli::StatsArgs;
use crate::progress::Progress;
use anyhow::Result;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use wirecap::ops::stats as op;
use wirecap::stats::{Latency, Ranked, Report, Sizes};

/// Runs `wirecap stats`.
pub fn run(args: StatsArgs) -> Result<ExitCode> {
    super::stdin_once(&args.inputs)?;
    super::check_summary_json(args.summary_json.as_deref(), &args.inputs)?;
    let reading = super::ReadFlags::look(&args.read).resolve()?;
    let mut progress = Progress::start(args.inputs.iter().map(Path::new), args.read.quiet);
    let opts = reading.look(progress.meter());
    let looked = op::run(&args.inputs, &opts).map_err(super::look_error);
    progress.finish();
    let op::Looked { gathered, misnamed } = looked?;
    super::warn_misnamed(&misnamed);
    let report = gathered.report(args.top);
    super::write_summary_json(args.summary_json.as_deref(), &report)?;
    let mut out = std::io::stdout().lock();
    write_report(&mut out, args.inputs.len(), &report)?;
    out.flush()?;
    Ok(super::finished(report.invalid))
}

fn write_report(out: &mut impl Write, files: usize, r: &Report) -> Result<()> {
    let mut head = format!(
        "{} in {}",
        count_of(r.exchanges, "exchange", "exchanges"),
        count_of(files as u64, "file", "files")
    );
    if r.invalid > 0 {
        head += &format!(
            ", {} skipped",
            count_of(r.invalid, "invalid record", "invalid records")
        );
    }
    if r.not_measured > 0 {
        head += &format!(
            ", {} not measured",
            count_of(r.not_measured, "template", "templates")
        );
    }
    writeln!(out, "{head}")?;

    let ranked = |title: &str, rows: &[Ranked]| {
        let mut t = vec![[title.to_owned(), "exchanges".to_owned()]];
        t.extend(
            rows.iter()
                .map(|h| [h.name.clone(), h.exchanges.to_string()]),
        );
        t
    };
    let mut hosts = ranked("host", &r.hosts.top);
    if r.hosts.others > 0 {
        let more = r.hosts.distinct - r.hosts.top.len() as u64;
        hosts.push([
            format!("({})", count_of(more, "other host", "other hosts")),
            r.hosts.others.to_string(),
        ]);
    }
    writeln!(out)?;
    super::write_table(out, &hosts)?;
    writeln!(out)?;
    super::write_table(out, &ranked("method", &r.methods))?;

    let mut status = vec![["status".to_owned(), "exchanges".to_owned()]];
    status.extend(
        r.status_classes
            .iter()
            .map(|(class, n)| [class.to_owned(), n.to_string()]),
    );
    writeln!(out)?;
    super::write_table(out, &status)?;

    let sizes = |name: &str, s: &Option<Sizes>| match s {
        Some(s) => [
            name.to_owned(),
            s.count.to_string(),
            s.min.to_string(),
            s.median.to_string(),
            s.p95.to_string(),
            s.max.to_string(),
        ],
        None => [name, "0", "n/a", "n/a", "n/a", "n/a"].map(str::to_owned),
    };
    let body = [
        ["body bytes", "count", "min", "median", "p95", "max"].map(str::to_owned),
        sizes("request", &r.body_bytes.request),
        sizes("response", &r.body_bytes.response),
    ];
    writeln!(out)?;
    super::write_table(out, &body)?;

    writeln!(out)?;
    super::write_table(out, &latency_rows(&r.latency_ms))?;
    Ok(())
}

fn latency_rows(l: &Latency) -> [[String; 6]; 2] {
    let header = ["latency ms", "measured", "p50", "p90", "p99", "max"].map(str::to_owned);
    let values = match &l.percentiles {
        Some(p) => [p.p50, p.p90, p.p99, p.max].map(|m| m.to_string()),
        None => ["n/a"; 4].map(str::to_owned),
    };
    let [p50, p90, p99, max] = values;
    let row = [
        "request to response".to_owned(),
        l.measured.to_string(),
        p50,
        p90,
        p99,
        max,
    ];
    [header, row]
}
