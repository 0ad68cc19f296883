//! What every language's HTTP template shares (`wcomp new <dir> --template http`): the WASI
//! release it targets ([`WasiVersion`]), the project's world and the WASI packages it needs.
//! Each language's scaffold makes an HTTP handler that builds unmodified and answers `GET /`
//! with a greeting naming its language, in what each language's community uses for
//! `wasi:http`. For WASI 0.2 (`wasi:http/incoming-handler`): Rust with `wstd`, Go with the
//! bindings wit-bindgen-go generates for the world, Python with componentize-py's own
//! `wasi:http` support, JavaScript with componentize-js's `fetch` event. For WASI 0.3
//! (`wasi:http/handler`, an `async` function): Rust with the `wasip3` crate, Python with an
//! `async def` on componentize-py's bindings; Go and JavaScript refuse it, their pinned
//! toolchains cannot build async exports. Go, Python and JavaScript projects get the world's
//! WIT with the WASI packages the embedded runtime serves under `wit/deps/` ([`deps_files`]:
//! the 0.3 ones named with their version, so both releases fit in one workspace).
//!
//! With `--with keyvalue,config` ([`HttpTemplate`]) the world also includes
//! `wasi:keyvalue/imports` and/or `wasi:config/imports`, and `wit/deps/` gets those packages
//! (`keyvalue/`, `config/`) from wcomp's embedded copy. The Rust project, whose crates bring
//! `wasi:http`, gets a world of those imports alone ([`imports_world_wit`]) for
//! `wit_bindgen::generate!`. Every language's handler reads its greeting from
//! `wasi:config/store` and counts `GET /visits` in a `wasi:keyvalue` bucket, so the imports are
//! used (toolchains drop unused ones) while `GET /` never touches a bucket.

use std::path::Path;

use super::scaffold::{ProjectFile, ScaffoldError, render, render_sections};
use crate::manifest::names::to_kebab;
use crate::wit::wasi::{CONFIG, KEYVALUE, Package};

/// The WASI release an HTTP project targets (`wcomp new --template http --wasi <version>`).
///
/// The default is 0.2, although 0.3 is WASI's current release: every language wcomp builds
/// can write a 0.2 handler (Go's and JavaScript's pinned toolchains cannot build 0.3's `async`
/// exports), and `wcomp serve` gives a 0.2 handler a fresh instance for every request, so no
/// request sees what another left in memory. A 0.3 handler streams bodies as `stream<u8>` and
/// may answer several requests from one instance; ask for it with `--wasi 0.3`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WasiVersion {
    /// WASI 0.2: the `wasi:http/proxy` world, exporting `wasi:http/incoming-handler`.
    #[default]
    P2,
    /// WASI 0.3: the `wasi:http/service` world, exporting `wasi:http/handler`.
    P3,
}

impl std::fmt::Display for WasiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::P2 => "0.2",
            Self::P3 => "0.3",
        })
    }
}

impl WasiVersion {
    /// The `wasi:http` world a handler of this release implements, without a version.
    pub fn world(self) -> &'static str {
        match self {
            Self::P2 => "wasi:http/proxy",
            Self::P3 => "wasi:http/service",
        }
    }
}

/// What `wcomp new --template http` makes: a handler of WASI release `wasi` whose world may
/// also include `wasi:keyvalue/imports` and `wasi:config/imports` (`--with keyvalue,config`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpTemplate {
    pub wasi: WasiVersion,
    /// `--with keyvalue`: the world includes `wasi:keyvalue/imports`.
    pub keyvalue: bool,
    /// `--with config`: the world includes `wasi:config/imports`.
    pub config: bool,
}

impl From<WasiVersion> for HttpTemplate {
    fn from(wasi: WasiVersion) -> Self {
        Self {
            wasi,
            ..Self::default()
        }
    }
}

impl HttpTemplate {
    /// Whether the world imports anything besides `wasi:http`.
    pub fn has_imports(self) -> bool {
        self.keyvalue || self.config
    }

