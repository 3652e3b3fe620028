//! Reading a simulation document: `meta.schemaVersion` (through the one detector,
//! [`detect`](crate::formats::detect)) picks the version's reader, and each reader upgrades
//! its view into the model as Hoverfly upgrades its views
//! (`core/handlers/v2/simulation_views_upgrade.go`).

mod v1;
mod v4;
mod v5;

use super::shared::Ctx;
use super::{Error, Upgrade};
use crate::loss::Losses;
use crate::model::Simulation;
use crate::model::simulation::SimulationMeta;
use serde_json::Value;

/// The versions a document can be read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadVersion {
    V1,
    V2,
    V4,
    V5,
}

/// Reads a simulation document already parsed into `doc`.
pub fn read_value(
    doc: &Value,
    file: &str,
    upgrade: Upgrade,
    losses: &mut Losses,
) -> Result<Simulation, Error> {
    use crate::formats::detect::{self, Document};
    let version = match detect::document(doc) {
        Ok(Document::Simulation(v)) => v.to_owned(),
        Err(why) => return Err(Error::shape(file, why.pointer(), why.to_string())),
        Ok(_) => {
            return Err(Error::shape(
                file,
                "",
                "missing \"meta\" object (a simulation needs meta.schemaVersion)",
            ));
        }
    };
    let rv = match detect::read_as(&version) {
        Some("v1") => ReadVersion::V1,
        Some("v2") => ReadVersion::V2,
        Some("v3" | "v4") => ReadVersion::V4,
        Some(_) => ReadVersion::V5,
        None => {
            return Err(Error::UnsupportedVersion {
                file: file.to_owned(),
                version,
            });
        }
    };
    let meta = &doc["meta"];
    let text = |k: &str| meta.get(k).and_then(Value::as_str).map(str::to_owned);
    let meta = SimulationMeta {
        schema_version: Some(version.clone()),
        hoverfly_version: text("hoverflyVersion"),
        time_exported: text("timeExported"),
    };
    let mut ctx = Ctx { file, losses };
    let mut sim = match rv {
        ReadVersion::V1 => v1::read(doc, upgrade, &mut ctx)?,
        ReadVersion::V2 => v4::read(doc, v4::Templated::No, upgrade, &mut ctx)?,
        ReadVersion::V4 => v4::read(doc, v4::Templated::AsRead, upgrade, &mut ctx)?,
        ReadVersion::V5 => v5::read(doc, upgrade, &mut ctx)?,
    };
    sim.meta = meta;
    Ok(sim)
}
