//! The command line, described with clap derive. Only descriptions live here; each
//! `commands/<name>.rs` turns its arguments into library calls.

use clap::builder::{PossibleValuesParser, TypedValueParser as _};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use wirecap::filter::redact::JsonField;
use wirecap::filter::select::{HostPattern, MethodPattern, PathPattern, StatusRanges};
use wirecap::formats::Format;
use wirecap::formats::hoverfly::SchemaVersion;
use wirecap::model::Timestamp;

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
    /// Worker threads for parallel work (default: one per core, plus one). Output is identical for
    /// any value. Also accepted after convert, count, merge, stats and validate.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// `--threads` for the commands that work in parallel (`schema` does not).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ThreadsArg {
    /// Worker threads for parallel work (default: one per core, plus one). Output is identical
    /// for any value.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// wirecap's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert a file from one format to another.
    ///
    /// Reads INPUT (`-` for stdin; several captures as one) and writes OUTPUT (`-` or absent
    /// for stdout) through the canonical exchange model. The output is written to a temporary file and renamed into
    /// place, so a failed run never leaves a partial file. A summary of what was read, written
    /// and skipped goes to stderr, and each kind of loss (what the output format cannot hold)
    /// is reported once as a warning.
    #[command(
        after_help = "Examples:\n  wirecap convert recording.jsonl -o clean.jsonl\n  cat recording.jsonl | wirecap convert - --from jsonl --to http-types\n  wirecap convert rotated-*.pcap --keylog keys.log -o day.jsonl"
    )]
    Convert(ConvertArgs),
    /// Merge many recordings and simulations into one file, each request answered once.
    ///
    /// Inputs of any format are read through the canonical model, in the order given. Every
    /// exchange is seen as the pair Hoverfly's capture mode would write, so the same request
    /// means the same request matchers whatever the format. Identical pairs (same matchers,
    /// same response) are written once; the same matchers with another response are a
    /// conflict, settled by --on-conflict and reported with both sources. Global delays,
    /// log-normal delays, literals and variables are merged the same way (by pattern and
    /// method, or by name). The summary on stderr accounts for every input pair: read =
    /// written + folded duplicates + dropped conflicts + not writable + filtered out (by the
    /// selection flags). Several inputs are
    /// written in the order given; one input is also sorted where Hoverfly's answers cannot
    /// change (see --keep-order).
    #[command(
        after_help = "Examples:\n  wirecap merge monday.jsonl tuesday.jsonl -o week.json\n  wirecap merge old-v1.json capture.jsonl team-sim.json -o all.json --on-conflict last"
    )]
    Merge(MergeArgs),
    /// Count the exchanges in files, like Hoverfly's GET /api/v2/simulation/meta/count.
    ///
    /// Prints {"count": {"all": N, "recordings": R}} for one input. With several inputs the
    /// top-level count is the total and "files" lists each input's own count. Every http-types
    /// exchange is a recording.
    ///
    /// Hoverfly files (any schemaVersion, and the legacy records, templates and delays bodies)
    /// answer {"count": {"all", "recordings", "templates", "delays"}} with all = recordings +
    /// templates + delays: a pair whose matchers are all `exact` (or a plain `array`, an exact repeated value) is a recording, any other pair
    /// a template (a legacy v1 template, or a `requestType: template` record, upgrades to
    /// `glob` matchers, so it is a template; a pair without matchers matches every request,
    /// so it is one too); `delays` counts globalActions.delays and delaysLogNormal (or the
    /// entries of a legacy delays body).
    #[command(
        after_help = "Examples:\n  wirecap count recording.jsonl\n  wirecap count --by host --format text a.jsonl b.jsonl"
    )]
    Count(CountArgs),
    /// Summarise what files hold: hosts, methods, status classes, body sizes, latencies.
    ///
    /// Reads every input of any format, as convert does, and prints one set of tables for
    /// all of them: the most frequent hosts (--top), every method, each status class (1xx to
    /// 5xx, other, none for no response), request and response body sizes in bytes (min,
    /// median, p95, max; captures' bodies as sent, before Content-Encoding is undone), and
    /// latency percentiles in milliseconds from the request's first byte to the response's
    /// last (p50, p90, p99, max), from the exchanges that have both timestamps; n/a when none
    /// has. Percentiles are nearest-rank. Hoverfly pairs are measured when all their matchers
    /// are exact; templates are counted as not measured.
    #[command(
        after_help = "Examples:\n  wirecap stats capture.pcapng\n  wirecap stats --keylog keys.log --top 5 https.pcap\n  wirecap stats recording.jsonl --summary-json stats.json"
    )]
    Stats(StatsArgs),
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
    /// Print a shell completion script to standard output.
    ///
    /// Generated from the same definitions as the arguments, so it always matches this
    /// binary. Load it from your shell's startup file or its completions folder.
    #[command(
        after_help = "Examples:\n  wirecap completions bash > ~/.local/share/bash-completion/completions/wirecap\n  wirecap completions zsh > ~/.zfunc/_wirecap\n  wirecap completions fish > ~/.config/fish/completions/wirecap.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff) to standard output.
    ///
    /// `wirecap man` is wirecap(1), which lists the commands; `wirecap man COMMAND` is that
    /// command's page, wirecap-COMMAND(1), with all its options.
    #[command(
        after_help = "Examples:\n  wirecap man | man -l -\n  wirecap man convert > ~/.local/share/man/man1/wirecap-convert.1"
    )]
    Man(ManArgs),
}

