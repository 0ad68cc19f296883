//! Loading WIT packages (a file, or a directory with its `deps/`) and picking worlds out of
//! them. Everything else that reads WIT goes through [`WitPackage`]; this module must not know
//! about languages or toolchains.

pub mod check;
pub mod diagnostics;
pub mod diff;
pub mod fmt;
pub mod lexer;
pub mod lint;
pub mod sarif;
pub mod wasi;

use std::path::{Path, PathBuf};

use crate::diagnostic::Report as _;
use wit_parser::{PackageId, Resolve, WorldId};

/// Errors from reading WIT.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WitError {
    /// The path does not exist.
    #[error("no WIT file or directory at `{path}`")]
    #[diagnostic(help("pass a `.wit` file or a directory of them (with an optional `deps/`)"))]
    NotFound { path: PathBuf },
    /// wit-parser rejected the package; the snippet shows where.
    #[error("invalid WIT in `{path}`: {message}")]
    Invalid {
        path: PathBuf,
        message: String,
        #[source_code]
        source_code: Option<miette::NamedSource<String>>,
        #[label("{label}")]
        span: Option<miette::SourceSpan>,
        label: String,
        #[help]
        help: Option<String>,
    },
    /// The requested world is not in the package.
    #[error("package `{package}` has no world named `{world}`")]
    #[diagnostic(help("worlds in `{package}`: {available}"))]
    UnknownWorld {
        package: String,
        world: String,
        available: String,
    },
    /// The package defines no world at all.
    #[error("package `{package}` defines no world")]
    #[diagnostic(help("add a `world` that exports what the component provides"))]
    NoWorld { package: String },
    /// Several worlds exist and none was chosen.
    #[error("package `{package}` defines several worlds; choose one")]
    #[diagnostic(help("pass `--world <name>`; worlds: {available}"))]
    AmbiguousWorld { package: String, available: String },
    /// No path was given and the current directory has no WIT to default to.
    #[error("no WIT to check in `{dir}`")]
    #[diagnostic(help(
        "pass a `.wit` file or package directory, or run inside a wcomp project (a `wcomp.toml`, or a `wit/` directory)"
    ))]
    NothingToCheck { dir: PathBuf },
}

impl WitError {
    /// The located form of a wit-parser error, for commands that load WIT as a step.
    fn invalid(path: &Path, err: &anyhow::Error, map: &wit_parser::SourceMap) -> Self {
        let mut sources = diagnostics::SourceFiles::new(Path::new(""));
        let diagnostic = diagnostics::from_wit_error(err, map, &mut sources);
        let located = diagnostic.location.as_ref().and_then(|loc| {
            let text = sources.text(&loc.path)?;
            let span = miette::SourceSpan::new(loc.range.start.into(), loc.range.len());
            Some((
                miette::NamedSource::new(&loc.display, text.to_string()),
                span,
            ))
        });
        let (source_code, span) =
            located.map_or((None, None), |(source, span)| (Some(source), Some(span)));
        WitError::Invalid {
            path: path.to_owned(),
            message: diagnostic.message,
            source_code,
            span,
            label: diagnostic.label.unwrap_or_default(),
            help: diagnostic.help.or_else(|| {
                Some("`wcomp wit check` lists every problem in the package".to_owned())
            }),
        }
    }
}

/// A resolved WIT package with its dependencies.
#[derive(Debug)]
pub struct WitPackage {
    pub resolve: Resolve,
    pub package: PackageId,
    /// Every file that was read (the package and its deps).
    pub sources: Vec<PathBuf>,
}

