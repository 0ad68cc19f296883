//! `wcomp compose --explain`: for every instance in the graph and each of its imports, what
//! satisfied it, or why it stays an import, with type mismatches in WIT terms.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Composition, LeftReason};

/// How one import was resolved.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Resolution {
    /// Another component's export satisfies it.
    Satisfied { by: String, export: String },
    /// WASI: provided by the host at run time.
    Host,
    /// Stays an import of the composed component.
    Import { why: String },
    /// Not granted: answered inside the composition as a host granting nothing would.
    Denied {
        /// The `allow` entry that would grant it.
        grant: String,
        answers: std::collections::BTreeMap<String, super::deny::Answer>,
    },
}

/// One import of one instance.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub name: String,
    #[serde(flatten)]
    pub resolution: Resolution,
    /// Components that export this name with a type that does not fit, and why.
    pub rejected: Vec<RejectedExport>,
}

/// An export turned down for an import.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedExport {
    pub exporter: String,
    pub reason: String,
}

/// One instance and its imports.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceReport {
    pub name: String,
    pub root: bool,
    /// What it was granted, when the composition has a policy (`[component.<name>] allow`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted: Option<Vec<String>>,
    pub imports: Vec<ImportReport>,
}

/// Groups the composition's decisions by instance, in instantiation order.
pub fn explain(composition: &Composition) -> Vec<InstanceReport> {
    composition
        .instances
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let mut imports = Vec::new();
            for link in composition.links.iter().filter(|l| &l.importer == name) {
                imports.push((link.import.clone(), Resolution::Satisfied { by: link.exporter.clone(), export: link.export.clone() }));
            }
            for left in composition.left.iter().filter(|l| &l.importer == name) {
                let resolution = match &left.reason {
                    LeftReason::Wasi => Resolution::Host,
                    LeftReason::NoProvider => Resolution::Import { why: "no component exports it".into() },
                    LeftReason::Open => Resolution::Import { why: "the `.wac` file leaves it open".into() },
                    LeftReason::Mismatch { exporter, .. } => {
                        Resolution::Import { why: format!("the only export of that name (from `{exporter}`) has an incompatible type") }
                    }
                };
                imports.push((left.import.clone(), resolution));
            }
            for denied in composition.denied.iter().filter(|d| &d.importer == name) {
                imports.push((denied.import.clone(), Resolution::Denied { grant: denied.grant.clone(), answers: denied.answers.clone() }));
            }
            imports.sort_by(|a, b| a.0.cmp(&b.0));
            let imports = imports
                .into_iter()
                .map(|(import, resolution)| {
                    let rejected = composition
                        .rejected
                        .iter()
                        .filter(|r| &r.importer == name && r.import == import)
                        .map(|r| RejectedExport { exporter: r.exporter.clone(), reason: r.reason.clone() })
                        .collect();
                    ImportReport { name: import, resolution, rejected }
                })
                .collect();
            let granted = composition.granted.get(name).cloned();
            InstanceReport { name: name.clone(), root: index == 0, granted, imports }
        })
        .collect()
}

/// The report for people.
pub fn render(instances: &[InstanceReport]) -> String {
    let mut out = String::new();
    for instance in instances {
        let role = if instance.root {
            " (root: its exports are the composition's exports)"
        } else {
            ""
        };
        let _ = writeln!(out, "{}{role}", instance.name);
        match instance.granted.as_deref() {
            Some([]) => {
                let _ = writeln!(out, "  granted nothing beyond clocks, random and stdio");
            }
            Some(granted) => {
                let _ = writeln!(out, "  granted: {}", granted.join(", "));
            }
            None => {}
        }
        if instance.imports.is_empty() {
            let _ = writeln!(out, "  imports nothing");
        }
        let host: Vec<&str> = instance
            .imports
            .iter()
            .filter(|i| matches!(i.resolution, Resolution::Host) && i.rejected.is_empty())
            .map(|i| i.name.as_str())
            .collect();
        for import in instance
            .imports
            .iter()
            .filter(|i| !(matches!(i.resolution, Resolution::Host) && i.rejected.is_empty()))
        {
            let status = match &import.resolution {
                Resolution::Satisfied { by, export } if *export == import.name => {
                    format!("satisfied by `{by}`")
                }
                Resolution::Satisfied { by, export } => {
                    format!("satisfied by `{by}` (its export `{export}`)")
                }
                Resolution::Host => "left to the host (WASI)".to_owned(),
                Resolution::Import { why } => {
                    format!("left as an import of the composition: {why}")
                }
                Resolution::Denied { grant, answers } => {
                    // Methods of the interface's own resources cannot be reached: nothing
                    // denied hands one out.
                    let answers: Vec<String> = answers
                        .iter()
                        .filter(|(function, _)| !function.starts_with('['))
                        .map(|(function, answer)| format!("{function} {answer}"))
                        .collect();
                    format!("denied (not granted `{grant}`): {}", answers.join(", "))
                }
            };
            let _ = writeln!(out, "  import `{}`: {status}", import.name);
            for rejected in &import.rejected {
                let _ = writeln!(
                    out,
                    "      rejected `{}`: {}",
                    rejected.exporter, rejected.reason
                );
            }
        }
        if !host.is_empty() {
            let _ = writeln!(
                out,
                "  {} WASI import{}, left to the host: {}",
                host.len(),
                if host.len() == 1 { "" } else { "s" },
                host.join(", ")
            );
        }
    }
    out
}
