//! `.wac` compositions: wac's own language, read with `wac-parser`, for what automatic plugging
//! cannot guess (two instances of one component, a renamed export, imports left open on
//! purpose); and the way back, an automatic composition written out as a `.wac` file to edit.
//!
//! Package names resolve as `wac compose` resolves them: an explicit file first (`--dep`, or a
//! workspace member), then a `deps/` directory laid out as `deps/<ns>/<name>.wasm`. Every error
//! carries the file's text, so it is shown at its line and column. Registry references are
//! turned into files by the caller: like the rest of `compose`, this module sees only bytes.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};
use wac_graph::types::BorrowedPackageKey;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId, NodeKind};
use wac_parser::{Document, Expr, ImportType, InstantiationArgument, PrimaryExpr, Statement};

use super::graph::{NodeInfo, detect_language};
use super::{ComposeInput, Composition, LeftImport, LeftReason, Link, is_wasi};

/// A component file that a package name stands for.
#[derive(Debug, Clone)]
pub struct Dep {
    /// `ns:name`, or `ns:name@1.2.3` for that version only.
    pub name: String,
    pub path: PathBuf,
    /// Where it came from as the user would name it: the file as written, or the member.
    pub shown: String,
}

/// A `.wac` file and where its package names come from.
#[derive(Debug, Clone)]
pub struct WacOptions {
    /// The file as the user named it; errors point into it under this name.
    pub shown: String,
    pub source: String,
    /// Explicit packages; they win over `deps/`.
    pub deps: Vec<Dep>,
    /// The directory of the file, whose `deps/` is searched after `deps`.
    pub dir: Option<PathBuf>,
}

/// A composed `.wac` file.
#[derive(Debug)]
pub struct WacComposition {
    pub composition: Composition,
    /// Each instance's component (language, size), for `wcomp graph`.
    pub info: Vec<NodeInfo>,
}

/// An error in a `.wac` file, or in a package it names, with the file's text so that the
/// renderer shows the line and column.
#[derive(Debug)]
pub struct WacError {
    source_code: NamedSource<String>,
    inner: Box<dyn Diagnostic + Send + Sync + 'static>,
}

impl WacError {
    fn new(options: &WacOptions, inner: impl Diagnostic + Send + Sync + 'static) -> Self {
        Self {
            source_code: NamedSource::new(&options.shown, options.source.clone()),
            inner: Box::new(inner),
        }
    }

    /// The 1-based line and column of the error's first label.
    pub fn location(&self) -> Option<(usize, usize)> {
        let label = self.inner.labels()?.next()?;
        let contents = self.source_code.read_span(label.inner(), 0, 0).ok()?;
        Some((contents.line() + 1, contents.column() + 1))
    }
}

impl fmt::Display for WacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl std::error::Error for WacError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl Diagnostic for WacError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.help()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.inner.labels()
    }
}

/// Errors finding the component a package name stands for.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum PackageError {
    /// No explicit file and no file under `deps/` for the name.
    #[error("unknown package `{name}`: {tried}")]
    #[diagnostic(help("pass `--dep {name}=<file.wasm>`, or put the component at `{expected}`"))]
    Unknown {
        name: String,
        tried: String,
        expected: String,
        #[label("no component for `{name}`")]
        span: SourceSpan,
    },
    /// The file found for the name cannot be read as WebAssembly.
    #[error("package `{name}` (`{file}`) cannot be read")]
    Unreadable {
        name: String,
        file: String,
        #[source]
        source: anyhow::Error,
        #[label("`{name}` is `{file}`")]
        span: SourceSpan,
    },
}

