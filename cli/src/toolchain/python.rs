//! Python components. (Being implemented.)

use super::{BuiltComponent, Language, Project, Toolchain};
use crate::Context;

/// The Python toolchain.
#[derive(Debug, Clone)]
pub struct PythonToolchain;

impl PythonToolchain {
    pub fn from_env() -> Self {
        Self
    }
}

impl Toolchain for PythonToolchain {
    fn language(&self) -> Language {
        Language::Python
    }

    fn version(&self, _ctx: &Context) -> anyhow::Result<String> {
        anyhow::bail!("python components are not supported yet")
    }

    fn fingerprint(&self) -> String {
        String::new()
    }

    fn build(&self, _project: &Project, _ctx: &Context) -> anyhow::Result<Vec<BuiltComponent>> {
        anyhow::bail!("python components are not supported yet")
    }
}
