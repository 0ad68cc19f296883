//! Python projects, laid out the way componentize-py expects so its documentation applies:
//! `app.py` holds `class WitWorld(wit_world.WitWorld)` plus one class per exported interface
//! (named after the interface, subclassing `wit_world.exports.<Name>`), imports are called through
//! `wit_world.imports`, and an exported resource is a class in a top-level module named after
//! its interface. For a user's world every export becomes a stub with type hints raising
//! `NotImplementedError` ([`stubs`]), named as componentize-py 0.25 names things ([`names`]).
//! Nothing here runs componentize-py: it may not be installed yet when `wcomp new` runs.

use wit_parser::WorldId;

use super::stubs;
use crate::lang::http;
use crate::lang::scaffold::{ProjectFile, ScaffoldError, component_manifest, gitignore, render};
use crate::manifest::Language;
use crate::manifest::names::to_kebab;
use crate::wit::WitPackage;

/// The example project: a `text` interface whose `describe` counts words and characters.
pub fn example(name: &str) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    let world = to_kebab(name);
    let values = [
        ("name", name),
        ("world", world.as_str()),
        ("package_name", world.as_str()),
    ];
    let mut files = common_files(name, &world);
    files.push(ProjectFile::new(
        "wit/world.wit",
        render(
            include_str!("../../../../wit/example/component.wit"),
            &values,
        ),
    ));
    files.push(ProjectFile::new(
        "app.py",
        render(include_str!("../../../../templates/python/app.py"), &values),
    ));
    Ok((world, files))
}

/// The Python files of `--template nn` (its WIT is shared, see [`crate::lang::nn_project`]).
pub fn nn_files(name: &str, world: &str) -> Vec<ProjectFile> {
    let mut files = common_files(name, world);
    files.push(ProjectFile::new(
        "app.py",
        render(
            include_str!("../../../../templates/nn/python/app.py"),
            &[("name", name), ("world", world)],
        ),
    ));
    files
}

/// A project implementing `world` from `package`, every export a stub.
pub fn from_world(
    name: &str,
    package: &WitPackage,
    world: WorldId,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    let mut files = common_files(name, &package.resolve.worlds[world].name);
    files.extend(stubs::Generator::new(&package.resolve, world).files(name)?);
    Ok(files)
}

/// `wcomp.toml` (with its `[python]` table) and the `pyproject.toml` for editors.
pub(super) fn common_files(name: &str, world: &str) -> Vec<ProjectFile> {
    let mut manifest = component_manifest(name, Language::Python, world);
    manifest.contents.extend_from_slice(include_bytes!(
        "../../../../templates/python/wcomp-python.toml"
    ));
    // The guest Python writes bytecode next to the sources while componentize-py runs.
    vec![
        manifest,
        gitignore(&["__pycache__/"]),
        ProjectFile::new(
            "pyproject.toml",
            render(
                include_str!("../../../../templates/python/pyproject.toml"),
                &[("name", name)],
            ),
        ),
    ]
}

/// The HTTP template: an `app.py` handler on componentize-py's `wasi:http` support, with the
/// project's world and the WASI packages of its release (and `--with`) under `wit/`.
pub fn http_project(
    name: &str,
    template: http::HttpTemplate,
) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    let mut files = http_files(name, template)?;
    files.extend(http::wit_files(name, template)?);
    Ok((http::world_name(name), files))
}