/// Arguments of `wirecap completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `wirecap man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command whose own page to print (default: the page of wirecap itself).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    let mut names: Vec<&'static str> = Format::ALL.iter().map(|f| f.name()).collect();
    names.push("jsonl");
    PossibleValuesParser::new(names)
        .map(|s| s.parse::<Format>().expect("clap only passes listed names"))
}

/// Selection and redaction, shared by `convert` and `merge`.
///
/// Criteria of different kinds must all hold; repeating one flag gives alternatives.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Selection and redaction")]
pub struct FilterArgs {
    /// Keep requests to HOST (any case); with a port (HOST:PORT) only those to that port.
    #[arg(long, value_name = "HOST")]
    pub host: Vec<HostPattern>,

    /// Keep requests with this method (any case).
    #[arg(long, value_name = "METHOD")]
    pub method: Vec<MethodPattern>,

    /// Keep requests whose percent-decoded path, without the query, matches GLOB: `*` and
    /// `?` within a segment, `**` across segments (`/api/**`), `[...]` classes.
    #[arg(long, value_name = "GLOB")]
    pub path: Vec<PathPattern>,

    /// Keep exchanges whose response status is in RANGE: `200`, `2xx`, `400-499`, or a
    /// comma list of those. Requests without a response are left out.
    #[arg(long, value_name = "RANGE")]
    pub status: Vec<StatusRanges>,

    /// Keep requests sent at or after TIME (RFC 3339). Exchanges without a request timestamp
    /// (Hoverfly pairs, some http-types files) are left out.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<Timestamp>,

    /// Keep requests sent before TIME (RFC 3339; with --since, the window [since, until)).
    /// Exchanges without a request timestamp are left out.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<Timestamp>,

    /// Replace secret values with REDACTED before anything is written.
    ///
    /// Headers Authorization, Proxy-Authorization, X-API-Key, Cookie and Set-Cookie (cookie
    /// names and attributes and the auth scheme are kept); query parameters and form fields
    /// api_key, apikey, access_token, token, key, password, secret and signature (in the
    /// request target and in Referer and Location URLs); JSON body fields of those names;
    /// and their copies in HAR and http-types metadata. A replaced value of 6 or more bytes
    /// is also replaced wherever else it recurs in its exchange (a server echoing a cookie).
    /// The summary counts what was replaced, by kind.
    #[arg(long)]
    pub redact: bool,

    /// Also redact this header (implies --redact).
    #[arg(long, value_name = "NAME")]
    pub redact_header: Vec<String>,

    /// Also redact this query parameter and form field (implies --redact).
    #[arg(long, value_name = "NAME")]
    pub redact_query: Vec<String>,

    /// Also redact this JSON body field: a JSON pointer (/user/password) or a key name
    /// matched at any depth (implies --redact).
    #[arg(long, value_name = "POINTER|NAME")]
    pub redact_json: Vec<JsonField>,
}

