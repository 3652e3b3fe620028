//! Query strings, parsed and built the way the readers of each format do it.
//!
//! http-types readers use Python's `urllib.parse.parse_qs` and `urlencode`: blank values are
//! dropped, `+` means space, and values are percent-decoded as UTF-8 with replacement.

/// Parses `a=1&b=x+y&a=2` like Python's `parse_qs(keep_blank_values=False)`: pairs in order
/// of first appearance, values grouped per name. Pairs without `=` or with an empty value
/// are dropped, as Python drops them.
pub fn parse_qs(query: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for pair in query.split('&') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let name = unquote_plus(name);
        let value = unquote_plus(value);
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => out.push((name, vec![value])),
        }
    }
    out
}

/// Percent-decodes `s` after turning `+` into space; invalid UTF-8 becomes U+FFFD.
pub fn unquote_plus(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|&c| hex(c)),
                bytes.get(i + 2).and_then(|&c| hex(c)),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Builds a query string like Python's `urlencode(pairs, doseq=True)`: `quote_plus` on names
/// and values, which keeps only `A-Za-z0-9_.-~` and encodes space as `+`.
pub fn urlencode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        quote_plus_into(name, &mut out);
        out.push('=');
        quote_plus_into(value, &mut out);
    }
    out
}

fn quote_plus_into(s: &str, out: &mut String) {
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// Parses a query string like Go's `url.ParseQuery`, which Hoverfly uses: pairs split on
/// `&`, keys and values unescaped with `+` as space, blank values kept, pairs whose escapes
/// are invalid or that contain `;` skipped (Go ≥ 1.17). Keys in order of first appearance.
pub fn go_parse_query(query: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for pair in query.split('&') {
        if pair.is_empty() || pair.contains(';') {
            continue;
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(name), Some(value)) = (go_unescape(name, true), go_unescape(value, true)) else {
            continue;
        };
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => out.push((name, vec![value])),
        }
    }
    out
}

/// Go's `url.QueryUnescape` (`plus` true) or `url.PathUnescape` (`plus` false); `None` on an
/// invalid escape, as Go errors. Invalid UTF-8 becomes U+FFFD.
pub fn go_unescape(s: &str, plus: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|&c| hex(c))?;
                let lo = bytes.get(i + 2).and_then(|&c| hex(c))?;
                out.push(hi * 16 + lo);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// A request path decoded as Go's `URL.Path` holds it; an invalid escape stays as written.
pub fn go_path_unescape(path: &str) -> String {
    go_unescape(path, false).unwrap_or_else(|| path.to_owned())
}

/// A decoded path escaped as Go's `URL.EscapedPath` writes it.
pub fn go_path_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Builds a query string like Go's `url.Values.Encode` over pairs already in order:
/// `QueryEscape` keeps the same unreserved set as Python's `quote_plus` (space as `+`), so
/// this is [`urlencode`].
pub fn go_encode_pairs(pairs: &[(String, String)]) -> String {
    urlencode(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! qs {
        ($q:expr => [$(($n:expr, [$($v:expr),*])),*]) => {
            assert_eq!(parse_qs($q), vec![$(($n.to_string(), vec![$($v.to_string()),*])),*], "query {:?}", $q)
        };
    }

    #[test]
    fn parse_qs_matches_python() {
        qs!("x=1&x=2&s=a+b" => [("x", ["1", "2"]), ("s", ["a b"])]);
        qs!("b=&c&d=%41%zz" => [("d", ["A%zz"])]);
        qs!("" => []);
        qs!("k=%E2%82%AC" => [("k", ["€"])]);
        qs!("k=%FF" => [("k", ["\u{FFFD}"])]);
    }

    #[test]
    fn go_parse_query_matches_go() {
        let q = go_parse_query("b=2&a=1%20x&a=0&e=&f&bad=%zz&semi=a;b&p=a+b");
        let names: Vec<_> = q.iter().map(|(n, v)| (n.as_str(), v.join(","))).collect();
        assert_eq!(
            names,
            [
                ("b", "2".into()),
                ("a", "1 x,0".into()),
                ("e", String::new()),
                ("f", String::new()),
                ("p", "a b".into())
            ]
        );
        assert_eq!(go_path_escape("/a b/ü"), "/a%20b/%C3%BC");
        assert_eq!(go_path_unescape("/a%20b+c"), "/a b+c");
        assert_eq!(
            go_encode_pairs(&[("k".into(), "x y".into()), ("k".into(), "&".into())]),
            "k=x+y&k=%26"
        );
    }

    #[test]
    fn urlencode_matches_python() {
        assert_eq!(
            urlencode([("x", "1"), ("x", "2"), ("s", "a b/€")]),
            "x=1&x=2&s=a+b%2F%E2%82%AC"
        );
    }
}
