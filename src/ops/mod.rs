//! Library operations over files: what a command does once its arguments are options.
//! Commands parse arguments, open outputs, print and set exit codes; the work is here, where
//! tests can call it directly.
//!
//! [`merge`] is the `merge` command's run over its inputs; [`look`] opens a file of any
//! format for `count` and `stats`. `convert` and `count` were library operations already
//! ([`crate::convert`], [`crate::count`]).

pub mod look;
pub mod merge;
