//! `wirecap validate`: expands the inputs, validates files in parallel, prints problems in
//! input order in the chosen format, and turns the totals into the exit status.

use crate::cli::{ValidateArgs, ValidateFormat, ValidateProfile};
use crate::progress::{self, Progress};
use anyhow::{Context as _, Result, bail};
use rayon::prelude::*;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use wirecap::validate::render::{self, FileResult, OutputFormat};
use wirecap::validate::{self, Options, Profile, Summary, schemas};

/// Runs `wirecap validate`.
pub fn run(args: ValidateArgs) -> Result<ExitCode> {
    super::check_summary_json(args.summary_json.as_deref(), &args.inputs)?;
    let schema = match &args.schema {
        None => None,
        Some(name) => match schemas::find(name) {
            Some(s) => Some(s),
            None => bail!("unknown schema {name:?}; `wirecap schema list` names them"),
        },
    };
    let format = match args.format {
        ValidateFormat::Text => OutputFormat::Text,
        ValidateFormat::Json => OutputFormat::Json,
        ValidateFormat::Github => OutputFormat::Github,
        ValidateFormat::Junit => OutputFormat::Junit,
    };
    let inputs = validate::expand_inputs(&args.inputs)?;
    // One file (often a big JSONL): its problems stream to stdout as they are found.
    let streams = inputs.len() == 1 && format != OutputFormat::Junit;
    let hide = args.quiet || (streams && progress::streams_to_terminal(None));
    let mut progress = Progress::start(inputs.iter().map(PathBuf::as_path), hide);
    let opts = Options {
        schema,
        profile: match args.profile {
            ValidateProfile::Strict => Profile::Strict,
            ValidateProfile::Schema => Profile::Schema,
        },
        max_line_bytes: args.json_limits.max_line_bytes,
        json_depth: args.json_limits.max_json_depth,
        fast_path: !args.no_fast_path,
        meter: progress.meter().cloned(),
    };
    let mut out = Report {
        out: BufWriter::with_capacity(wirecap::output::WRITE_BUFFER_BYTES, io::stdout()),
        closed: false,
    };
    let mut results: Vec<FileResult> = Vec::new();
    if streams {
        let path = &inputs[0];
        let file = path.display().to_string();
        let mut write_err = None;
        let summary = validate::validate_path(path, &opts, &mut |p| {
            if write_err.is_none() {
                write_err = out.write(|o| render::problem(o, format, &file, &p)).err();
            }
        });
        if let Some(e) = write_err {
            return Err(e);
        }
        results.push(FileResult {
            file,
            summary: summary.map_err(|e| format!("{:#}", anyhow::Error::from(e))),
            problems: Vec::new(),
        });
    } else {
        results = inputs
            .par_iter()
            .map(|path: &PathBuf| {
                let mut problems = Vec::new();
                let summary = validate::validate_path(path, &opts, &mut |p| problems.push(p));
                FileResult {
                    file: path.display().to_string(),
                    summary: summary.map_err(|e| format!("{:#}", anyhow::Error::from(e))),
                    problems,
                }
            })
            .collect();
        progress.finish();
        if format == OutputFormat::Junit {
            out.write(|o| render::junit(o, &results, args.deny_warnings))?;
        } else {
            for r in &results {
                for p in &r.problems {
                    out.write(|o| render::problem(o, format, &r.file, p))?;
                }
            }
        }
    }
    out.write(|o| o.flush())?;
    progress.finish();
    let mut total = Summary::default();
    let mut failed_to_run = false;
    for r in &results {
        match &r.summary {
            Ok(s) => {
                total.documents += s.documents;
                total.errors += s.errors;
                total.warnings += s.warnings;
            }
            Err(e) => {
                failed_to_run = true;
                eprintln!("wirecap: error: {e}");
            }
        }
    }
    super::write_summary_json(
        args.summary_json.as_deref(),
        &ValidateSummary::new(&results, &total),
    )?;
    if !args.quiet {
        eprintln!("{}", render::summary_line(results.len(), &total));
    }
    Ok(if failed_to_run {
        ExitCode::from(2)
    } else if total.errors > 0 || (args.deny_warnings && total.warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// What `--summary-json` holds: the totals of the summary line, then each file's counts, or
/// the error that kept it from being checked.
#[derive(serde::Serialize)]
struct ValidateSummary<'a> {
    documents: u64,
    errors: u64,
    warnings: u64,
    /// Files that could not be checked (exit status 2).
    failed: usize,
    files: Vec<FileSummary<'a>>,
}

#[derive(serde::Serialize)]
struct FileSummary<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    documents: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

impl<'a> ValidateSummary<'a> {
    fn new(results: &'a [FileResult], total: &Summary) -> Self {
        let files: Vec<FileSummary> = results
            .iter()
            .map(|r| {
                let ok = r.summary.as_ref().ok();
                FileSummary {
                    file: &r.file,
                    schema: ok.and_then(|s| s.schema.as_deref()),
                    documents: ok.map(|s| s.documents),
                    errors: ok.map(|s| s.errors),
                    warnings: ok.map(|s| s.warnings),
                    error: r.summary.as_ref().err().map(String::as_str),
                }
            })
            .collect();
        ValidateSummary {
            documents: total.documents,
            errors: total.errors,
            warnings: total.warnings,
            failed: files.iter().filter(|f| f.error.is_some()).count(),
            files,
        }
    }
}

/// Standard output for the report, until it closes: a reader that stops early (`| head`) ends
/// the report, not the check, so the exit code still says whether the files are valid.
struct Report<W: Write> {
    out: W,
    closed: bool,
}

impl<W: Write> Report<W> {
    fn write(&mut self, f: impl FnOnce(&mut W) -> io::Result<()>) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        match f(&mut self.out) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            done => done.context("writing to standard output"),
        }
    }
}
