//! Composition with wac-graph: plug components into each other's imports, transitively.
//!
//! The socket is instantiated first; each of its imports is satisfied by the one plug that
//! exports a matching interface (same name, or a semver-compatible version, with a compatible
//! type), and each plug brought in has its own imports satisfied the same way. WASI imports
//! are always left to the host. Only component bytes cross into this module, because wac-graph
//! carries its own wasm-tools versions.

pub mod explain;
pub mod graph;

use std::collections::{BTreeMap, VecDeque};

use wac_graph::types::{Package, SubtypeChecker, are_semver_compatible};
use wac_graph::{CompositionGraph, EncodeOptions, NodeId, PackageId};

/// Errors from composing components.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ComposeError {
    /// An input is not a component wac-graph can read.
    #[error("`{origin}` is not a usable component")]
    InvalidComponent {
        origin: String,
        #[source]
        source: anyhow::Error,
    },
    /// A plug was given that no instance in the graph imports from.
    #[error("plug `{name}` satisfies no import of the socket or of the other plugs")]
    #[diagnostic(help("`{name}` exports {exports}; {why}"))]
    UnusedPlug {
        name: String,
        exports: String,
        why: String,
    },
    /// More than one plug could satisfy an import.
    #[error("`{importer}` imports `{import}`, and several components export it: {candidates}")]
    #[diagnostic(help(
        "choose one in wcomp.toml: `[compose.wire]` `{importer} = {{ \"{import}\" = \"{first}\" }}` (or pass only one of them as a plug)"
    ))]
    Ambiguous {
        importer: String,
        import: String,
        candidates: String,
        first: String,
    },
    /// An explicit wire names an exporter that cannot satisfy the import.
    #[error("`{importer}` import `{import}` is wired to `{exporter}`, which {problem}")]
    #[diagnostic(help("fix the line for `{importer}` under `[compose.wire]` in wcomp.toml"))]
    BadWire {
        importer: String,
        import: String,
        exporter: String,
        problem: String,
    },
    /// The plugs depend on each other in a loop.
    #[error("the components import from each other in a cycle, which a composition cannot express")]
    #[diagnostic(help(
        "break the cycle: move the shared interface into a component that imports none of the others"
    ))]
    Cycle,
    /// wac-graph refused to build or encode the graph.
    #[error("could not build the composed component")]
    Graph {
        #[source]
        source: anyhow::Error,
    },
}

/// A component taking part in a composition.
#[derive(Debug, Clone)]
pub struct ComposeInput {
    /// A short name for messages and wires (usually the file stem).
    pub name: String,
    /// Where it came from, as the user would name it (a file path), for errors about it.
    pub origin: String,
    pub bytes: Vec<u8>,
}

/// What to compose: the socket's exports become the composition's exports.
#[derive(Debug, Clone)]
pub struct ComposeOptions {
    pub socket: ComposeInput,
    pub plugs: Vec<ComposeInput>,
    /// Explicit choices that override automatic plugging.
    pub wires: Vec<Wire>,
    /// Whether a plug that satisfies nothing is an error (it is for `wcomp compose` with
    /// explicit plugs; a workspace may hold components outside the graph).
    pub require_every_plug: bool,
}

/// `importer`'s import `import` comes from `exporter`.
#[derive(Debug, Clone)]
pub struct Wire {
    pub importer: String,
    pub import: String,
    pub exporter: String,
}

/// An import satisfied by another component's export.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Link {
    pub importer: String,
    pub import: String,
    pub exporter: String,
    pub export: String,
}

/// Why an import was left for the host.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeftReason {
    /// A WASI interface: provided by the runtime.
    Wasi,
    /// No component in the composition exports it.
    NoProvider,
    /// A component exports the name, but its type does not fit the import.
    Mismatch { exporter: String, detail: String },
}

/// An import of some instance that remains an import of the composed component.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeftImport {
    pub importer: String,
    pub import: String,
    pub reason: LeftReason,
}

