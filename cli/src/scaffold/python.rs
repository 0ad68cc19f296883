//! Python projects. (Being implemented.)

use wit_parser::WorldId;

use super::{ProjectFile, ScaffoldError};
use crate::wit::WitPackage;

/// The example project.
pub fn example(name: &str) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    Err(ScaffoldError::Unsupported {
        item: name.to_owned(),
        reason: "python projects are not supported yet".into(),
    })
}

/// A project implementing `world` from `package`.
pub fn from_world(
    name: &str,
    _package: &WitPackage,
    _world: WorldId,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    Err(ScaffoldError::Unsupported {
        item: name.to_owned(),
        reason: "python projects are not supported yet".into(),
    })
}
