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

use std::path::Path;

use super::scaffold::{ProjectFile, ScaffoldError, render};
use crate::manifest::names::to_kebab;

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
/// `include wasi:http/service@<its 0.3 version>`.
pub fn world_wit(name: &str, wasi: WasiVersion) -> Result<String, ScaffoldError> {
    let version = runtime_version(wasi)?;
    Ok(match wasi {
        WasiVersion::P2 => world_wit_at(name, &version),
        WasiVersion::P3 => {
            let world = world_name(name);
            render(
                include_str!("../../../wit/http/service.wit"),
                &[
                    ("package_name", &world),
                    ("world", &world),
                    ("wasi_version", &version),
                ],
            )
        }
    })
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

/// The project's world, including `wasi:http/proxy@<version>`.
pub fn world_wit_at(name: &str, version: &str) -> String {
    let world = world_name(name);
    render(
        include_str!("../../../wit/http/world.wit"),
        &[
            ("package_name", &world),
            ("world", &world),
            ("wasi_version", version),
        ],
    )
}

/// `wit/world.wit` and the WASI packages of release `wasi` under `wit/deps/`.
pub fn wit_files(name: &str, wasi: WasiVersion) -> Result<Vec<ProjectFile>, ScaffoldError> {
    let mut files = vec![ProjectFile::new("wit/world.wit", world_wit(name, wasi)?)];
    files.extend(
        deps_files(wasi)
            .into_iter()
            .map(|(file, text)| ProjectFile::new(Path::new("wit/deps").join(file), text)),
    );
    Ok(files)
}

/// `(file name under deps/, WIT)` of the WASI packages of release `wasi`: `http.wit`, … for
/// 0.2 and `http-0.3.0.wit`, … for 0.3, so a workspace's `deps/` can hold both.
pub fn deps_files(wasi: WasiVersion) -> Vec<(String, &'static str)> {
    match wasi {
        WasiVersion::P2 => crate::wit::wasi::files()
            .iter()
            .map(|(file, text)| ((*file).to_owned(), *text))
            .collect(),
        WasiVersion::P3 => crate::wit::wasi::p3::deps_files(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::scaffold::resolved;

    #[test]
    fn a_wasi_0_3_world_includes_the_service_world_and_resolves() {
        let files = wit_files("hello-py", WasiVersion::P3).unwrap();
        let world = crate::lang::scaffold::file_text(&files, "wit/world.wit");
        assert!(world.contains("include wasi:http/service@0.3."), "{world}");
        let package = resolved(&files, "world").unwrap();
        assert_eq!(package.world_names(), ["hello-py"]);
    }
}