/// An export that matched an import by name but not by type.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rejection {
    pub importer: String,
    pub import: String,
    pub exporter: String,
    /// The mismatch in WIT terms: `function `analyze`, its result, field `longest`: …`.
    pub reason: String,
}

/// The composed component and how it was wired.
#[derive(Debug)]
pub struct Composition {
    pub bytes: Vec<u8>,
    /// Components instantiated in the graph, the socket first.
    pub instances: Vec<String>,
    pub links: Vec<Link>,
    pub left: Vec<LeftImport>,
    pub rejected: Vec<Rejection>,
}

/// Composes `options.socket` with `options.plugs`.
pub fn compose(options: ComposeOptions) -> Result<Composition, ComposeError> {
    let ComposeOptions {
        socket,
        plugs,
        wires,
        require_every_plug,
    } = options;
    /// What remains of an input once wac-graph owns its bytes.
    struct Named {
        name: String,
    }
    let mut graph = CompositionGraph::new();
    let mut packages = Vec::new();
    let mut inputs = Vec::new();
    // The bytes move into wac-graph (no copy: Python components are tens of megabytes).
    for (index, input) in std::iter::once(socket).chain(plugs).enumerate() {
        // Keys only need to be unique inside this graph.
        let key = format!("wcomp:input{index}");
        let (name, origin) = (input.name, input.origin);
        // wac-graph names the package by its key; the user knows the file.
        let invalid = |source: &dyn std::fmt::Display| ComposeError::InvalidComponent {
            origin: origin.clone(),
            source: anyhow::anyhow!(
                "{}",
                format!("{source:#}").replace(&format!("package `{key}` "), "it ")
            ),
        };
        let package = Package::from_bytes(&key, None, input.bytes, graph.types_mut())
            .map_err(|source| invalid(&source))?;
        let id = graph
            .register_package(package)
            .map_err(|err| invalid(&anyhow::Error::from(err)))?;
        packages.push(id);
        inputs.push(Named { name });
    }

    let mut instances: BTreeMap<usize, NodeId> = BTreeMap::new();
    instances.insert(0, graph.instantiate(packages[0]));
    let mut queue = VecDeque::from([0usize]);
    let mut links = Vec::new();
    let mut left = Vec::new();
    let mut rejected = Vec::new();

    while let Some(importer) = queue.pop_front() {
        let imports: Vec<String> = graph.types()[graph[packages[importer]].ty()]
            .imports
            .keys()
            .cloned()
            .collect();
        for import in imports {
            let wired = wires
                .iter()
                .find(|w| w.importer == inputs[importer].name && w.import == import);
            if let Some(wire) = wired {
                let bad = |problem: &str| ComposeError::BadWire {
                    importer: wire.importer.clone(),
                    import: wire.import.clone(),
                    exporter: wire.exporter.clone(),
                    problem: problem.to_owned(),
                };
                let exporter = (1..inputs.len())
                    .find(|i| inputs[*i].name == wire.exporter && *i != importer)
                    .ok_or_else(|| bad("is not one of the other components"))?;
                let export = match matching_export(
                    &graph,
                    packages[exporter],
                    packages[importer],
                    &import,
                ) {
                    Some(Ok(export)) => export,
                    Some(Err(chain)) => {
                        let detail = describe_mismatch(&chain, &wire.exporter, &wire.importer);
                        return Err(bad(&format!(
                            "exports it with an incompatible type: {detail}"
                        )));
                    }
                    None => return Err(bad("does not export it")),
                };
                link_instances(
                    &mut graph,
                    &mut instances,
                    &mut queue,
                    &packages,
                    importer,
                    exporter,
                    &import,
                    &export,
                )?;
                links.push(Link {
                    importer: inputs[importer].name.clone(),
                    import,
                    exporter: inputs[exporter].name.clone(),
                    export,
                });
                continue;
            }
            if is_wasi(&import) {
                left.push(LeftImport {
                    importer: inputs[importer].name.clone(),
                    import,
                    reason: LeftReason::Wasi,
                });
                continue;
            }
            let mut candidates = Vec::new();
            let mut mismatch = None;
            for exporter in 1..inputs.len() {
                if exporter == importer {
                    continue;
                }
                match matching_export(&graph, packages[exporter], packages[importer], &import) {
                    Some(Ok(export)) => candidates.push((exporter, export)),
                    Some(Err(chain)) => {
                        let detail = describe_mismatch(
                            &chain,
                            &inputs[exporter].name,
                            &inputs[importer].name,
                        );
                        rejected.push(Rejection {
                            importer: inputs[importer].name.clone(),
                            import: import.clone(),
                            exporter: inputs[exporter].name.clone(),
                            reason: detail.clone(),
                        });
                        mismatch = Some((exporter, detail));
                    }
                    None => {}
                }
            }
            match candidates.as_slice() {
                [] => {
                    let reason = match mismatch {
                        Some((exporter, detail)) => LeftReason::Mismatch {
                            exporter: inputs[exporter].name.clone(),
                            detail,
                        },
                        None => LeftReason::NoProvider,
                    };
                    left.push(LeftImport {
                        importer: inputs[importer].name.clone(),
                        import,
                        reason,
                    });
                }
                [(exporter, export)] => {
                    link_instances(
                        &mut graph,
                        &mut instances,
                        &mut queue,
                        &packages,
                        importer,
                        *exporter,
                        &import,
                        export,
                    )?;
                    links.push(Link {
                        importer: inputs[importer].name.clone(),
                        import,
                        exporter: inputs[*exporter].name.clone(),
                        export: export.clone(),
                    });
                }
                several => {
                    return Err(ComposeError::Ambiguous {
                        importer: inputs[importer].name.clone(),
                        import,
                        candidates: several
                            .iter()
                            .map(|(i, _)| format!("`{}`", inputs[*i].name))
                            .collect::<Vec<_>>()
                            .join(", "),
                        first: inputs[several[0].0].name.clone(),
                    });
                }
            }
        }
    }

    for (index, input) in inputs.iter().enumerate().skip(1) {
        if require_every_plug && !instances.contains_key(&index) {
            let exports = graph.types()[graph[packages[index]].ty()]
                .exports
                .keys()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>();
            let exports = if exports.is_empty() {
                "nothing".to_owned()
            } else {
                exports.join(", ")
            };
            let rejections: Vec<String> = rejected
                .iter()
                .filter(|r| r.exporter == input.name)
                .map(|r| {
                    format!(
                        "`{}` import `{}` does not fit: {}",
                        r.importer, r.import, r.reason
                    )
                })
                .collect();
            let why = if rejections.is_empty() {
                "no component in the composition imports any of these".to_owned()
            } else {
                rejections.join("; ")
            };
            return Err(ComposeError::UnusedPlug {
                name: input.name.clone(),
                exports,
                why,
            });
        }
    }

    let socket = instances[&0];
    let exports: Vec<String> = graph.types()[graph[packages[0]].ty()]
        .exports
        .keys()
        .cloned()
        .collect();
    for name in exports {
        let alias = graph
            .alias_instance_export(socket, &name)
            .map_err(|err| ComposeError::Graph { source: err.into() })?;
        graph
            .export(alias, &name)
            .map_err(|err| ComposeError::Graph { source: err.into() })?;
    }

    let options = EncodeOptions {
        processor: Some(wac_graph::Processor {
            name: "wcomp",
            version: env!("CARGO_PKG_VERSION"),
        }),
        ..EncodeOptions::default()
    };
    let bytes = graph.encode(options).map_err(|err| match err {
        wac_graph::EncodeError::GraphContainsCycle { .. } => ComposeError::Cycle,
        err => ComposeError::Graph { source: err.into() },
    })?;
    let instances = instances
        .keys()
        .map(|index| inputs[*index].name.clone())
        .collect();
    Ok(Composition {
        bytes,
        instances,
        links,
        left,
        rejected,
    })
}