/// Arguments of `wirecap convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Worker threads.
    #[command(flatten)]
    pub parallel: ThreadsArg,

    /// The file to read, or `-` for standard input.
    ///
    /// Several captures are read as one capture (rotated files of `tcpdump -C` or `-G`, in
    /// any order: they are read in the order of their first packet's time), so a connection
    /// that goes on from one file into the next is reassembled whole.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// Where to write; `-` or absent means standard output.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,

    /// What the inputs are and how to decrypt them.
    #[command(flatten)]
    pub input: InputArgs,

    /// The output format (default: from the output's extension, else http-types).
    #[arg(long, value_name = "FORMAT", value_parser = format_parser())]
    pub to: Option<Format>,

    /// Whether bad records are skipped.
    #[command(flatten)]
    pub keep_going: KeepGoingArg,

    /// Treat any loss (something the output format cannot hold) or skip (a record skipped by
    /// --keep-going, part of a capture that did not become an exchange) as an error: nothing is
    /// written.
    #[arg(long)]
    pub strict: bool,

    /// The JSON limits.
    #[command(flatten)]
    pub json_limits: JsonLimitArgs,

    /// The Hoverfly schemaVersion to write: v1, v2, v3, v4, v5, v5.1, v5.2 or v5.3.
    ///
    /// Default: the oldest v5.x that can express the content, so the file imports into the
    /// widest range of Hoverfly releases: v5 (Hoverfly v0.17+) for plain recordings; v5.1
    /// (v1.3+) for bodyFile, fixedDelay or logNormalDelay; v5.2 (v1.5+) once literals,
    /// variables, postServeAction, matcher config/doMatch or the array, form, jwt and negate
    /// matchers appear; v5.3 (v1.10+) for labels. What an older version cannot express is
    /// reported as loss.
    #[arg(long, value_name = "VERSION")]
    pub schema_version: Option<SchemaVersion>,

    /// meta.timeExported of Hoverfly output (RFC 3339), for reproducible files.
    ///
    /// Default: SOURCE_DATE_EPOCH when set, else the input's meta.timeExported, else now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub time_exported: Option<Timestamp>,

    /// How old Hoverfly files are upgraded.
    #[command(flatten)]
    pub hoverfly_compat: HoverflyCompatArg,

    /// Do not print the summary (warnings and errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,

    /// Captures: keep bodies as sent instead of undoing Content-Encoding gzip, deflate and br.
    #[arg(long)]
    pub keep_encoding: bool,

    /// Captures: leave out every exchange that is not whole: a request without a response, a
    /// body with bytes lost in a TCP gap, a body cut off by a reset, by the end of the capture
    /// or by --max-body-bytes (by default all are kept, each body marked as cut or with its
    /// missing ranges). The summary counts each kind dropped.
    #[arg(long)]
    pub drop_incomplete: bool,

    /// Write one file per host into DIR, named `{host}-recordings.jsonl` as HMT's recorder
    /// names them, instead of one output.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub split_by_host: Option<PathBuf>,

    /// Also write the run's summary (and, for captures, the full account) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,

    /// Selection and redaction.
    #[command(flatten)]
    pub filter: FilterArgs,

    /// Resource limits for captures.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Resource limits for reading captures (README "Limits"). Past one, what is over it is cut or
/// skipped and counted in the summary; the run goes on.
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits (captures)")]
pub struct LimitArgs {
    /// Out-of-order bytes buffered per TCP direction before the hole in front is declared a gap.
    #[arg(long, value_name = "BYTES", default_value_t = wirecap::capture::tcp_reassembly::MAX_BUFFERED_BYTES)]
    pub max_flow_buffer_bytes: usize,

    /// TCP flows tracked at once; past it, idle flows are finished early.
    #[arg(long, value_name = "N", default_value_t = wirecap::capture::MAX_OPEN_FLOWS)]
    pub max_open_flows: usize,

    /// Header (or trailer) fields in one HTTP/1 message; a message with more is skipped. With
    /// --max-head-bytes it also sets the HTTP/2 header list limit (head bytes + 32 a field).
    #[arg(long, value_name = "N", default_value_t = wirecap::capture::http1::MAX_HEADERS)]
    pub max_headers: usize,

    /// Bytes of one HTTP/1 message head; a longer head is skipped. An HTTP/2 header list may
    /// take this plus 32 bytes for each of --max-headers fields; a longer one drops its stream.
    #[arg(long, value_name = "BYTES", default_value_t = wirecap::capture::http1::MAX_HEAD_BYTES)]
    pub max_head_bytes: usize,

    /// Body bytes kept per message; a longer body is cut and marked so.
    #[arg(long, value_name = "BYTES", default_value_t = wirecap::capture::http1::MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
}

impl LimitArgs {
    /// The limits these flags set.
    pub fn to_limits(&self) -> wirecap::limits::Limits {
        wirecap::limits::Limits {
            flow_buffer_bytes: self.max_flow_buffer_bytes,
            open_flows: self.max_open_flows,
            headers: self.max_headers,
            head_bytes: self.max_head_bytes,
            body_bytes: self.max_body_bytes,
        }
    }
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
    /// Worker threads.
    #[command(flatten)]
    pub parallel: ThreadsArg,

    /// The files to count (`-` for standard input).
    #[arg(required = true)]
    pub inputs: Vec<String>,

