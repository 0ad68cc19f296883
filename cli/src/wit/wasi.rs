//! The WASI 0.2 WIT packages of the embedded runtime (`wasi:http`, `wasi:io`, `wasi:cli`, …),
//! and its WASI 0.3 packages ([`p3`]), embedded at build time from the `wasmtime-wasi-http`
//! crate: a project scaffolded for HTTP names exactly the WASI version `wcomp serve` implements.
//! Beside them, [`KEYVALUE`], [`CONFIG`] and [`NN`] (`wasi:keyvalue`, `wasi:config`,
//! `wasi:nn`), embedded from `wasmtime-wasi-keyvalue`, `wasmtime-wasi-config` and
//! `wasmtime-wasi-nn`, for worlds that include them.

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/wasi_wit.rs"));
}

/// `(file name, WIT)` of every package, one file each (`http.wit`, `io.wit`, …).
pub fn files() -> &'static [(&'static str, &'static str)] {
    embedded::WASI_WIT
}

/// The version of the WASI packages (`0.2.12`), read from `wasi:http`'s package line.
pub fn version() -> Option<String> {
    http_version(files())
}

/// The WASI 0.3 packages (`wasi:http@0.3.0` with its worlds `service` and `middleware`, and
/// the `wasi:cli`, `wasi:clocks`, `wasi:random`, `wasi:filesystem` and `wasi:sockets` it needs).
pub mod p3 {
    /// `(file name, WIT)` of every package, one file each (`http.wit`, `cli.wit`, …).
    pub fn files() -> &'static [(&'static str, &'static str)] {
        super::embedded::WASI_P3_WIT
    }

    /// The version of the WASI 0.3 packages (`0.3.0`), read from `wasi:http`'s package line.
    pub fn version() -> Option<String> {
        super::http_version(files())
    }

    /// `(file name under deps/, WIT)` of every package, as wcomp writes them into a project:
    /// [`deps_name`]s, which the 0.2 packages' names cannot collide with.
    pub fn deps_files() -> Vec<(String, &'static str)> {
        files()
            .iter()
            .map(|(file, text)| (deps_name(file), *text))
            .collect()
    }

    /// The name wcomp gives the 0.3 package embedded as `file` (`http.wit`) under `deps/`:
    /// `http-0.3.0.wit`. The 0.2 packages are `http.wit`, `cli.wit`, …; the version in the
    /// name lets both releases share one `deps/`, as a workspace with 0.2 and 0.3 members
    /// needs. wit-parser reads every `deps/*.wit` as a package whatever the file is called.
    pub fn deps_name(file: &str) -> String {
        let stem = file.strip_suffix(".wit").unwrap_or(file);
        match version() {
            Some(version) => format!("{stem}-{version}.wit"),
            None => file.to_owned(),
        }
    }
}

/// The version on the package line of `http.wit` among `files`.
fn http_version(files: &[(&str, &str)]) -> Option<String> {
    let (_, http) = files.iter().find(|(name, _)| *name == "http.wit")?;
    package_version(http, "http")
}

/// The version on the `package wasi:<name>@<version>;` line of `text`.
fn package_version(text: &str, name: &str) -> Option<String> {
    let prefix = format!("package wasi:{name}@");
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(&prefix)?;
        Some(rest.trim_end_matches(';').trim().to_owned())
    })
}

/// A WASI package embedded as the directory of `.wit` files its wasmtime crate keeps it in,
/// and written into a project the same way: `deps/<name>/`.
#[derive(Debug)]
pub struct Package {
    /// The package's name in the `wasi` namespace (`keyvalue`), also its directory's.
    pub name: &'static str,
    files: &'static [(&'static str, &'static str)],
}

/// `wasi:keyvalue` (`store`, `atomics`, `batch`, `watcher`; the `imports` world), as
/// `wasmtime-wasi-keyvalue` carries it.
pub const KEYVALUE: Package = Package {
    name: "keyvalue",
    files: embedded::KEYVALUE_WIT,
};

/// `wasi:config` (`store`; the `imports` world), as `wasmtime-wasi-config` carries it.
pub const CONFIG: Package = Package {
    name: "config",
    files: embedded::CONFIG_WIT,
};

/// `wasi:nn` (`tensor`, `graph`, `inference`, `errors`; the `ml` world), as `wasmtime-wasi-nn`
/// carries it.
pub const NN: Package = Package {
    name: "nn",
    files: embedded::NN_WIT,
};

impl Package {
    /// `(file name, WIT)` of every file of the package (`store.wit`, `world.wit`, …).
    pub fn files(&self) -> &'static [(&'static str, &'static str)] {
        self.files
    }

    /// The package's version (`0.2.0-draft`), read from its package line.
    pub fn version(&self) -> Option<String> {
        self.files
            .iter()
            .find_map(|(_, text)| package_version(text, self.name))
    }

    /// `(path under deps/, WIT)` of every file, as wcomp writes them into a project:
    /// `keyvalue/store.wit`, …
    pub fn deps_files(&self) -> Vec<(String, &'static str)> {
        self.files
            .iter()
            .map(|(file, text)| (format!("{}/{file}", self.name), *text))
            .collect()
    }

    /// Writes the package into `deps` (`deps/<name>/`) unless `deps` has something of that
    /// name already; whether it did.
    fn supply(&self, deps: &std::path::Path) -> bool {
        let dir = deps.join(self.name);
        if self.files.is_empty() || dir.exists() || deps.join(format!("{}.wit", self.name)).exists()
        {
            return false;
        }
        fs_err::create_dir_all(&dir).is_ok()
            && self
                .files
                .iter()
                .all(|(file, text)| crate::fsutil::write(&dir.join(file), text.as_bytes()).is_ok())
    }
}

