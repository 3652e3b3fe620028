//! What every application-protocol parser of a connection shares: which direction is which,
//! what the connection's exchanges are stamped with, and how a finished exchange is handed on.
//!
//! [`super::session`] picks a parser per connection ([`super::http1`] or [`super::http2`]),
//! behind an optional TLS layer ([`super::tls`]); each parser builds its exchanges with
//! [`FlowInfo`], so scheme, host fallback and provenance are decided in one place.

use super::tcp_reassembly::Origin;
use super::{Note, Notes};
use crate::model::{Exchange, Location, Scheme, Source, TlsInfo};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Which kind of message a direction carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Client to server.
    Request,
    /// Server to client.
    Response,
}

impl Role {
    /// `request` or `response`: what a message of this direction is called, for notes.
    pub fn message(self) -> &'static str {
        match self {
            Role::Request => "request",
            Role::Response => "response",
        }
    }

    /// `client to server` or `server to client`, for notes.
    pub fn direction(self) -> &'static str {
        match self {
            Role::Request => "client to server",
            Role::Response => "server to client",
        }
    }
}

/// What a connection's exchanges are stamped with.
#[derive(Debug, Clone)]
pub struct FlowInfo {
    /// The input's display name.
    pub file: Arc<str>,
    /// `client -> server`.
    pub label: String,
    /// The server's address.
    pub server: SocketAddr,
    /// The TLS session the bytes were decrypted from; `None` for cleartext.
    pub tls: Option<Arc<TlsInfo>>,
}

impl FlowInfo {
    /// `https` for decrypted connections, else `http`.
    pub fn scheme(&self) -> Scheme {
        if self.tls.is_some() {
            Scheme::Https
        } else {
            Scheme::Http
        }
    }

    /// The host and port to use when the request names none: the TLS server name, else the
    /// server's address; the port is the one seen on the wire.
    pub fn fallback_authority(&self) -> (String, Option<u16>) {
        let port = Some(self.server.port());
        if let Some(sni) = self.tls.as_ref().and_then(|t| t.sni.as_ref()) {
            return (sni.clone(), port);
        }
        let host = match self.server.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        (host, port)
    }

    /// Notes `n` bytes missing from `role`'s direction of this flow.
    pub fn note_gap(&self, notes: &mut Notes, role: Role, n: u64) {
        notes.record(Note::Gap, || {
            format!(
                "{}: {} missing ({}){}",
                self.label,
                missing(n),
                role.direction(),
                if self.tls.is_some() && n < super::tls::UNKNOWN_GAP {
                    ", plaintext of lost TLS records"
                } else {
                    ""
                }
            )
        });
    }

    /// An exchange's provenance: this flow, starting at `start`.
    pub fn source(&self, start: Origin) -> Source {
        Source {
            file: Some(self.file.to_string()),
            location: Some(Location::Packet(start.packet)),
            flow: Some(self.label.clone()),
            tls: self.tls.as_deref().cloned(),
        }
    }
}

/// The size of a gap, for notes: a TLS layer reports plaintext lost in lost records as a gap
/// of [`super::tls::UNKNOWN_GAP`] bytes.
pub fn missing(n: u64) -> String {
    if n >= super::tls::UNKNOWN_GAP {
        "TLS records".to_owned()
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
impl FlowInfo {
    /// A cleartext flow to `server`, for the parsers' unit tests.
    pub(crate) fn for_test(server: &str) -> Self {
        FlowInfo {
            file: Arc::from("t.pcap"),
            label: "c -> s".into(),
            server: server.parse().expect("a socket address"),
            tls: None,
        }
    }
}

/// Choices that change what is produced.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpOptions {
    /// Keep content-encoded bodies as sent.
    pub keep_encoding: bool,
    /// Leave out every exchange that is not whole: no response, or a body with bytes lost in
    /// a gap or cut off (see [`crate::capture::settle_incomplete`]).
    pub drop_incomplete: bool,
    /// Header, head and body limits in force.
    pub limits: crate::limits::Limits,
}

/// A finished exchange with its sort key.
#[derive(Debug)]
pub struct Ready {
    /// The request's first-byte time.
    pub ts: crate::model::Timestamp,
    /// Order within the connection.
    pub index: u64,
    /// The exchange.
    pub exchange: Exchange,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(tls: Option<TlsInfo>) -> FlowInfo {
        FlowInfo {
            file: Arc::from("t.pcap"),
            label: "c -> s".into(),
            server: "10.0.0.2:8443".parse().expect("addr"),
            tls: tls.map(Arc::new),
        }
    }

    #[test]
    fn without_a_host_the_server_name_then_the_address_stand_in() {
        let sni = TlsInfo {
            sni: Some("api.test".into()),
            ..TlsInfo::default()
        };
        assert_eq!(
            info(Some(sni)).fallback_authority(),
            ("api.test".into(), Some(8443))
        );
        assert_eq!(
            info(Some(TlsInfo::default())).fallback_authority().0,
            "10.0.0.2"
        );
        assert_eq!(info(None).fallback_authority().0, "10.0.0.2");
    }

    #[test]
    fn decrypted_flows_are_https_and_say_so_in_provenance() {
        let tls = TlsInfo {
            version: "TLSv1.3".into(),
            ..TlsInfo::default()
        };
        let i = info(Some(tls.clone()));
        assert_eq!(i.scheme(), Scheme::Https);
        assert_eq!(info(None).scheme(), Scheme::Http);
        let origin = Origin {
            ts: crate::model::Timestamp::from_unix(0, 0),
            packet: 4,
        };
        let source = i.source(origin);
        assert_eq!(source.tls, Some(tls));
        assert_eq!(source.location, Some(Location::Packet(4)));
    }
}