    /// The WASI packages the world includes besides `wasi:http` and what it needs.
    pub fn packages(self) -> Vec<&'static Package> {
        let mut packages = Vec::new();
        if self.keyvalue {
            packages.push(&KEYVALUE);
        }
        if self.config {
            packages.push(&CONFIG);
        }
        packages
    }

    /// The optional parts of the templates this project keeps ([`render_sections`]):
    /// `keyvalue`, `config`, and `imports` when either is there.
    pub fn sections(self) -> Vec<&'static str> {
        let mut sections: Vec<&str> = self.packages().iter().map(|p| p.name).collect();
        if self.has_imports() {
            sections.push("imports");
        }
        sections
    }

    /// Renders `template` for this project: its sections ([`Self::sections`]), then `values`
    /// and the versions of the packages `--with` adds (`{{keyvalue_version}}`,
    /// `{{config_version}}`).
    pub fn render(self, template: &str, values: &[(&str, &str)]) -> Result<String, ScaffoldError> {
        let versions = self
            .packages()
            .into_iter()
            .map(|package| {
                Ok((
                    format!("{}_version", package.name),
                    embedded_version(package)?,
                ))
            })
            .collect::<Result<Vec<_>, ScaffoldError>>()?;
        let mut values = values.to_vec();
        values.extend(versions.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok(render(
            &render_sections(template, &self.sections()),
            &values,
        ))
    }
}

/// The version of `package` wcomp embeds (`0.2.0-draft`).
fn embedded_version(package: &Package) -> Result<String, ScaffoldError> {
    package.version().ok_or_else(|| ScaffoldError::Unsupported {
        item: format!("`--with {}`", package.name),
        reason: format!(
            "this wcomp was built without the `wasi:{}` WIT of its runtime",
            package.name
        ),
    })
}

/// What to do instead of a WASI 0.3 HTTP handler in a language whose toolchain cannot build
/// one.
pub const P3_HELP: &str = "drop `--wasi 0.3`: a WASI 0.2 handler (the default) builds in every language; or write the 0.3 handler in Rust or Python (`--lang rust --wasi 0.3` or `--lang python --wasi 0.3`)";

/// The refusal of a WASI 0.3 HTTP handler in `language`, whose toolchain cannot build `async`
/// exports because `limit`.
pub fn p3_refused(language: &str, limit: &str) -> ScaffoldError {
    ScaffoldError::LanguageCannot {
        language: language.into(),
        item: format!(
            "wasi:http/service@{}",
            crate::wit::wasi::p3::version().unwrap_or_else(|| "0.3.0".into())
        ),
        reason: format!("its `handle` export is `async`, and {limit}"),
        help: P3_HELP.into(),
    }
}

/// The world name HTTP projects give themselves.
pub fn world_name(name: &str) -> String {
    to_kebab(name)
}

/// The project's world: `include wasi:http/proxy@<the runtime's 0.2 version>` or
/// `include wasi:http/service@<its 0.3 version>`, and the includes of `--with`.
pub fn world_wit(name: &str, template: HttpTemplate) -> Result<String, ScaffoldError> {
    let version = runtime_version(template.wasi)?;
    match template.wasi {
        WasiVersion::P2 => world_wit_at(name, &version, template),
        WasiVersion::P3 => {
            let world = world_name(name);
            template.render(
                include_str!("../../../wit/http/service.wit"),
                &[
                    ("package_name", &world),
                    ("world", &world),
                    ("wasi_version", &version),
                ],
            )
        }
    }
}

/// The version of the embedded runtime's WASI release `wasi` (`0.2.12`, `0.3.0`).
pub fn runtime_version(wasi: WasiVersion) -> Result<String, ScaffoldError> {
    let version = match wasi {
        WasiVersion::P2 => crate::wit::wasi::version(),
        WasiVersion::P3 => crate::wit::wasi::p3::version(),
    };
    version.ok_or_else(|| ScaffoldError::Unsupported {
        item: "the HTTP template".into(),
        reason: format!("this wcomp was built without the WASI {wasi} WIT of its runtime"),
    })
}

/// The project's world, including `wasi:http/proxy@<version>` and the includes of `--with`.
pub fn world_wit_at(
    name: &str,
    version: &str,
    template: HttpTemplate,
) -> Result<String, ScaffoldError> {
    let world = world_name(name);
    template.render(
        include_str!("../../../wit/http/world.wit"),
        &[
            ("package_name", &world),
            ("world", &world),
            ("wasi_version", version),
        ],
    )
}

/// The name of the world [`imports_world_wit`] defines.
pub const IMPORTS_WORLD: &str = "imports";