/// A Python HTTP project's files besides `wit/`: for WASI 0.2 an `IncomingHandler` writing
/// its body through a blocking stream; for 0.3 a `Handler` whose `async def handle` returns
/// the response and writes its body (a `stream<u8>`) in a task of its own. With `--with`, both
/// read their greeting from `wasi:config/store` and count `GET /visits` in a bucket.
pub fn http_files(
    name: &str,
    template: http::HttpTemplate,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    let mut files = common_files(name, &http::world_name(name));
    let app = match template.wasi {
        http::WasiVersion::P2 => include_str!("../../../../templates/http/python/app.py"),
        http::WasiVersion::P3 => include_str!("../../../../templates/http/python-p3/app.py"),
    };
    // The parts both releases' `app.py` share: the imports, the routes and the functions
    // they call, each without its final newline (the placeholder's line has one).
    let keyvalue_store = store_module(template, "keyvalue");
    let config_store = store_module(template, "config");
    // `Err` is what a failed import raises: the imports of `--with` may fail, and so may the
    // WASI 0.2 handler's writes to its body (the client has gone).
    let result_types = if template.has_imports() || template.wasi == http::WasiVersion::P2 {
        "Err, Ok"
    } else {
        "Ok"
    };
    let names = [
        ("keyvalue_store", keyvalue_store.as_str()),
        ("config_store", &config_store),
        ("result_types", result_types),
    ];
    let part = |text: &str| -> Result<String, ScaffoldError> {
        Ok(template.render(text, &names)?.trim_end().to_owned())
    };
    let import_lines = part(include_str!("../../../../templates/http/python/imports.py"))?;
    let routes = part(include_str!("../../../../templates/http/python/routes.py"))?;
    // Two blank lines before the first definition.
    let helpers = format!(
        "\n\n{}",
        part(include_str!("../../../../templates/http/python/helpers.py"))?
    );
    let values = [
        ("import_lines", import_lines.as_str()),
        ("routes", &routes),
        ("helpers", &helpers),
    ];
    files.push(ProjectFile::new("app.py", template.render(app, &values)?));
    Ok(files)
}

/// The module componentize-py makes of `wasi:<package>/store` in an HTTP project: `store`, or
/// `wasi_<package>_store` when the world imports both packages' `store` (componentize-py
/// qualifies names that clash, see [`super::names::interface_names`]).
fn store_module(template: http::HttpTemplate, package: &str) -> String {
    if template.keyvalue && template.config {
        format!("wasi_{package}_store")
    } else {
        "store".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::scaffold::file_text as file;

    #[test]
    fn the_example_has_a_manifest_and_a_world() {
        let (world, files) = example("text-tool").unwrap();
        assert_eq!(world, "text-tool");
        assert!(file(&files, "app.py").contains("class Text(exports.Text):"));
        assert!(file(&files, "wit/world.wit").contains("world text-tool"));
        assert!(file(&files, "pyproject.toml").contains("name = \"text-tool\""));
    }

    /// The modules `app.py` imports `wasi:keyvalue/store` and `wasi:config/store` from are
    /// those componentize-py names for the world.
    #[test]
    fn the_http_template_imports_the_store_modules_componentize_py_makes() {
        for (keyvalue, config) in [(true, true), (true, false), (false, true)] {
            let template = http::HttpTemplate {
                keyvalue,
                config,
                ..Default::default()
            };
            let (world, files) = http_project("kv", template).unwrap();
            let package = crate::lang::scaffold::resolved(&files, "world").unwrap();
            let resolve = &package.resolve;
            let world = &resolve.worlds[package.world(Some(&world)).unwrap()];
            let imported: Vec<_> = world
                .imports
                .values()
                .filter_map(|item| match item {
                    wit_parser::WorldItem::Interface { id, .. } => Some(*id),
                    _ => None,
                })
                .collect();
            let names = super::super::names::interface_names(resolve, &imported);
            let app = file(&files, "app.py");
            for (id, name) in names.iter().filter(|(_, name)| name.ends_with("store")) {
                let module = name.replace('-', "_");
                let package = &resolve.packages[resolve.interfaces[*id].package.unwrap()];
                let alias = package.name.name.as_str();
                let line = format!("from wit_world.imports import {module} as {alias}\n");
                assert!(app.contains(&line), "{line}in\n{app}");
            }
            assert_eq!(app.contains("import atomics"), keyvalue, "{app}");
        }
    }

    /// The WASI 0.2 handler writes its body 4096 bytes at a time (the most one
    /// `blocking-write-and-flush` takes) and stops at the `Err` of a client gone, so it
    /// imports `Err`; the 0.3 handler, whose stream takes any length, only with `--with`.
    #[test]
    fn the_http_templates_import_err_where_they_catch_it() {
        use crate::lang::http::WasiVersion::{P2, P3};
        for (wasi, keyvalue, types) in [
            (P2, false, "Err, Ok"),
            (P3, false, "Ok"),
            (P3, true, "Err, Ok"),
        ] {
            let template = http::HttpTemplate {
                wasi,
                keyvalue,
                ..Default::default()
            };
            let files = http_files("web", template).unwrap();
            let app = file(&files, "app.py");
            let line = format!("from componentize_py_types import {types}\n");
            assert!(app.contains(&line), "{line}in\n{app}");
            assert_eq!(
                app.contains("except Err:\n                    break"),
                wasi == P2,
                "{app}"
            );
        }
    }
}
