//! The WASI 0.2 WIT packages of the embedded runtime (`wasi:http`, `wasi:io`, `wasi:cli`, …),
//! embedded at build time from the `wasmtime-wasi-http` crate: a project scaffolded for HTTP
//! names exactly the WASI version `wcomp serve` implements.

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/wasi_wit.rs"));
}

/// `(file name, WIT)` of every package, one file each (`http.wit`, `io.wit`, …).
pub fn files() -> &'static [(&'static str, &'static str)] {
    embedded::WASI_WIT
}

/// The version of the WASI packages (`0.2.12`), read from `wasi:http`'s package line.
pub fn version() -> Option<String> {
    let (_, http) = files().iter().find(|(name, _)| *name == "http.wit")?;
    http.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("package wasi:http@")?;
        Some(rest.trim_end_matches(';').trim().to_owned())
    })
}

/// When loading the package at `path` failed because a `wasi:*` package is missing from its
/// `deps/`, and wcomp embeds that package at the version asked for, writes it there
/// (`deps/<name>.wit`) and returns true: the caller loads again. A project need not carry a
/// copy of the WASI WIT its runtime serves.
pub fn supply_missing(path: &std::path::Path, err: &anyhow::Error) -> bool {
    let Some(requested) = missing_package(err) else {
        return false;
    };
    let version = requested.version.as_ref().map(ToString::to_string);
    if requested.namespace != "wasi" || version != self::version() || !path.is_dir() {
        return false;
    }
    let file = format!("{}.wit", requested.name);
    let Some((_, text)) = files().iter().find(|(name, _)| **name == file) else {
        return false;
    };
    let deps = path.join("deps");
    if deps.join(&file).exists() || deps.join(requested.name.as_str()).exists() {
        return false;
    }
    fs_err::create_dir_all(&deps)
        .and_then(|()| fs_err::write(deps.join(&file), text))
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
    }
}
