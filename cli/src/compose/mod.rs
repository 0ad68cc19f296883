//! Composition with wac-graph: plug components into each other's imports, transitively.
//!
//! The socket is instantiated first; each of its imports is satisfied by the one plug that
//! exports a matching interface (same name, or a semver-compatible version, with a compatible
//! type), and each plug brought in has its own imports satisfied the same way. A WASI import
//! no plug exports is left to the host; one a plug exports is plugged like any other, because
//! that is what a WASI middleware is for: `wasi:http/middleware` imports and exports
//! `wasi:http/handler`, and its import is the next handler in the chain. Only component bytes
//! cross into this module, because wac-graph carries its own wasm-tools versions.

pub mod deny;
pub mod explain;
pub mod grants;
pub mod graph;
pub mod wac;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

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
    /// A deny component could not be made for a member's ungranted imports.
    #[error("cannot deny `{importer}` the WASI interfaces it was not granted ({interfaces})")]
    #[diagnostic(help(
        "grant them in `[component.{importer}] allow` instead, or report this as a wcomp bug"
    ))]
    Deny {
        importer: String,
        interfaces: String,
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
    /// What it may use of WASI (`[component.<name>] allow`); `None` for no policy: every WASI
    /// import goes to the host.
    pub grants: Option<grants::Grants>,
}

impl ComposeInput {
    /// Reads the component file `path` (`shown` as the user wrote it); `.wat` text is
    /// accepted too. Its name is the file stem.
    pub fn read(path: &Path, shown: &Path) -> anyhow::Result<Self> {
        let name = shown.file_stem().map_or_else(
            || shown.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        let bytes = fs_err::read(path)?;
        let bytes = if path.extension().is_some_and(|ext| ext == "wat") {
            wat::parse_bytes(&bytes)
                .map_err(|mut err| {
                    err.set_path(shown);
                    anyhow::Error::new(err).context(format!(
                        "`{}` is not valid WebAssembly text",
                        shown.display()
                    ))
                })?
                .into_owned()
        } else {
            bytes
        };
        Ok(Self {
            name,
            origin: shown.display().to_string(),
            bytes,
            grants: None,
        })
    }
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
    /// A `.wac` file left it open (`...`, or an `import` statement).
    Open,
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
    /// Imports plugged with a deny component because the importer was not granted them.
    pub denied: Vec<DeniedImport>,
    /// Each instance under a policy, with what it was granted (`env:HOME`, `fs`, …).
    pub granted: BTreeMap<String, Vec<String>>,
}

/// A WASI import a member was not granted, answered inside the composition.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeniedImport {
    pub importer: String,
    pub import: String,
    /// The `allow` entry that would grant it.
    pub grant: String,
    /// What each of its functions answers.
    pub answers: BTreeMap<String, deny::Answer>,
}

/// Composes `options.socket` with `options.plugs`.
pub fn compose(options: ComposeOptions) -> Result<Composition, ComposeError> {
    let ComposeOptions {
        socket,
        plugs,
        wires,
        require_every_plug,
    } = options;
    let mut composer = Composer::new(wires);
    // The bytes move into wac-graph (no copy: Python components are tens of megabytes).
    for input in std::iter::once(socket).chain(plugs) {
        composer.register(input)?;
    }
    composer.instantiate_socket();
    while let Some(importer) = composer.queue.pop_front() {
        composer.plug_imports_of(importer)?;
    }
    if require_every_plug {
        composer.check_every_plug_is_used()?;
    }
    composer.export_the_sockets_exports()?;
    composer.encode()
}

/// The composition being built: the inputs registered with wac-graph (index 0 is the
/// socket), the instances made so far and what happened to each import.
struct Composer {
    graph: CompositionGraph,
    packages: Vec<PackageId>,
    /// Each input's name, by index.
    names: Vec<String>,
    wires: Vec<Wire>,
    instances: BTreeMap<usize, NodeId>,
    /// Instances whose imports are still to be plugged.
    queue: VecDeque<usize>,
    links: Vec<Link>,
    left: Vec<LeftImport>,
    rejected: Vec<Rejection>,
    /// Each input's grants, by index.
    grants: Vec<Option<grants::Grants>>,
    /// The deny component instantiated for a member (by index), and what it answers.
    denials: BTreeMap<usize, (NodeId, deny::Answers)>,
    denied: Vec<DeniedImport>,
}

