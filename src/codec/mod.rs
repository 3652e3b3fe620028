//! Codecs below the model, shared by the model and the formats: JSON errors located by
//! pointer, line and column ([`json`]), and query strings parsed and built the way each
//! format's readers do ([`query`]). Nothing here knows a format or the model.

pub mod json;
pub mod query;