/// The embedded packages restated at an earlier 0.2 release, `older` (for toolchains that
/// target it, as componentize-js targets 0.2.10): every version becomes `older`, and items
/// added after it (`@since(version = <newer>)`) are left out with their doc comments.
pub fn files_at(older: &str) -> Vec<(&'static str, String)> {
    let Some(current) = version() else {
        return Vec::new();
    };
    let newer = |since: &str| {
        let parse = |v: &str| -> Vec<u64> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
        parse(since) > parse(older)
    };
    files()
        .iter()
        .map(|(name, text)| {
            let mut out: Vec<&str> = Vec::new();
            let mut lines = text.lines();
            while let Some(line) = lines.next() {
                let since = line
                    .trim()
                    .strip_prefix("@since(version = ")
                    .and_then(|rest| rest.strip_suffix(')'));
                if !since.is_some_and(newer) {
                    out.push(line);
                    continue;
                }
                while out
                    .last()
                    .is_some_and(|l| l.trim_start().starts_with("///"))
                {
                    out.pop();
                }
                // Skip the gated item: up to its `;`, or its closing brace.
                let mut depth = 0i32;
                for item in lines.by_ref() {
                    depth += item.matches('{').count() as i32 - item.matches('}').count() as i32;
                    let end = item.trim_end();
                    if depth <= 0 && (end.ends_with(';') || end.ends_with('}')) {
                        break;
                    }
                }
            }
            let mut text = out
                .join("\n")
                .replace(&format!("@{current}"), &format!("@{older}"));
            text.push('\n');
            (*name, text)
        })
        .collect()
}

/// When loading the package at `path` failed because a `wasi:*` package is missing from its
/// `deps/`, and wcomp embeds that package at the version asked for (0.2 or 0.3, or the
/// [`KEYVALUE`] or [`CONFIG`] release), writes it there (`deps/<name>.wit` for 0.2,
/// `deps/<name>-<version>.wit` for 0.3, see [`p3::deps_name`]; `deps/keyvalue/`,
/// `deps/config/`) and returns true: the caller loads again. A project need not carry a copy
/// of the WASI WIT its runtime serves.
pub fn supply_missing(path: &std::path::Path, err: &anyhow::Error) -> bool {
    let Some(requested) = missing_package(err) else {
        return false;
    };
    let version = requested.version.as_ref().map(ToString::to_string);
    if requested.namespace != "wasi" || version.is_none() || !path.is_dir() {
        return false;
    }
    let deps = path.join("deps");
    if let Some(package) = [&KEYVALUE, &CONFIG, &NN]
        .into_iter()
        .find(|package| package.name == requested.name && package.version() == version)
    {
        return package.supply(&deps);
    }
    let embedded_name = format!("{}.wit", requested.name);
    let (embedded, file) = if version == self::version() {
        (files(), embedded_name.clone())
    } else if version == p3::version() {
        (p3::files(), p3::deps_name(&embedded_name))
    } else {
        return false;
    };
    let Some((_, text)) = embedded.iter().find(|(name, _)| **name == embedded_name) else {
        return false;
    };
    let stem = file.strip_suffix(".wit").unwrap_or(&file);
    if deps.join(&file).exists() || deps.join(stem).exists() {
        return false;
    }
    fs_err::create_dir_all(&deps)
        .map_err(anyhow::Error::from)
        .and_then(|()| crate::fsutil::write(&deps.join(&file), text.as_bytes()))
        .is_ok()
}

