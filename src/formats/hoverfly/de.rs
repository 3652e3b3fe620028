//! Deserialising Hoverfly views the way Hoverfly's Go structs read JSON: maps in file order,
//! `null` told from absent, Go `int`s, status codes; and the whole document parsed within a
//! size limit, with errors located by JSON pointer.

use super::{Error, MAX_DOCUMENT_BYTES};
use crate::codec::json::to_pointer;
use crate::model::simulation::Fields;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::io::{self, Read as _};
use std::marker::PhantomData;

/// A JSON object read in file order; `null` values inside are kept as the value type allows.
#[derive(Debug, Clone, Default)]
pub(super) struct OrderedMap<V>(pub Fields<V>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V_<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V_<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = a.next_key::<String>()? {
                    let v = a.next_value::<V>()?;
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(V_(PhantomData))
    }
}

/// A field that may be absent, `null`, or a value: Hoverfly's v1 schema rejects `null`,
/// wirecap reads it as absent unless asked to behave like Hoverfly.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) enum Nullable<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Nullable<T> {
    pub(super) fn into_option(self) -> Option<T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }
    pub(super) fn is_null(&self) -> bool {
        matches!(self, Nullable::Null)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Nullable::Value(v),
            None => Nullable::Null,
        })
    }
}

/// An integer as Go's `int` reads it: no strings, no fractions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                i64::try_from(v)
                    .map(Int)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
        }
        d.deserialize_any(IntVisitor)
    }
}

/// A response status: an integer from 0 to 999.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Status(pub u16);

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Int(v) = Int::deserialize(d)?;
        u16::try_from(v)
            .ok()
            .filter(|s| *s <= 999)
            .map(Status)
            .ok_or_else(|| {
                de::Error::invalid_value(de::Unexpected::Signed(v), &"a status code from 0 to 999")
            })
    }
}

/// Deserialises a view from a parsed document, locating errors by JSON pointer.
pub(super) fn from_value<T: DeserializeOwned>(value: &Value, file: &str) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = to_pointer(e.path());
        Error::shape(file, pointer, plain_message(&e.into_inner().to_string()))
    })
}

/// serde's `invalid type: string "200", expected an integer` as
/// `expected an integer, found "200"`: what is wanted first, then what is there.
fn plain_message(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("invalid type: ") else {
        return msg.to_owned();
    };
    let Some((found, expected)) = rest.rsplit_once(", expected ") else {
        return rest.to_owned();
    };
    let found = if let Some(s) = found.strip_prefix("string ") {
        s.to_owned()
    } else if let Some(v) = ["integer ", "boolean ", "floating point "]
        .iter()
        .find_map(|p| found.strip_prefix(p))
    {
        v.trim_matches('`').to_owned()
    } else {
        match found {
            "map" => "an object".to_owned(),
            "sequence" => "an array".to_owned(),
            other => other.to_owned(),
        }
    };
    let expected = if expected.starts_with("struct ") || expected == "a map" {
        "an object"
    } else if expected == "a sequence" {
        "an array"
    } else {
        expected
    };
    format!("expected {expected}, found {found}")
}

/// Reads a whole document into a JSON value, within [`MAX_DOCUMENT_BYTES`] and nested at
/// most `depth` deep.
pub fn parse_document(reader: impl io::Read, file: &str, depth: usize) -> Result<Value, Error> {
    let mut bytes = Vec::new();
    io::Read::take(reader, MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            file: file.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(Error::shape(
            file,
            "",
            format!("document larger than {MAX_DOCUMENT_BYTES} bytes"),
        ));
    }
    let bytes = crate::formats::detect::after_bom(&bytes);
    crate::codec::json::from_slice_within::<Value>(bytes, depth).map_err(|error| Error::Syntax {
        file: file.to_owned(),
        error,
    })
}