/// Composes the `.wac` file in `options`.
pub fn compose(options: &WacOptions) -> Result<WacComposition, WacError> {
    let document = Document::parse(&options.source).map_err(|err| WacError::new(options, err))?;
    let mut packages = IndexMap::new();
    let mut facts = HashMap::new();
    for (key, span) in package_references(&document) {
        if packages.contains_key(&key) {
            continue;
        }
        let input = find_package(key, span, options).map_err(|err| WacError::new(options, err))?;
        facts.insert(
            key.to_string(),
            (detect_language(&input.bytes), input.bytes.len() as u64),
        );
        packages.insert(key, input.bytes);
    }
    let resolution = document
        .resolve(packages)
        .map_err(|err| WacError::new(options, err))?;
    // wac-parser's own `processed-by` entry, not wcomp's: the same file then gives the same
    // bytes as `wac compose`, which is what a user switching between the two expects.
    let bytes = resolution
        .encode(EncodeOptions::default())
        .map_err(|err| WacError::new(options, err))?;
    Ok(describe(resolution.graph(), bytes, &facts))
}

/// The packages the document instantiates or imports from, each once per place it is named.
/// Packages named only inside type declarations are left to `wac-parser`, which reports
/// them at their place too.
fn package_references<'a>(document: &'a Document<'a>) -> Vec<(BorrowedPackageKey<'a>, SourceSpan)> {
    let mut found = Vec::new();
    if let Some(targets) = &document.directive.targets {
        found.push((
            BorrowedPackageKey::from_name_and_version(targets.name, targets.version.as_ref()),
            targets.span,
        ));
    }
    for statement in &document.statements {
        match statement {
            Statement::Import(import) => {
                if let ImportType::Package(path) = &import.ty {
                    found.push((
                        BorrowedPackageKey::from_name_and_version(path.name, path.version.as_ref()),
                        path.span,
                    ));
                }
            }
            Statement::Let(statement) => expression_references(&statement.expr, &mut found),
            Statement::Export(statement) => expression_references(&statement.expr, &mut found),
            Statement::Type(_) => {}
        }
    }
    found
}

fn expression_references<'a>(
    expr: &'a Expr<'a>,
    found: &mut Vec<(BorrowedPackageKey<'a>, SourceSpan)>,
) {
    match &expr.primary {
        PrimaryExpr::New(new) => {
            found.push((
                BorrowedPackageKey::from_name_and_version(
                    new.package.name,
                    new.package.version.as_ref(),
                ),
                new.package.span,
            ));
            for argument in &new.arguments {
                if let InstantiationArgument::Named(named) = argument {
                    expression_references(&named.expr, found);
                }
            }
        }
        PrimaryExpr::Nested(nested) => expression_references(&nested.inner, found),
        PrimaryExpr::Ident(_) => {}
    }
}

/// The component for `key`: an explicit file (`ns:name@version` before `ns:name`), else
/// `deps/<ns>/<name>.wasm` (`deps/<ns>/<name>/<version>.wasm` for a version), `.wat` too.
fn find_package(
    key: BorrowedPackageKey<'_>,
    span: SourceSpan,
    options: &WacOptions,
) -> Result<ComposeInput, PackageError> {
    let full = key.to_string();
    let read = |path: &Path, shown: &str| {
        ComposeInput::read(path, Path::new(shown)).map_err(|source| PackageError::Unreadable {
            name: full.clone(),
            file: shown.to_owned(),
            source,
            span,
        })
    };
    let explicit = options
        .deps
        .iter()
        .find(|dep| dep.name == full)
        .or_else(|| options.deps.iter().find(|dep| dep.name == key.name));
    if let Some(dep) = explicit {
        return read(&dep.path, &dep.shown);
    }
    let mut relative = PathBuf::from("deps");
    relative.extend(key.name.split(':'));
    let base = match key.version {
        Some(version) => relative.join(version.to_string()),
        None => relative,
    };
    let candidates = ["wasm", "wat"].map(|ext| {
        let mut name = base.clone().into_os_string();
        name.push(".");
        name.push(ext);
        PathBuf::from(name)
    });
    if let Some(dir) = &options.dir {
        for candidate in &candidates {
            let path = dir.join(candidate);
            if path.is_file() {
                return read(&path, &candidate.display().to_string());
            }
        }
    }
    let given = if options.deps.is_empty() {
        "no `--dep` names it".to_owned()
    } else {
        format!(
            "none of the {} packages given is named so",
            options.deps.len()
        )
    };
    let expected = candidates[0].display().to_string();
    Err(PackageError::Unknown {
        name: full,
        tried: format!("{given}, and `{expected}` does not exist beside the `.wac` file"),
        expected,
        span,
    })
}

