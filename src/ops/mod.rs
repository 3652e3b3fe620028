//! Library operations over files: what a command does once its arguments are options.
//! Commands parse arguments, open outputs, print and set exit codes; the work is here, where
//! tests can call it directly.
//!
//! [`convert`] reads inputs into one output, [`merge`] many into one with each request
//! answered once, and [`count`] and [`stats`] look at files of any format, which [`look`]
//! opens. They are built on the loops and tallies of [`crate::convert`], [`crate::merge`],
//! [`crate::count`] and [`crate::stats`].

pub mod convert;
pub mod count;
pub mod look;
pub mod merge;
pub mod stats;