// `WitError::Invalid` carries its source snippet; errors are rare and rendered once, so the
// size of the `Err` variant does not matter.
#[allow(clippy::result_large_err)]
impl WitPackage {
    /// Loads a `.wit` file, or a directory with an optional `deps/` folder.
    pub fn load(path: &Path) -> Result<Self, WitError> {
        if !path.exists() {
            return Err(WitError::NotFound {
                path: path.to_owned(),
            });
        }
        let mut resolve = Resolve::default();
        let (package, sources) = loop {
            match resolve.push_path(path) {
                Ok(loaded) => break loaded,
                // A WASI package the runtime serves, missing from `deps/`: supplied, then
                // loaded again (at most once per package).
                Err(err) if wasi::supply_missing(path, &err) => resolve = Resolve::default(),
                Err(err) => return Err(WitError::invalid(path, &err, &resolve.source_map)),
            }
        };
        let sources = sources.paths().map(Path::to_path_buf).collect();
        Ok(Self {
            resolve,
            package,
            sources,
        })
    }

    /// The package's name, `ns:name@version`.
    pub fn name(&self) -> String {
        self.resolve.packages[self.package].name.to_string()
    }

    /// Names of the worlds the package defines, in source order.
    pub fn world_names(&self) -> Vec<String> {
        self.resolve.packages[self.package]
            .worlds
            .keys()
            .cloned()
            .collect()
    }

    /// Finds `name`, or the only world when `name` is `None`.
    pub fn world(&self, name: Option<&str>) -> Result<WorldId, WitError> {
        let worlds = &self.resolve.packages[self.package].worlds;
        let available = || {
            self.world_names()
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match name {
            Some(name) => worlds
                .get(name)
                .copied()
                .ok_or_else(|| WitError::UnknownWorld {
                    package: self.name(),
                    world: name.to_owned(),
                    available: available(),
                }),
            None => match worlds.len() {
                0 => Err(WitError::NoWorld {
                    package: self.name(),
                }),
                1 => Ok(*worlds.values().next().expect("one world")),
                _ => Err(WitError::AmbiguousWorld {
                    package: self.name(),
                    available: available(),
                }),
            },
        }
    }
}

/// A component encoder for the core `module` of `world`: the world's type information
/// embedded in the module (UTF-8 strings), validation on. Callers add adapters, then encode.
pub fn component_encoder(
    mut module: Vec<u8>,
    resolve: &wit_parser::Resolve,
    world: wit_parser::WorldId,
) -> anyhow::Result<wit_component::ComponentEncoder> {
    wit_component::embed_component_metadata(
        &mut module,
        resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )?;
    let mut encoder = wit_component::ComponentEncoder::default();
    encoder.validate(true).module(&module)?;
    Ok(encoder)
}

/// The WIT a command works on when no path is given: the shared `wit` directory of the
/// enclosing workspace, else the project's `[component] wit` directory, else `./wit`.
pub fn default_wit_paths(cwd: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if let Some(root) = crate::manifest::find_workspace(cwd) {
        // Only the manifest is read: a workspace with other problems can still check its WIT.
        let manifest = crate::manifest::Manifest::load(&root.join(crate::manifest::MANIFEST))?;
        if let Some(workspace) = manifest.workspace {
            return Ok(vec![root.join(workspace.wit.get_ref())]);
        }
    }
    if cwd.join(crate::manifest::MANIFEST).is_file() {
        let project = crate::manifest::Project::detect(cwd)?;
        return Ok(vec![project.wit]);
    }
    let wit = cwd.join("wit");
    if wit.exists() {
        return Ok(vec![wit]);
    }
    Err(WitError::NothingToCheck {
        dir: cwd.to_owned(),
    }
    .report())
}

/// The first `async` function the world imports or exports, as `interface#name`.
pub fn async_function(resolve: &wit_parser::Resolve, world: wit_parser::WorldId) -> Option<String> {
    let world_def = &resolve.worlds[world];
    world_def
        .imports
        .iter()
        .chain(&world_def.exports)
        .find_map(|(key, item)| match item {
            wit_parser::WorldItem::Function(func) if func.kind.is_async() => {
                Some(format!("{}#{}", world_def.name, func.name))
            }
            wit_parser::WorldItem::Interface { id, .. } => {
                let func = resolve.interfaces[*id]
                    .functions
                    .values()
                    .find(|func| func.kind.is_async())?;
                Some(format!("{}#{}", resolve.name_world_key(key), func.name))
            }
            _ => None,
        })
}