/// What `graph` instantiates and wires, in the terms `--explain` and `wcomp graph` use:
/// instances by their `let` names (the one whose exports are exported first), links, and
/// imports left to the host or left open by the file.
fn describe(
    graph: &CompositionGraph,
    bytes: Vec<u8>,
    facts: &HashMap<String, (Option<String>, u64)>,
) -> WacComposition {
    let types = graph.types();
    let name_of = |id: NodeId| -> String {
        let node = &graph[id];
        match (node.name(), node.package()) {
            (Some(name), _) => name.to_owned(),
            (None, Some(package)) => graph[package].name().to_owned(),
            (None, None) => node.import_name().unwrap_or("definition").to_owned(),
        }
    };
    let exported: Vec<NodeId> = graph
        .node_ids()
        .filter(|id| graph[*id].export_name().is_some())
        .map(|mut id| {
            // `export calc["a:b/c"].f as g` aliases an alias: follow it to the instance.
            while let Some((source, _)) = graph.get_alias_source(id) {
                id = source;
            }
            id
        })
        .collect();
    let mut instances: Vec<NodeId> = graph
        .node_ids()
        .filter(|id| matches!(graph[*id].kind(), NodeKind::Instantiation(_)))
        .collect();
    instances.sort_by_key(|id| !exported.contains(id));

    let mut links = Vec::new();
    let mut left = Vec::new();
    let mut info = Vec::new();
    for &id in &instances {
        let importer = name_of(id);
        let Some(package) = graph[id].package().map(|p| &graph[p]) else {
            continue;
        };
        let (language, size) = facts
            .get(&package.key().to_string())
            .cloned()
            .unwrap_or_default();
        info.push(NodeInfo {
            name: importer.clone(),
            language,
            size,
        });
        let arguments: BTreeMap<&str, NodeId> = graph.get_instantiation_arguments(id).collect();
        for import in types[package.ty()].imports.keys() {
            let source = arguments.get(import.as_str()).map(|argument| {
                graph
                    .get_alias_source(*argument)
                    .map_or((*argument, import.as_str()), |(from, export)| {
                        (from, export)
                    })
            });
            match source {
                Some((from, export))
                    if matches!(graph[from].kind(), NodeKind::Instantiation(_)) =>
                {
                    links.push(Link {
                        importer: importer.clone(),
                        import: import.clone(),
                        exporter: name_of(from),
                        export: export.to_owned(),
                    });
                }
                _ => left.push(LeftImport {
                    importer: importer.clone(),
                    import: import.clone(),
                    reason: if is_wasi(import) {
                        LeftReason::Wasi
                    } else {
                        LeftReason::Open
                    },
                }),
            }
        }
    }
    WacComposition {
        composition: Composition {
            bytes,
            instances: instances.iter().map(|id| name_of(*id)).collect(),
            links,
            left,
            rejected: Vec::new(),
            denied: Vec::new(),
            granted: std::collections::BTreeMap::new(),
        },
        info,
    }
}

/// The namespace an emitted `.wac` file gives components outside a workspace.
pub const LOCAL_NAMESPACE: &str = "local";

