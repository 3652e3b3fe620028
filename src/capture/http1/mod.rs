//! HTTP/1.x over one reassembled TCP connection; see [`connection`] for the whole story.

mod connection;

pub use connection::*;