/// The package wit-parser could not find, if that is why loading failed.
pub fn missing_package(err: &anyhow::Error) -> Option<wit_parser::PackageName> {
    err.chain().find_map(
        |layer| match layer.downcast_ref::<wit_parser::ResolveError>()?.kind() {
            wit_parser::ResolveErrorKind::PackageNotFound { requested, .. } => {
                Some(requested.clone())
            }
            _ => None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wasi_packages_are_embedded_and_resolve() {
        let version = version().expect("wasi:http is embedded");
        assert!(version.starts_with("0.2."), "{version}");
        let temp = tempfile::tempdir().unwrap();
        let deps = temp.path().join("deps");
        std::fs::create_dir_all(&deps).unwrap();
        for (name, text) in files() {
            std::fs::write(deps.join(name), text).unwrap();
        }
        std::fs::write(
            temp.path().join("world.wit"),
            format!("package a:b;\nworld w {{ include wasi:http/proxy@{version}; }}\n"),
        )
        .unwrap();
        let package = super::super::WitPackage::load(temp.path()).unwrap();
        assert_eq!(package.world_names(), ["w"]);

        // Restated at 0.2.10, without what came later.
        let older = temp.path().join("older");
        std::fs::create_dir_all(older.join("deps")).unwrap();
        for (name, text) in files_at("0.2.10") {
            assert!(!text.contains(&format!("@{version}")), "{name}");
            assert!(!text.contains("exit-with-code"), "{name}");
            std::fs::write(older.join("deps").join(name), text).unwrap();
        }
        std::fs::write(
            older.join("world.wit"),
            "package a:b;\nworld w { include wasi:http/proxy@0.2.10; }\n",
        )
        .unwrap();
        let package = super::super::WitPackage::load(&older).unwrap();
        assert_eq!(package.world_names(), ["w"]);
    }

    #[test]
    fn the_wasi_0_3_packages_are_embedded_and_resolve() {
        let version = p3::version().expect("wasi:http 0.3 is embedded");
        assert!(version.starts_with("0.3."), "{version}");
        let temp = tempfile::tempdir().unwrap();
        let deps = temp.path().join("deps");
        std::fs::create_dir_all(&deps).unwrap();
        for (name, text) in p3::files() {
            std::fs::write(deps.join(name), text).unwrap();
        }
        std::fs::write(
            temp.path().join("world.wit"),
            format!("package a:b;\nworld w {{ include wasi:http/service@{version}; }}\n"),
        )
        .unwrap();
        let package = super::super::WitPackage::load(temp.path()).unwrap();
        assert_eq!(package.world_names(), ["w"]);
    }

    /// The 0.3 packages are written under names of their own, so one `deps/` holds both
    /// releases, and worlds of either resolve; a missing 0.3 package is supplied beside the
    /// 0.2 one of the same name.
    #[test]
    fn the_wasi_0_2_and_0_3_packages_share_one_deps_directory() {
        let p2 = version().unwrap();
        let p3 = p3::version().unwrap();
        assert_eq!(p3::deps_name("http.wit"), format!("http-{p3}.wit"));
        let temp = tempfile::tempdir().unwrap();
        let deps = temp.path().join("deps");
        std::fs::create_dir_all(&deps).unwrap();
        for (name, text) in files() {
            std::fs::write(deps.join(name), text).unwrap();
        }
        let world = format!(
            "package a:b;\nworld old {{ include wasi:http/proxy@{p2}; }}\nworld new {{ include wasi:http/service@{p3}; }}\n"
        );
        std::fs::write(temp.path().join("world.wit"), world).unwrap();
        let package = super::super::WitPackage::load(temp.path()).unwrap();
        assert_eq!(package.world_names(), ["old", "new"]);
        for (name, text) in p3::deps_files() {
            let written = std::fs::read_to_string(deps.join(&name)).unwrap();
            assert_eq!(written, text, "{name}");
        }
        let http = std::fs::read_to_string(deps.join("http.wit")).unwrap();
        assert!(
            http.starts_with(&format!("package wasi:http@{p2};")),
            "{http}"
        );
    }

    /// `wasi:keyvalue` and `wasi:config` are embedded at the releases wasmtime's crates carry,
    /// and a world that uses them gets them written into its `deps/` when it has none of its
    /// own; a package directory of the user's is never replaced.
    #[test]
    fn keyvalue_and_config_are_embedded_and_supplied_when_missing() {
        assert_eq!(KEYVALUE.version().as_deref(), Some("0.2.0-draft"));
        assert_eq!(CONFIG.version().as_deref(), Some("0.2.0-rc.1"));
        let temp = tempfile::tempdir().unwrap();
        std::fs::write(
            temp.path().join("world.wit"),
            "package a:b;\nworld w {\n  import wasi:keyvalue/batch@0.2.0-draft;\n  include wasi:config/imports@0.2.0-rc.1;\n}\n",
        )
        .unwrap();
        let package = super::super::WitPackage::load(temp.path()).unwrap();
        assert_eq!(package.world_names(), ["w"]);
        for (path, text) in KEYVALUE.deps_files().into_iter().chain(CONFIG.deps_files()) {
            let written = std::fs::read_to_string(temp.path().join("deps").join(&path)).unwrap();
            assert_eq!(written, text, "{path}");
        }
        assert!(
            KEYVALUE
                .deps_files()
                .iter()
                .any(|(path, _)| path == "keyvalue/store.wit")
        );

        let mine = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(mine.path().join("deps/keyvalue")).unwrap();
        std::fs::write(
            mine.path().join("deps/keyvalue/mine.wit"),
            "package wasi:keyvalue@0.1.0;\n",
        )
        .unwrap();
        std::fs::write(
            mine.path().join("world.wit"),
            "package a:b;\nworld w { import wasi:keyvalue/store@0.2.0-draft; }\n",
        )
        .unwrap();
        assert!(super::super::WitPackage::load(mine.path()).is_err());
        let kept: Vec<_> = std::fs::read_dir(mine.path().join("deps/keyvalue"))
            .unwrap()
            .collect();
        assert_eq!(kept.len(), 1);
    }
}