impl Composer {
    fn new(wires: Vec<Wire>) -> Self {
        Self {
            graph: CompositionGraph::new(),
            packages: Vec::new(),
            names: Vec::new(),
            wires,
            instances: BTreeMap::new(),
            queue: VecDeque::new(),
            links: Vec::new(),
            left: Vec::new(),
            rejected: Vec::new(),
            grants: Vec::new(),
            denials: BTreeMap::new(),
            denied: Vec::new(),
        }
    }

    /// Hands an input's bytes to wac-graph.
    fn register(&mut self, input: ComposeInput) -> Result<(), ComposeError> {
        // Keys only need to be unique inside this graph.
        let key = format!("wcomp:input{}", self.packages.len());
        let origin = input.origin.clone();
        // wac-graph names the package by its key; the user knows the file.
        let invalid = |source: &dyn std::fmt::Display| ComposeError::InvalidComponent {
            origin: origin.clone(),
            source: anyhow::anyhow!(
                "{}",
                format!("{source:#}").replace(&format!("package `{key}` "), "it ")
            ),
        };
        let package = Package::from_bytes(&key, None, input.bytes, self.graph.types_mut())
            .map_err(|source| invalid(&source))?;
        let id = self
            .graph
            .register_package(package)
            .map_err(|err| invalid(&anyhow::Error::from(err)))?;
        self.packages.push(id);
        self.names.push(input.name);
        self.grants.push(input.grants);
        Ok(())
    }

    fn instantiate_socket(&mut self) {
        let socket = self.graph.instantiate(self.packages[0]);
        self.instances.insert(0, socket);
        self.queue.push_back(0);
    }

    fn names_of(&self, index: usize, exports: bool) -> Vec<String> {
        let ty = &self.graph.types()[self.graph[self.packages[index]].ty()];
        let names = if exports { &ty.exports } else { &ty.imports };
        names.keys().cloned().collect()
    }

    /// Plugs every import of instance `importer`: a wire's choice, else the one input that
    /// exports it (WASI imports included), else the host for WASI.
    fn plug_imports_of(&mut self, importer: usize) -> Result<(), ComposeError> {
        for import in self.names_of(importer, false) {
            let wired = self
                .wires
                .iter()
                .find(|w| w.importer == self.names[importer] && w.import == import)
                .cloned();
            if let Some(wire) = wired {
                self.plug_wired(importer, import, &wire)?;
            } else {
                self.plug_automatically(importer, import)?;
            }
        }
        Ok(())
    }

    fn leave(&mut self, importer: usize, import: String, reason: LeftReason) {
        self.left.push(LeftImport {
            importer: self.names[importer].clone(),
            import,
            reason,
        });
    }

    /// `[compose.wire]` chose the exporter: it must export a fitting item.
    fn plug_wired(
        &mut self,
        importer: usize,
        import: String,
        wire: &Wire,
    ) -> Result<(), ComposeError> {
        let bad = |problem: &str| ComposeError::BadWire {
            importer: wire.importer.clone(),
            import: wire.import.clone(),
            exporter: wire.exporter.clone(),
            problem: problem.to_owned(),
        };
        let exporter = (1..self.names.len())
            .find(|i| self.names[*i] == wire.exporter && *i != importer)
            .ok_or_else(|| bad("is not one of the other components"))?;
        let found = matching_export(
            &self.graph,
            self.packages[exporter],
            self.packages[importer],
            &import,
        );
        let export = match found {
            Some(Ok(export)) => export,
            Some(Err(chain)) => {
                let detail = describe_mismatch(&chain, &wire.exporter, &wire.importer);
                return Err(bad(&format!(
                    "exports it with an incompatible type: {detail}"
                )));
            }
            None => return Err(bad("does not export it")),
        };
        self.link(importer, exporter, import, export)
    }

