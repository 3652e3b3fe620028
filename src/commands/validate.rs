//! `wirecap validate`: expands the inputs, validates files in parallel, prints problems in
//! input order in the chosen format, and turns the totals into the exit status.

use crate::cli::{ValidateArgs, ValidateFormat, ValidateProfile};
use anyhow::{Context as _, Result, bail};
use rayon::prelude::*;
use std::io::{self, BufWriter, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use wirecap::validate::render::{self, FileResult, OutputFormat};
use wirecap::validate::{self, Options, Profile, Summary, schemas};

/// Runs `wirecap validate`.
pub fn run(args: ValidateArgs) -> Result<ExitCode> {
    let schema = match &args.schema {
        None => None,
        Some(name) => match schemas::find(name) {
            Some(s) => Some(s),
            None => bail!("unknown schema {name:?}; `wirecap schema list` names them"),
        },
    };
    let opts = Options {
        schema,
        profile: match args.profile {
            ValidateProfile::Strict => Profile::Strict,
            ValidateProfile::Schema => Profile::Schema,
        },
        max_line_bytes: args.max_line_bytes,
        fast_path: !args.no_fast_path,
    };
    let format = match args.format {
        ValidateFormat::Text => OutputFormat::Text,
        ValidateFormat::Json => OutputFormat::Json,
        ValidateFormat::Github => OutputFormat::Github,
        ValidateFormat::Junit => OutputFormat::Junit,
    };
    let inputs = validate::expand_inputs(&args.inputs)?;
    let mut out = BufWriter::with_capacity(wirecap::output::WRITE_BUFFER_BYTES, io::stdout());
    let mut results: Vec<FileResult> = Vec::new();
    if inputs.len() == 1 && format != OutputFormat::Junit {
        // One file (often a big JSONL): stream problems as they are found.
        let path = &inputs[0];
        let file = path.display().to_string();
        let mut write_err = None;
        let summary = validate::validate_path(path, &opts, &mut |p| {
            if write_err.is_none() {
                write_err = render::problem(&mut out, format, &file, &p).err();
            }
        });
        if let Some(e) = write_err {
            return Err(e).context("writing to standard output");
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
        if format == OutputFormat::Junit {
            render::junit(&mut out, &results, args.deny_warnings)
                .context("writing to standard output")?;
        } else {
            for r in &results {
                for p in &r.problems {
                    render::problem(&mut out, format, &r.file, p)
                        .context("writing to standard output")?;
                }
            }
        }
    }
    out.flush().context("writing to standard output")?;
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
    eprintln!("{}", render::summary_line(results.len(), &total));
    Ok(if failed_to_run {
        ExitCode::from(2)
    } else if total.errors > 0 || (args.deny_warnings && total.warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
