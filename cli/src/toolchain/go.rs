//! Go components. (Being implemented.)

use super::{BuiltComponent, Language, Project, Toolchain};
use crate::Context;

/// The Go toolchain.
#[derive(Debug, Clone)]
pub struct GoToolchain;

impl GoToolchain {
    pub fn from_env() -> Self {
        Self
    }
}

impl Toolchain for GoToolchain {
    fn language(&self) -> Language {
        Language::Go
    }

    fn version(&self, _ctx: &Context) -> anyhow::Result<String> {
        anyhow::bail!("go components are not supported yet")
    }

    fn fingerprint(&self) -> String {
        String::new()
    }

    fn build(&self, _project: &Project, _ctx: &Context) -> anyhow::Result<Vec<BuiltComponent>> {
        anyhow::bail!("go components are not supported yet")
    }
}