/// For a project whose crates bring `wasi:http` (Rust's `wstd` and `wasip3`): a world of the
/// includes of `--with` alone, which `wit_bindgen::generate!` makes bindings for while the
/// crate keeps exporting the handler.
pub fn imports_world_wit(name: &str, template: HttpTemplate) -> Result<String, ScaffoldError> {
    let crate_name = match template.wasi {
        WasiVersion::P2 => "wstd",
        WasiVersion::P3 => "wasip3",
    };
    template.render(
        include_str!("../../../wit/http/imports.wit"),
        &[
            ("package_name", &world_name(name)),
            ("world", IMPORTS_WORLD),
            ("http_crate", crate_name),
        ],
    )
}

/// `wit/world.wit` and the WASI packages of release `wasi` under `wit/deps/`, with those of
/// `--with`.
pub fn wit_files(name: &str, template: HttpTemplate) -> Result<Vec<ProjectFile>, ScaffoldError> {
    let mut files = vec![ProjectFile::new(
        "wit/world.wit",
        world_wit(name, template)?,
    )];
    files.extend(deps_project_files(deps_files(template)));
    Ok(files)
}

/// `(file name under deps/, WIT)` of the WASI packages of release `wasi`: `http.wit`, … for
/// 0.2 and `http-0.3.0.wit`, … for 0.3, so a workspace's `deps/` can hold both; then those of
/// `--with` (`keyvalue/store.wit`, …, `config/store.wit`, …).
pub fn deps_files(template: HttpTemplate) -> Vec<(String, &'static str)> {
    let mut files: Vec<(String, &str)> = match template.wasi {
        WasiVersion::P2 => crate::wit::wasi::files()
            .iter()
            .map(|(file, text)| ((*file).to_owned(), *text))
            .collect(),
        WasiVersion::P3 => crate::wit::wasi::p3::deps_files(),
    };
    files.extend(with_deps_files(template));
    files
}

/// `(path under deps/, WIT)` of the packages `--with` adds.
pub fn with_deps_files(template: HttpTemplate) -> Vec<(String, &'static str)> {
    template
        .packages()
        .into_iter()
        .flat_map(Package::deps_files)
        .collect()
}

/// `deps` (paths under `deps/`) as project files under `wit/deps/`.
pub fn deps_project_files(deps: Vec<(String, &'static str)>) -> Vec<ProjectFile> {
    deps.into_iter()
        .map(|(file, text)| ProjectFile::new(Path::new("wit/deps").join(file), text))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::scaffold::resolved;

    #[test]
    fn a_wasi_0_3_world_includes_the_service_world_and_resolves() {
        let files = wit_files("hello-py", WasiVersion::P3.into()).unwrap();
        let world = crate::lang::scaffold::file_text(&files, "wit/world.wit");
        assert!(world.contains("include wasi:http/service@0.3."), "{world}");
        let package = resolved(&files, "world").unwrap();
        assert_eq!(package.world_names(), ["hello-py"]);
    }

    /// Every combination of `--with` and WASI release makes a world that resolves against the
    /// files the project gets, with one `include` per package; the Rust imports world holds
    /// the includes alone.
    #[test]
    fn with_adds_its_includes_and_packages_to_the_world() {
        for wasi in [WasiVersion::P2, WasiVersion::P3] {
            for (keyvalue, config) in [(false, false), (true, false), (false, true), (true, true)] {
                let template = HttpTemplate {
                    wasi,
                    keyvalue,
                    config,
                };
                let files = wit_files("hello", template).unwrap();
                let world = crate::lang::scaffold::file_text(&files, "wit/world.wit");
                let includes =
                    |package: &str| world.contains(&format!("include wasi:{package}/imports@"));
                assert_eq!(includes("keyvalue"), keyvalue, "{world}");
                assert_eq!(includes("config"), config, "{world}");
                assert!(!world.contains("{{"), "{world}");
                let package = resolved(&files, "world").unwrap();
                assert_eq!(package.world_names(), ["hello"]);
                assert_eq!(template.has_imports(), !template.sections().is_empty());
                if !template.has_imports() {
                    continue;
                }
                let mut files = vec![ProjectFile::new(
                    "wit/world.wit",
                    imports_world_wit("hello", template).unwrap(),
                )];
                files.extend(deps_project_files(with_deps_files(template)));
                let package = resolved(&files, "imports").unwrap();
                assert_eq!(package.world_names(), [IMPORTS_WORLD]);
            }
        }
    }
}
