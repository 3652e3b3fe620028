//! Output formats for validation results: text for people, JSON lines for tools, GitHub
//! workflow annotations, and JUnit XML for CI dashboards. All write to any `io::Write`; the
//! run summary line is separate ([`summary_line`]) so it can go to stderr.

use super::{Problem, Severity, Summary};
use std::io::{self, Write};

/// How problems are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// `FILE:LINE:COLUMN: /pointer: message [rule]`, one per line.
    Text,
    /// One JSON object per problem, one per line.
    Json,
    /// `::error file=…,line=…,col=…,title=…::message` workflow commands.
    Github,
    /// One JUnit XML document for the whole run, one test case per file.
    Junit,
}

/// Writes one problem of `file` (not used for JUnit, which needs the whole run).
pub fn problem(
    out: &mut impl Write,
    format: OutputFormat,
    file: &str,
    p: &Problem,
) -> io::Result<()> {
    let f = &p.finding;
    match format {
        OutputFormat::Text | OutputFormat::Junit => writeln!(out, "{file}:{p}"),
        OutputFormat::Json => {
            let obj = serde_json::json!({
                "file": file,
                "line": p.line,
                "column": p.column,
                "pointer": f.pointer,
                "severity": f.severity.as_str(),
                "rule": f.rule,
                "message": f.message,
            });
            writeln!(out, "{obj}")
        }
        OutputFormat::Github => {
            let pointer = if f.pointer.is_empty() {
                "/"
            } else {
                &f.pointer
            };
            writeln!(
                out,
                "::{} file={},line={},col={},title={}::{}",
                f.severity.as_str(),
                gh_property(file),
                p.line,
                p.column,
                gh_property(&format!("wirecap {}", f.rule)),
                gh_data(&format!("{pointer}: {}", f.message)),
            )
        }
    }
}

/// Escapes a workflow command's message (GitHub Actions `toolkit/command.ts` rules).
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `N files, M documents, K errors, W warnings`.
pub fn summary_line(files: usize, total: &Summary) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{}, {}, {}, {}",
        plural(files as u64, "file", "files"),
        plural(total.documents, "document", "documents"),
        plural(total.errors, "error", "errors"),
        plural(total.warnings, "warning", "warnings"),
    )
}

fn counts(s: &Summary) -> String {
    let line = summary_line(1, s);
    // Drop "1 file, N documents, " to keep "K errors, W warnings".
    line.splitn(3, ", ").nth(2).unwrap_or_default().to_owned()
}

/// One file's results, for JUnit.
#[derive(Debug)]
pub struct FileResult {
    /// The file as named on the command line (or found in a walk).
    pub file: String,
    /// Its counts, or the reason it could not be read.
    pub summary: Result<Summary, String>,
    /// Its problems in file order.
    pub problems: Vec<Problem>,
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push_str("&#xFFFD;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes a JUnit XML report: a test case per file that fails on errors (and on warnings
/// when `deny_warnings`); warnings otherwise go to the case's `system-out`.
pub fn junit(out: &mut impl Write, results: &[FileResult], deny_warnings: bool) -> io::Result<()> {
    let failed = |r: &FileResult| match &r.summary {
        Err(_) => true,
        Ok(s) => s.errors > 0 || (deny_warnings && s.warnings > 0),
    };
    let failures = results.iter().filter(|r| failed(r)).count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="wirecap validate" tests="{}" failures="{failures}">"#,
        results.len()
    )?;
    writeln!(
        out,
        r#"  <testsuite name="wirecap validate" tests="{}" failures="{failures}" errors="0">"#,
        results.len()
    )?;
    for r in results {
        let file = xml(&r.file);
        write!(
            out,
            r#"    <testcase classname="wirecap.validate" name="{file}""#
        )?;
        let lines: Vec<String> = r
            .problems
            .iter()
            .map(|p| format!("{}:{p}", r.file))
            .collect();
        match &r.summary {
            Err(e) => {
                writeln!(out, ">")?;
                writeln!(out, r#"      <error message="{}"/>"#, xml(e))?;
            }
            Ok(s) if failed(r) => {
                writeln!(out, ">")?;
                writeln!(
                    out,
                    r#"      <failure message="{}" type="invalid">{}</failure>"#,
                    counts(s),
                    xml(&lines.join("\n"))
                )?;
            }
            Ok(_) if !lines.is_empty() => {
                writeln!(out, ">")?;
                writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    xml(&lines.join("\n"))
                )?;
            }
            Ok(_) => {
                writeln!(out, "/>")?;
                continue;
            }
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

impl Severity {
    /// Whether this severity fails the run.
    pub fn fails(self, deny_warnings: bool) -> bool {
        self == Severity::Error || deny_warnings
    }
}