/// Instantiates `exporter` (once) and feeds its `export` to `importer`'s `import`.
#[allow(clippy::too_many_arguments)]
fn link_instances(
    graph: &mut CompositionGraph,
    instances: &mut BTreeMap<usize, NodeId>,
    queue: &mut VecDeque<usize>,
    packages: &[PackageId],
    importer: usize,
    exporter: usize,
    import: &str,
    export: &str,
) -> Result<(), ComposeError> {
    let exporter_node = *instances.entry(exporter).or_insert_with(|| {
        queue.push_back(exporter);
        graph.instantiate(packages[exporter])
    });
    let alias = graph
        .alias_instance_export(exporter_node, export)
        .map_err(|err| ComposeError::Graph { source: err.into() })?;
    graph
        .set_instantiation_argument(instances[&importer], import, alias)
        .map_err(|err| ComposeError::Graph { source: err.into() })?;
    Ok(())
}

/// Describes a subtype failure from wac's checker (a chain of contexts ending in the cause)
/// in WIT terms, with who holds which type:
/// `function `analyze`, its result, field `longest`: `string` in `analyzer`, `u32` in `report``.
pub fn describe_mismatch(chain: &[String], exporter: &str, importer: &str) -> String {
    let mut path = Vec::new();
    let mut cause = String::new();
    for message in chain {
        let step = message.strip_prefix("mismatched type for ");
        match step {
            Some(step) => path.push(match step {
                "function result" => "its result".to_owned(),
                "list element" => "the list element".to_owned(),
                "option" => "the option's value".to_owned(),
                other => other
                    .replace("export ", "")
                    .replace("function parameter ", "parameter ")
                    .replace("record field ", "field ")
                    .replace("variant case ", "case "),
            }),
            None => {
                cause = message.clone();
                break;
            }
        }
    }
    let cause = match cause
        .strip_prefix("expected ")
        .and_then(|rest| rest.split_once(", found "))
    {
        Some((expected, found)) => {
            format!("`{found}` in `{exporter}`, `{expected}` in `{importer}`")
        }
        None => format!("{cause} (`{exporter}` exports, `{importer}` imports)"),
    };
    if path.is_empty() {
        cause
    } else {
        format!("{}: {cause}", path.join(", "))
    }
}

