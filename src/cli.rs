//! The command line, described with clap derive. Only descriptions live here; each
//! `commands/<name>.rs` turns its arguments into library calls.

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use wirecap::formats::Format;

/// Turn recorded HTTP traffic into the files API-mocking tools run on, and keep them honest.
///
/// Formats: pcap (pcap and pcapng), http-types (alias jsonl; one HttpExchange per line),
/// hoverfly (a simulation document), hoverfly-v1-records, hoverfly-v1-templates,
/// hoverfly-v1-delays, har. Inputs are detected by --from, then by extension, then by content.
///
/// Exit status: 0 success; 1 finished, but found invalid data or (with --strict) loss;
/// 2 usage, I/O or parse failure.
#[derive(Debug, Parser)]
#[command(name = "wirecap", version, about, long_about, propagate_version = true)]
pub struct Cli {
    /// Worker threads for parallel work (default: one per core). Output is identical for any value.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// wirecap's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert a file from one format to another.
    ///
    /// Reads INPUT (`-` for stdin) and writes OUTPUT (`-` or absent for stdout) through the
    /// canonical exchange model. The output is written to a temporary file and renamed into
    /// place, so a failed run never leaves a partial file. A summary of what was read, written
    /// and skipped goes to stderr, and each kind of loss (what the output format cannot hold)
    /// is reported once as a warning.
    #[command(
        after_help = "Examples:\n  wirecap convert recording.jsonl -o clean.jsonl\n  cat recording.jsonl | wirecap convert - --from jsonl --to http-types"
    )]
    Convert(ConvertArgs),
    /// Count the exchanges in files, like Hoverfly's GET /api/v2/simulation/meta/count.
    ///
    /// Prints {"count": {"all": N, "recordings": R}} for one input. With several inputs the
    /// top-level count is the total and "files" lists each input's own count. Every http-types
    /// exchange is a recording.
    #[command(
        after_help = "Examples:\n  wirecap count recording.jsonl\n  wirecap count --by host --format text a.jsonl b.jsonl"
    )]
    Count(CountArgs),
    /// Check files against wirecap's versioned JSON Schemas and semantic rules.
    ///
    /// Detects each file's format and version (http-types JSONL; Hoverfly simulations by
    /// meta.schemaVersion; legacy records, templates and delays by shape) unless --schema names
    /// one. Directories are walked for .json, .jsonl and .ndjson files, and glob patterns are
    /// expanded. Each problem prints as FILE:LINE:COLUMN: /json/pointer: message [rule]; the
    /// run ends with a summary on stderr. Exit status: 0 valid, 1 invalid, 2 could not run.
    #[command(
        after_help = "Examples:\n  wirecap validate recording.jsonl simulations/\n  wirecap validate --format github 'mocks/**/*.json'\n  wirecap validate --schema hoverfly-simulation/v5.2 sim.json"
    )]
    Validate(ValidateArgs),
    /// List or print the JSON Schemas wirecap embeds.
    Schema(SchemaArgs),
}

fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    let mut names: Vec<&'static str> = Format::ALL.iter().map(|f| f.name()).collect();
    names.push("jsonl");
    PossibleValuesParser::new(names)
        .map(|s| s.parse::<Format>().expect("clap only passes listed names"))
}

/// Arguments of `wirecap convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The file to read, or `-` for standard input.
    pub input: String,

    /// Where to write; `-` or absent means standard output.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,

    /// The input format (default: from the extension, then the content).
    #[arg(long, value_name = "FORMAT", value_parser = format_parser())]
    pub from: Option<Format>,

    /// The output format (default: from the output's extension, else http-types).
    #[arg(long, value_name = "FORMAT", value_parser = format_parser())]
    pub to: Option<Format>,

    /// Skip records that do not parse, count them, and go on; the exit status is then 1.
    #[arg(long)]
    pub keep_going: bool,

    /// Treat any loss (something the output format cannot hold) as an error: nothing is written.
    #[arg(long)]
    pub strict: bool,

    /// The longest JSONL line accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = wirecap::formats::http_types::MAX_LINE_BYTES)]
    pub max_line_bytes: usize,

    /// Do not print the summary (warnings and errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

/// How `count` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CountFormat {
    /// JSON shaped like Hoverfly's count endpoint.
    Json,
    /// A table for people.
    Text,
}

/// What `count --by` breaks counts down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CountBy {
    /// The request's host[:port].
    Host,
    /// The request method.
    Method,
    /// The response status code.
    Status,
}

/// Arguments of `wirecap count`.
#[derive(Debug, Args)]
pub struct CountArgs {
    /// The files to count (`-` for standard input).
    #[arg(required = true)]
    pub inputs: Vec<String>,

    /// The input format (default: per file, from the extension, then the content).
    #[arg(long, value_name = "FORMAT", value_parser = format_parser())]
    pub from: Option<Format>,

    /// Break the count down by this key.
    #[arg(long, value_enum)]
    pub by: Option<CountBy>,

    /// How to print the result.
    #[arg(long, value_enum, default_value_t = CountFormat::Json)]
    pub format: CountFormat,

    /// Skip records that do not parse and count them as "invalid"; the exit status is then 1.
    #[arg(long)]
    pub keep_going: bool,

    /// The longest JSONL line accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = wirecap::formats::http_types::MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
}

/// How `validate` prints problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// FILE:LINE:COLUMN: /pointer: message [rule]
    Text,
    /// One JSON object per problem.
    Json,
    /// GitHub Actions annotations (::error file=…,line=…::…).
    Github,
    /// One JUnit XML report.
    Junit,
}

/// Which http-types requirements `validate` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateProfile {
    /// What py-http-types and hmt really require (response, protocol, host, path, headers).
    Strict,
    /// The published http-types JSON Schema only.
    Schema,
}

/// Arguments of `wirecap validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files, directories or glob patterns (`-` for standard input).
    #[arg(required = true)]
    pub inputs: Vec<String>,

    /// Validate every input against this schema (see `wirecap schema list`).
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,

    /// How strictly http-types lines are checked.
    #[arg(long, value_enum, default_value_t = ValidateProfile::Strict)]
    pub profile: ValidateProfile,

    /// How to print problems.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,

    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,

    /// The longest JSONL line accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = wirecap::formats::http_types::MAX_LINE_BYTES)]
    pub max_line_bytes: usize,

    /// Build a full JSON value for every http-types line (for benchmarks; same results).
    #[arg(long, hide = true)]
    pub no_fast_path: bool,
}

/// Arguments of `wirecap schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: SchemaAction,
}

/// `wirecap schema` actions.
#[derive(Debug, Subcommand)]
pub enum SchemaAction {
    /// List the embedded schemas: NAME and title.
    List,
    /// Print one schema's JSON.
    Show {
        /// The schema, as `schema list` names it (a bare format means its newest version).
        name: String,
    },
}