    /// How inputs are read.
    #[command(flatten)]
    pub read: LookArgs,

    /// Break the count down by this key.
    #[arg(long, value_enum)]
    pub by: Option<CountBy>,

    /// How to print the result.
    #[arg(long, value_enum, default_value_t = CountFormat::Json)]
    pub format: CountFormat,

    /// Also write the counts as JSON to FILE (the shape of `--format json`).
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
}

/// Arguments of `wirecap stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Worker threads.
    #[command(flatten)]
    pub parallel: ThreadsArg,

    /// The files to look at (`-` for standard input).
    #[arg(required = true)]
    pub inputs: Vec<String>,

    /// How inputs are read.
    #[command(flatten)]
    pub read: LookArgs,

    /// How many hosts to list; the others are counted together.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Also write the tables as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
}

/// What the inputs of a reading command (`convert`, `merge`, `count`, `stats`) are, and how
/// to decrypt them.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Captures: TLS secrets in the NSS key log format (SSLKEYLOGFILE), to decrypt HTTPS.
    ///
    /// May be given several times. Secrets in the capture's own pcapng Decryption Secrets
    /// Blocks are used as well.
    #[arg(long, value_name = "FILE")]
    pub keylog: Vec<PathBuf>,

    /// The input format (default: per file, from the extension, then the content).
    #[arg(long, value_name = "FORMAT", value_parser = format_parser())]
    pub from: Option<Format>,
}

// The reading flags below are each declared once, for every command that takes them, and
// flattened where each command lists them; `commands::ReadFlags::resolve` turns them into
// options. They are one struct each, not one for all, so that each command's help keeps its
// own order of options.

/// `--hoverfly-compat`, for every command that reads Hoverfly files.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct HoverflyCompatArg {
    /// Upgrade old Hoverfly files exactly as Hoverfly v1.12.10 does, losses included.
    ///
    /// By default wirecap keeps what a v5.x file can express: legacy query strings become
    /// query maps, v1 delays stay, null fields read as absent, v1 recording headers stay exact.
    /// With this switch the legacy query and v1 delays are dropped, null v1 fields are
    /// rejected and every plain header becomes a glob joined by ";", as Hoverfly does; v5.x
    /// output (of convert and merge) then has Hoverfly's key order (sorted map keys, labels
    /// first).
    #[arg(long)]
    pub hoverfly_compat: bool,
}

/// `--keep-going`, for every command that reads records.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct KeepGoingArg {
    /// Skip records that do not parse, counting them as invalid; the exit status is then 1.
    #[arg(long)]
    pub keep_going: bool,
}

/// `--max-line-bytes` and `--max-json-depth`, for every command that reads JSON.
#[derive(Debug, Clone, Copy, Args)]
pub struct JsonLimitArgs {
    /// The longest JSONL line accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = wirecap::formats::http_types::MAX_LINE_BYTES)]
    pub max_line_bytes: usize,

    /// How deep arrays and objects may nest in one record (a JSONL line, a HAR entry, a
    /// Hoverfly document); a deeper record is invalid.
    #[arg(long, value_name = "N", default_value_t = wirecap::limits::MAX_JSON_DEPTH,
          value_parser = clap::value_parser!(u32).range(1..=MAX_JSON_DEPTH_FLAG).map(|n| n as usize))]
    pub max_json_depth: usize,
}

/// The most `--max-json-depth` takes: its stack ([`wirecap::limits::stack_bytes`]) stays
/// virtual memory that is only touched as deep as the input goes, but must be reservable.
const MAX_JSON_DEPTH_FLAG: i64 = 1_000_000;

/// How `count` and `stats` read their inputs, and what they say about it.
#[derive(Debug, Args)]
pub struct LookArgs {
    /// What the inputs are and how to decrypt them.
    #[command(flatten)]
    pub input: InputArgs,

    /// How old Hoverfly files are upgraded.
    #[command(flatten)]
    pub hoverfly_compat: HoverflyCompatArg,

    /// The JSON limits.
    #[command(flatten)]
    pub json_limits: JsonLimitArgs,

    /// Whether bad records are skipped.
    #[command(flatten)]
    pub keep_going: KeepGoingArg,

    /// Do not show the progress bar (warnings and errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,

    /// Resource limits for captures.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// What `merge` does when inputs answer the same request differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnConflictArg {
    /// Keep the first answer, as Hoverfly serves the first matching pair.
    First,
    /// Keep the last answer, in the place of the first.
    Last,
    /// Keep every answer, in input order.
    KeepAll,
    /// Stop at the first conflict; nothing is written (exit status 1).
    Error,
}