/// WASI interfaces are the host's business.
pub fn is_wasi(name: &str) -> bool {
    name.starts_with("wasi:")
}

/// The export of `exporter` that can satisfy `import` of `importer`: `Some(Ok(name))` when it
/// fits, `Some(Err(why))` when the name matches but the type does not, `None` otherwise.
fn matching_export(
    graph: &CompositionGraph,
    exporter: PackageId,
    importer: PackageId,
    import: &str,
) -> Option<Result<String, Vec<String>>> {
    let types = graph.types();
    let exports = &types[graph[exporter].ty()].exports;
    let import_ty = types[graph[importer].ty()].imports[import];
    let (name, export_ty) = exports.get_key_value(import).or_else(|| {
        exports
            .iter()
            .find(|(name, _)| are_semver_compatible(name, import))
    })?;
    let mut cache = Default::default();
    let mut checker = SubtypeChecker::new(&mut cache);
    Some(
        match checker.is_subtype(*export_ty, types, import_ty, types) {
            Ok(()) => Ok(name.clone()),
            Err(err) => Err(err.chain().map(ToString::to_string).collect()),
        },
    )
}

/// The names a component imports and exports at its top level.
#[derive(Debug, Clone, Default)]
pub struct Surface {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

/// Reads the top-level import and export names of a component (nested components and modules
/// are skipped).
pub fn surface(bytes: &[u8]) -> anyhow::Result<Surface> {
    use wasmparser::{Parser, Payload};
    let mut surface = Surface::default();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    surface.imports.push(import?.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    surface.exports.push(export?.name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(surface)
}
