//! `wirecap schema list` and `wirecap schema show NAME`: print the embedded JSON Schemas so
//! other tools (check-jsonschema, Ajv, editors) can use them.

use crate::cli::{SchemaAction, SchemaArgs};
use anyhow::{Result, bail};
use std::io::Write as _;
use std::process::ExitCode;
use wirecap::validate::schemas;

/// Runs `wirecap schema`.
pub fn run(args: SchemaArgs) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match args.action {
        SchemaAction::List => {
            for s in &schemas::ALL {
                writeln!(out, "{:<32} {}", s.name(), s.title())?;
            }
        }
        SchemaAction::Show { name } => {
            let Some(s) = schemas::find(&name) else {
                bail!("unknown schema {name:?}; `wirecap schema list` names them");
            };
            out.write_all(s.text.as_bytes())?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
