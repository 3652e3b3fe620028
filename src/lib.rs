//! wirecap turns recorded HTTP traffic into the files API-mocking tools run on, and keeps
//! those files honest.
//!
//! Every format converts to and from one canonical [`model::Exchange`]; [`formats`] holds a
//! reader and a writer per format and the dispatch between them. [`convert`] is the loop the
//! `convert` command runs, [`count`] tallies files like Hoverfly's count endpoint, [`stats`]
//! summarises hosts, methods, statuses, body sizes and latencies, [`loss`]
//! records what a format could not carry, [`output`] writes files atomically, and [`meter`]
//! counts the bytes of input read, for a progress display.
//! The `wirecap` binary only turns arguments into calls to this library.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capture;
pub mod codec;
pub mod convert;
pub mod count;
pub mod filter;
pub mod formats;
pub mod loss;
mod memo;
pub mod merge;
pub mod meter;
pub mod model;
pub mod ops;
pub mod output;
pub mod stats;
#[cfg(test)]
mod test_support;
pub mod validate;