/// Writes `composition` (an automatic one) as the `.wac` file `shown`: every instance a
/// `let x = new <namespace>:x { ... }` with its plugged imports, `...` where imports stay
/// open, and the root's exports. `files` maps each instance to its component file as the user
/// named it, for the `--dep` flags of the command in the header; without them, the file is
/// meant for a workspace's `[compose] wac`.
pub fn emit(
    composition: &Composition,
    namespace: &str,
    shown: &str,
    files: &[(String, String)],
) -> String {
    let mut out = String::from(
        "// What `wcomp compose` chose, in wac's composition language. Compose it with:\n",
    );
    if files.is_empty() {
        let _ = writeln!(
            out,
            "//   `[compose] wac = \"{shown}\"` in wcomp.toml, then `wcomp compose`"
        );
    } else {
        let mut command = format!("//   wcomp compose {shown}");
        for instance in &composition.instances {
            if let Some((_, file)) = files.iter().find(|(name, _)| name == instance) {
                let _ = write!(command, " --dep {namespace}:{}={file}", kebab(instance));
            }
        }
        let _ = writeln!(out, "{command}");
    }
    let _ = writeln!(out, "package {namespace}:composition;");
    for instance in dependencies_first(composition) {
        let arguments: Vec<String> = composition
            .links
            .iter()
            .filter(|link| &link.importer == instance)
            .map(|link| {
                format!(
                    "    \"{}\": {}[\"{}\"],\n",
                    link.import,
                    identifier(&link.exporter),
                    link.export
                )
            })
            .chain(
                composition
                    .left
                    .iter()
                    .any(|left| &left.importer == instance)
                    .then(|| "    ...\n".to_owned()),
            )
            .collect();
        let body = if arguments.is_empty() {
            "{}".to_owned()
        } else {
            format!("{{\n{}}}", arguments.concat())
        };
        let _ = writeln!(
            out,
            "\nlet {} = new {namespace}:{} {body};",
            identifier(instance),
            kebab(instance)
        );
    }
    if let Some(root) = composition.instances.first() {
        let _ = writeln!(out, "\nexport {}...;", identifier(root));
    }
    out
}

/// The instances in an order where every exporter comes before its importers.
fn dependencies_first(composition: &Composition) -> Vec<&String> {
    fn visit<'a>(name: &'a String, composition: &'a Composition, order: &mut Vec<&'a String>) {
        if order.contains(&name) {
            return;
        }
        // Mark first: a cycle cannot be composed, and must not recurse forever here.
        order.push(name);
        let position = order.len() - 1;
        for link in composition.links.iter().filter(|l| &l.importer == name) {
            visit(&link.exporter, composition, order);
        }
        let name = order.remove(position);
        order.push(name);
    }
    let mut order = Vec::new();
    for instance in &composition.instances {
        visit(instance, composition, &mut order);
    }
    order
}

/// A component's name as a wac (kebab-case) name: `my_app2` is `my-app2`.
pub fn kebab(name: &str) -> String {
    let lowered = name.to_ascii_lowercase();
    let words: Vec<String> = lowered
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            // A kebab-case word starts with a letter.
            if word.starts_with(|c: char| c.is_ascii_digit()) {
                format!("n{word}")
            } else {
                word.to_owned()
            }
        })
        .collect();
    if words.is_empty() {
        "component".to_owned()
    } else {
        words.join("-")
    }
}

/// A `let` name; wac's keywords are escaped with `%`.
fn identifier(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "import",
        "with",
        "type",
        "tuple",
        "list",
        "option",
        "result",
        "borrow",
        "resource",
        "variant",
        "record",
        "flags",
        "enum",
        "func",
        "static",
        "constructor",
        "u8",
        "s8",
        "u16",
        "s16",
        "u32",
        "s32",
        "u64",
        "s64",
        "f32",
        "f64",
        "char",
        "bool",
        "string",
        "interface",
        "world",
        "export",
        "new",
        "let",
        "use",
        "include",
        "as",
        "package",
        "targets",
    ];
    let name = kebab(name);
    if KEYWORDS.contains(&name.as_str()) {
        format!("%{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_kebab_case() {
        assert_eq!(kebab("my_App2"), "my-app2");
        assert_eq!(kebab("add-u64"), "add-u64");
        assert_eq!(kebab("2fast"), "n2fast");
        assert_eq!(identifier("new"), "%new");
    }

    #[test]
    fn exporters_come_before_importers() {
        let link = |importer: &str, exporter: &str| Link {
            importer: importer.into(),
            import: "x".into(),
            exporter: exporter.into(),
            export: "x".into(),
        };
        let composition = Composition {
            bytes: Vec::new(),
            instances: vec!["socket".into(), "a".into(), "b".into()],
            links: vec![link("socket", "a"), link("socket", "b"), link("b", "a")],
            left: Vec::new(),
            rejected: Vec::new(),
            denied: Vec::new(),
            granted: std::collections::BTreeMap::new(),
        };
        assert_eq!(dependencies_first(&composition), ["a", "b", "socket"]);
    }
}