    /// The one other input exporting a fitting item satisfies the import; none leaves it an
    /// import of the composition (saying why: WASI is the host's), several is an error naming
    /// them.
    fn plug_automatically(&mut self, importer: usize, import: String) -> Result<(), ComposeError> {
        let mut candidates = Vec::new();
        let mut mismatch = None;
        for exporter in (1..self.names.len()).filter(|e| *e != importer) {
            let found = matching_export(
                &self.graph,
                self.packages[exporter],
                self.packages[importer],
                &import,
            );
            match found {
                Some(Ok(export)) => candidates.push((exporter, export)),
                Some(Err(chain)) => {
                    let detail =
                        describe_mismatch(&chain, &self.names[exporter], &self.names[importer]);
                    self.rejected.push(Rejection {
                        importer: self.names[importer].clone(),
                        import: import.clone(),
                        exporter: self.names[exporter].clone(),
                        reason: detail.clone(),
                    });
                    mismatch = Some((exporter, detail));
                }
                None => {}
            }
        }
        match candidates.as_slice() {
            [] if is_wasi(&import)
                && self.grants[importer]
                    .as_ref()
                    .is_some_and(|grants| !grants.allows(&import)) =>
            {
                self.deny(importer, import)
            }
            [] => {
                // A WASI export that does not fit is noted among the rejections; the host
                // still provides the import.
                let reason = match mismatch {
                    _ if is_wasi(&import) => LeftReason::Wasi,
                    Some((exporter, detail)) => LeftReason::Mismatch {
                        exporter: self.names[exporter].clone(),
                        detail,
                    },
                    None => LeftReason::NoProvider,
                };
                self.leave(importer, import, reason);
                Ok(())
            }
            [(exporter, export)] => {
                let (exporter, export) = (*exporter, export.clone());
                self.link(importer, exporter, import, export)
            }
            several => Err(ComposeError::Ambiguous {
                importer: self.names[importer].clone(),
                import,
                candidates: several
                    .iter()
                    .map(|(i, _)| format!("`{}`", self.names[*i]))
                    .collect::<Vec<_>>()
                    .join(", "),
                first: self.names[several[0].0].clone(),
            }),
        }
    }

    /// Instantiates `exporter` (once, queueing its own imports) and feeds its `export` to
    /// `importer`'s `import`.
    fn link(
        &mut self,
        importer: usize,
        exporter: usize,
        import: String,
        export: String,
    ) -> Result<(), ComposeError> {
        let node = match self.instances.get(&exporter) {
            Some(node) => *node,
            None => {
                let node = self.graph.instantiate(self.packages[exporter]);
                self.instances.insert(exporter, node);
                self.queue.push_back(exporter);
                node
            }
        };
        let alias = self
            .graph
            .alias_instance_export(node, &export)
            .map_err(graph_error)?;
        self.graph
            .set_instantiation_argument(self.instances[&importer], &import, alias)
            .map_err(graph_error)?;
        self.links.push(Link {
            importer: self.names[importer].clone(),
            import,
            exporter: self.names[exporter].clone(),
            export,
        });
        Ok(())
    }

