//! Codecs below the model, shared by the model and the formats: JSON errors located by
//! pointer, line and column ([`json`]), how deep JSON text nests ([`nesting`]), and query
//! strings parsed and built the way each format's readers do ([`query`]). Nothing here
//! knows a format or the model.

pub mod json;
pub mod nesting;
pub mod query;
