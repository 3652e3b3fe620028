//! Ordered HTTP header fields, as they appeared on the wire or in the file.
//!
//! Order, duplicates and the original case of names are all kept: Hoverfly and http-types
//! group by name, HAR and pcap do not, and only the richest form can feed every writer.

use serde::Serialize;

/// One header field: a name in its original case and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name, case as sent.
    pub name: String,
    /// The field value, without surrounding whitespace.
    pub value: String,
}

/// Debug dumps show a field as `["Name", "value"]`, one line per field in goldens.
impl Serialize for Header {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.name, &self.value).serialize(s)
    }
}

/// An ordered list of header fields that keeps duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Headers(Vec<Header>);

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a field at the end, keeping any earlier field of the same name.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push(Header {
            name: name.into(),
            value: value.into(),
        });
    }

    /// The first value of `name`, compared case-insensitively.
    pub fn first<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.all(name).next()
    }

    /// Every value of `name` in order, compared case-insensitively.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Whether any field is named `name`, compared case-insensitively.
    pub fn contains(&self, name: &str) -> bool {
        self.first(name).is_some()
    }

    /// Removes every field named `name`, compared case-insensitively.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|h| !h.name.eq_ignore_ascii_case(name));
    }

    /// Fields in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.0.iter()
    }

    /// Fields in order, to change values in place.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Header> {
        self.0.iter_mut()
    }

    /// Number of fields, duplicates included.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Groups fields by exact name, in order of first appearance, as Hoverfly and http-types
    /// store them. Names differing only in case stay separate groups, so nothing merges
    /// silently; writers that need one key per name decide how to fold them.
    pub fn grouped(&self) -> Vec<(&str, Vec<&str>)> {
        self.grouped_except(&[]).0
    }

    /// [`Headers::grouped`] without the fields named in `names` (any case), and those fields.
    pub fn grouped_except(&self, names: &[&str]) -> (Vec<(&str, Vec<&str>)>, Vec<&Header>) {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        let mut left_out = Vec::new();
        for h in &self.0 {
            if names.iter().any(|n| h.name.eq_ignore_ascii_case(n)) {
                left_out.push(h);
                continue;
            }
            match groups.iter_mut().find(|(n, _)| *n == h.name) {
                Some((_, values)) => values.push(&h.value),
                None => groups.push((&h.name, vec![&h.value])),
            }
        }
        (groups, left_out)
    }

    /// Whether grouping by name would change the order of fields, i.e. a name reappears
    /// after another name came between.
    pub fn is_interleaved(&self) -> bool {
        (2..self.0.len()).any(|i| {
            let name = &self.0[i].name;
            *name != self.0[i - 1].name && self.0[..i - 1].iter().any(|h| h.name == *name)
        })
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(n, v)| Header {
                    name: n.into(),
                    value: v.into(),
                })
                .collect(),
        )
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        pairs.iter().copied().collect()
    }

    #[test]
    fn lookup_ignores_case_and_keeps_order() {
        let h = headers(&[("Set-Cookie", "a"), ("set-cookie", "b"), ("Host", "x")]);
        assert_eq!(h.all("SET-COOKIE").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(h.first("host"), Some("x"));
    }

    #[test]
    fn grouping_keeps_first_appearance_order() {
        let h = headers(&[("B", "1"), ("A", "2"), ("B", "3")]);
        assert_eq!(h.grouped(), vec![("B", vec!["1", "3"]), ("A", vec!["2"])]);
        assert!(h.is_interleaved());
        assert!(!headers(&[("B", "1"), ("B", "3"), ("A", "2")]).is_interleaved());
    }
}
