//! What surrounds an exchange: when it happened and where it was read from.

use serde::{Serialize, Serializer};
use std::fmt;

/// A point in time with nanosecond precision, held as UTC.
///
/// Parsing and printing follow RFC 3339. Offsets are applied on read and every timestamp is
/// written in UTC, which keeps output deterministic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// Why an RFC 3339 timestamp did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected an RFC 3339 date-time like 2023-11-14T22:13:20.003+00:00, found {found:?}")]
pub struct TimestampError {
    found: String,
}

impl Timestamp {
    /// Seconds and nanoseconds since the Unix epoch. `nanos` beyond a second carry over.
    pub fn from_unix(secs: i64, nanos: u32) -> Self {
        Self {
            secs: secs + i64::from(nanos / 1_000_000_000),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix_secs(self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH[:MM]]`. A missing offset means UTC, as the
    /// py-http-types and Java http-types readers treat it; `t`, `z` and a space separator are
    /// accepted as RFC 3339 §5.6 allows.
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimestampError> {
        parse(s.as_bytes()).ok_or_else(|| TimestampError {
            found: s.to_owned(),
        })
    }

    /// RFC 3339 in UTC with a `+00:00` offset, as py-http-types writes it. The fraction has
    /// 6 digits (microseconds) unless nanoseconds are present, and is left out when zero.
    pub fn to_rfc3339(self) -> String {
        let mut s = self.format_without_offset();
        s.push_str("+00:00");
        s
    }

    /// RFC 3339 in UTC with a `Z` suffix, as Go's `time.RFC3339Nano` writes it (Hoverfly).
    pub fn to_rfc3339_z(self) -> String {
        let mut s = self.format_without_offset();
        s.push('Z');
        s
    }

    /// Digit by digit: two timestamps go into every line of a conversion, and `format!` made
    /// them a few percent of its time.
    fn format_without_offset(self) -> String {
        let days = self.secs.div_euclid(86_400);
        let sod = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut s = String::with_capacity(36);
        match u64::try_from(y) {
            Ok(y) if y <= 9999 => push_digits(&mut s, y, 4),
            _ => s.push_str(&format!("{y:04}")),
        }
        s.push('-');
        push_digits(&mut s, m.unsigned_abs(), 2);
        s.push('-');
        push_digits(&mut s, d.unsigned_abs(), 2);
        s.push('T');
        let sod = sod.unsigned_abs();
        push_digits(&mut s, sod / 3600, 2);
        s.push(':');
        push_digits(&mut s, sod / 60 % 60, 2);
        s.push(':');
        push_digits(&mut s, sod % 60, 2);
        let nanos = u64::from(self.nanos);
        if nanos % 1000 != 0 {
            s.push('.');
            push_digits(&mut s, nanos, 9);
        } else if nanos != 0 {
            s.push('.');
            push_digits(&mut s, nanos / 1000, 6);
        }
        s
    }
}

/// Appends the last `width` decimal digits of `v`, zero-padded.
fn push_digits(s: &mut String, v: u64, width: u32) {
    for place in (0..width).rev() {
        let digit = (v / 10u64.pow(place) % 10) as u8;
        s.push(char::from(b'0' + digit));
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at + n)?;
    part.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn parse(b: &[u8]) -> Option<Timestamp> {
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if matches!(b.get(i), Some(b'.' | b',')) {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    let offset_secs = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &b[i + 1..];
            let (h, m) = match rest.len() {
                2 => (digits(rest, 0, 2)?, 0),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            if sign == b'+' { off } else { -off }
        }
        Some(_) => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_secs;
    Some(Timestamp { secs, nanos })
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Where in its input an exchange was found, for error messages and provenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Location {
    /// A 1-based line of a JSONL file.
    Line(u64),
    /// A 1-based packet number of a capture (the request's first packet).
    Packet(u64),
    /// A 0-based index into a JSON array (Hoverfly pairs, HAR entries).
    Index(u64),
}

/// Where an exchange came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Source {
    /// The input's display name (a path, or `-` for stdin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The place within that input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The TCP connection, as `client-ip:port -> server-ip:port`, for captures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    /// The TLS session a capture's exchange was decrypted from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
}

/// What is known of the TLS session an exchange travelled in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsInfo {
    /// The negotiated version, e.g. `TLSv1.3`.
    pub version: String,
    /// The cipher suite's IANA name, e.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher: String,
    /// The server name the client asked for (SNI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// The application protocol agreed by ALPN (`h2`, `http/1.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file.as_deref().unwrap_or("<input>"))?;
        match self.location {
            Some(Location::Line(n)) => write!(f, ":{n}"),
            Some(Location::Packet(n)) => write!(f, ": packet {n}"),
            Some(Location::Index(n)) => write!(f, ": entry {n}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_digit_by_digit_matches_the_format_macro() {
        let reference = |t: Timestamp| {
            let (days, sod) = (t.secs.div_euclid(86_400), t.secs.rem_euclid(86_400));
            let (y, m, d) = civil_from_days(days);
            let hms = format!("{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60);
            let fraction = match t.nanos {
                0 => String::new(),
                n if n % 1000 == 0 => format!(".{:06}", n / 1000),
                n => format!(".{n:09}"),
            };
            format!("{y:04}-{m:02}-{d:02}T{hms}{fraction}")
        };
        let secs = [
            -62_167_219_201,
            -62_135_596_800,
            -1,
            0,
            59,
            951_782_400,
            1_700_000_000,
            253_402_300_799,
            253_402_300_800,
        ];
        for s in secs {
            for nanos in [0, 1, 999, 1000, 120_000, 999_999_000, 999_999_999] {
                let t = Timestamp::from_unix(s, nanos);
                assert_eq!(t.format_without_offset(), reference(t), "{s} {nanos}");
            }
        }
    }

    macro_rules! rfc3339 {
        ($input:expr => error) => {
            assert!(
                Timestamp::parse_rfc3339($input).is_err(),
                "input {:?}",
                $input
            )
        };
        ($input:expr => $utc:expr) => {
            assert_eq!(
                Timestamp::parse_rfc3339($input)
                    .map(Timestamp::to_rfc3339)
                    .as_deref(),
                Ok($utc),
                "input {:?}",
                $input
            )
        };
    }

    #[test]
    fn parses_offsets_fractions_and_naive_times() {
        rfc3339!("2018-11-13T20:20:39+00:00" => "2018-11-13T20:20:39+00:00");
        rfc3339!("2018-11-13T20:20:39Z" => "2018-11-13T20:20:39+00:00");
        rfc3339!("2018-11-13T22:20:39.5+02:00" => "2018-11-13T20:20:39.500000+00:00");
        rfc3339!("2018-11-13T20:20:39.123456789-01:30" => "2018-11-13T21:50:39.123456789+00:00");
        rfc3339!("2018-11-13T20:20:39" => "2018-11-13T20:20:39+00:00");
        rfc3339!("1969-12-31T23:59:59.25Z" => "1969-12-31T23:59:59.250000+00:00");
        rfc3339!("2024-02-29T00:00:00Z" => "2024-02-29T00:00:00+00:00");
    }

    #[test]
    fn rejects_what_is_not_a_date_time() {
        rfc3339!("yesterday" => error);
        rfc3339!("2023-02-29T00:00:00Z" => error);
        rfc3339!("2018-11-13T20:20:39.Z" => error);
        rfc3339!("2018-11-13T20:20:39+1" => error);
        rfc3339!("2018-11-13T24:00:00Z" => error);
    }

    #[test]
    fn unix_round_trip() {
        let t = Timestamp::from_unix(1_700_000_000, 3_000_000);
        assert_eq!(t.to_rfc3339(), "2023-11-14T22:13:20.003000+00:00");
        assert_eq!(t.to_rfc3339_z(), "2023-11-14T22:13:20.003000Z");
    }
}