    /// Plugs `importer`'s `import`, which its grants do not allow, with its deny component
    /// (made at its first such import, for all of them at once, since interfaces of one
    /// package share types).
    fn deny(&mut self, importer: usize, import: String) -> Result<(), ComposeError> {
        if !self.denials.contains_key(&importer) {
            let interfaces: BTreeSet<String> = self
                .names_of(importer, false)
                .into_iter()
                .filter(|name| {
                    is_wasi(name)
                        && self.grants[importer]
                            .as_ref()
                            .is_some_and(|grants| !grants.allows(name))
                })
                .collect();
            let bytes = self.graph[self.packages[importer]].bytes();
            let denial =
                deny::deny_component(bytes, &interfaces).map_err(|source| ComposeError::Deny {
                    importer: self.names[importer].clone(),
                    interfaces: interfaces
                        .iter()
                        .map(|name| format!("`{name}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    source,
                })?;
            let key = format!("wcomp:deny{importer}");
            let package = Package::from_bytes(&key, None, denial.bytes, self.graph.types_mut())
                .map_err(|err| graph_error(std::io::Error::other(format!("{err:#}"))))?;
            let package = self.graph.register_package(package).map_err(graph_error)?;
            let node = self.graph.instantiate(package);
            self.denials.insert(importer, (node, denial.answers));
        }
        let (node, answers) = &self.denials[&importer];
        let answers = answers.get(&import).cloned().unwrap_or_default();
        let alias = self
            .graph
            .alias_instance_export(*node, &import)
            .map_err(graph_error)?;
        self.graph
            .set_instantiation_argument(self.instances[&importer], &import, alias)
            .map_err(graph_error)?;
        let grant =
            grants::kind_of(&import).map_or_else(String::new, |kind| kind.word().to_owned());
        self.denied.push(DeniedImport {
            importer: self.names[importer].clone(),
            import,
            grant,
            answers,
        });
        Ok(())
    }

    /// Every plug must satisfy something; one that does not is an error saying why.
    fn check_every_plug_is_used(&self) -> Result<(), ComposeError> {
        let Some(unused) = (1..self.names.len()).find(|i| !self.instances.contains_key(i)) else {
            return Ok(());
        };
        let name = &self.names[unused];
        let exports = self
            .names_of(unused, true)
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>();
        let exports = if exports.is_empty() {
            "nothing".to_owned()
        } else {
            exports.join(", ")
        };
        let rejections: Vec<String> = self
            .rejected
            .iter()
            .filter(|r| r.exporter == *name)
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
        Err(ComposeError::UnusedPlug {
            name: name.clone(),
            exports,
            why,
        })
    }

    /// The socket's exports become the composition's.
    fn export_the_sockets_exports(&mut self) -> Result<(), ComposeError> {
        let socket = self.instances[&0];
        for name in self.names_of(0, true) {
            let alias = self
                .graph
                .alias_instance_export(socket, &name)
                .map_err(graph_error)?;
            self.graph.export(alias, &name).map_err(graph_error)?;
        }
        Ok(())
    }

    fn encode(self) -> Result<Composition, ComposeError> {
        let options = EncodeOptions {
            processor: Some(wac_graph::Processor {
                name: "wcomp",
                version: env!("CARGO_PKG_VERSION"),
            }),
            ..EncodeOptions::default()
        };
        let bytes = self.graph.encode(options).map_err(|err| match err {
            wac_graph::EncodeError::GraphContainsCycle { .. } => ComposeError::Cycle,
            err => ComposeError::Graph { source: err.into() },
        })?;
        let instances = self
            .instances
            .keys()
            .map(|index| self.names[*index].clone())
            .collect();
        let granted = self
            .instances
            .keys()
            .filter_map(|index| {
                let grants = self.grants[*index].as_ref()?;
                let list = grants.grants.iter().map(ToString::to_string).collect();
                Some((self.names[*index].clone(), list))
            })
            .collect();
        Ok(Composition {
            bytes,
            instances,
            links: self.links,
            left: self.left,
            rejected: self.rejected,
            denied: self.denied,
            granted,
        })
    }
}

/// A wac-graph refusal while building the graph.
fn graph_error(err: impl std::error::Error + Send + Sync + 'static) -> ComposeError {
    ComposeError::Graph { source: err.into() }
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

impl Surface {
    /// Whether one of these exports answers one of `importer`'s imports by name: the same
    /// name, or a semver-compatible version of it (`wasi:http/handler@0.3.2` for an import of
    /// `@0.3.0`), as plugging matches them. Types are not compared.
    pub fn feeds(&self, importer: &Surface) -> bool {
        self.exports.iter().any(|export| {
            importer
                .imports
                .iter()
                .any(|import| are_semver_compatible(export, import))
        })
    }
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