/// Arguments of `wirecap merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Worker threads.
    #[command(flatten)]
    pub parallel: ThreadsArg,

    /// The files to merge, in order (`-` for standard input, once).
    #[arg(required = true)]
    pub inputs: Vec<String>,

    /// Where to write; `-` or absent means standard output.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,

    /// What the inputs are and how to decrypt them.
    #[command(flatten)]
    pub input: InputArgs,

    /// The output format (default: from the output's extension, else a Hoverfly simulation).
    #[arg(long, value_name = "FORMAT", value_parser = format_parser())]
    pub to: Option<Format>,

    /// What to do when inputs answer the same request differently.
    #[arg(long, value_enum, default_value_t = OnConflictArg::First)]
    pub on_conflict: OnConflictArg,

    /// Record where each kept pair came from: `meta.source` in http-types, a
    /// `wirecap-source=FILE:PLACE` label in Hoverfly (which needs schemaVersion v5.3).
    #[arg(long)]
    pub provenance: bool,

    /// The Hoverfly schemaVersion to write (see `convert --help`).
    #[arg(long, value_name = "VERSION")]
    pub schema_version: Option<SchemaVersion>,

    /// meta.timeExported of Hoverfly output (RFC 3339). Default: SOURCE_DATE_EPOCH, else now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub time_exported: Option<Timestamp>,

    /// How old Hoverfly files are upgraded.
    #[command(flatten)]
    pub hoverfly_compat: HoverflyCompatArg,

    /// Whether bad records are skipped.
    #[command(flatten)]
    pub keep_going: KeepGoingArg,

    /// Treat any loss (something the output format cannot hold) or skip (a record skipped by
    /// --keep-going, part of a capture that did not become an exchange) as an error: nothing is
    /// written.
    #[arg(long)]
    pub strict: bool,

    /// The JSON limits.
    #[command(flatten)]
    pub json_limits: JsonLimitArgs,

    /// With one input, keep its order instead of sorting (several inputs always keep theirs).
    ///
    /// One input is normalised: duplicates folded, conflicts settled, and sorted. Hoverfly
    /// serves the first matching pair, so only runs of consecutive pairs that cannot match the
    /// same request are sorted: every matcher a lone `exact` (or a plain `array` under a header
    /// or query name), the same fields, header names and query keys, no requiresState. They
    /// are ordered by path, method, query, headers, body; every other pair stays in place.
    /// Exchanges (http-types output) are sorted by request time (none last), then the request;
    /// this holds the whole input in memory, which --keep-order avoids.
    #[arg(long)]
    pub keep_order: bool,

    /// Do not print the summary (warnings and errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,

    /// Also write the run's summary (tallies, losses, conflicts) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,

    /// Selection and redaction.
    #[command(flatten)]
    pub filter: FilterArgs,

    /// Resource limits for captures.
    #[command(flatten)]
    pub limits: LimitArgs,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(s).map_err(|e| e.to_string())
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

/// What `validate` checks beyond syntax and format detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateProfile {
    /// The schema, the semantic rules, and for http-types what py-http-types and hmt really
    /// require (the http-types-strict schema: response, protocol, host, path, headers; a
    /// warning for each blank line, which py-http-types cannot read), and what `convert`
    /// refuses (a field given twice).
    Strict,
    /// The schema only: the published http-types schema, or wirecap's Hoverfly schema for
    /// the file's version. No rules, no reader requirements.
    Schema,
}

/// Arguments of `wirecap validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Worker threads.
    #[command(flatten)]
    pub parallel: ThreadsArg,

    /// Files, directories or glob patterns (`-` for standard input).
    #[arg(required = true)]
    pub inputs: Vec<String>,

    /// Validate every input against this schema (see `wirecap schema list`).
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,

    /// What is checked: schema + rules (strict) or the schema alone (schema). For
    /// http-types it also picks the schema (http-types-strict or http-types) unless
    /// --schema names one; Hoverfly files use the same schema under both profiles.
    #[arg(long, value_enum, default_value_t = ValidateProfile::Strict)]
    pub profile: ValidateProfile,

    /// How to print problems.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,

    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,

    /// The JSON limits.
    #[command(flatten)]
    pub json_limits: JsonLimitArgs,

    /// Build a full JSON value for every http-types line (for benchmarks; same results).
    #[arg(long, hide = true)]
    pub no_fast_path: bool,

    /// Do not print the summary line (problems, warnings and errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,

    /// Also write the totals, and each file's, as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
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
