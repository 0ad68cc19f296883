//! `wcomp new <dir> --template http`: an HTTP handler (`wasi:http/incoming-handler`) that
//! builds unmodified and answers `GET /` with a greeting naming its language, in what each
//! language's community uses for `wasi:http`: Rust with `wstd`, Go with the bindings
//! wit-bindgen-go generates for the world, Python with componentize-py's own `wasi:http`
//! support, JavaScript with componentize-js's `fetch` event. Go, Python and JavaScript projects get the world's WIT with the WASI packages the embedded
//! runtime serves under `wit/deps/`.

use std::path::Path;

use super::{ProjectFile, ScaffoldError, render};
use crate::manifest::names::to_kebab;
use crate::toolchain::Language;
use crate::wit::WitPackage;

/// The wstd release Rust HTTP projects depend on.
pub const WSTD_VERSION: &str = "0.6";

/// The world name HTTP projects give themselves.
pub fn world_name(name: &str) -> String {
    to_kebab(name)
}

/// The project's world: `include wasi:http/proxy@<the runtime's version>`.
pub fn world_wit(name: &str) -> Result<String, ScaffoldError> {
    Ok(world_wit_at(name, &runtime_version()?))
}

/// The WASI version of the embedded runtime.
fn runtime_version() -> Result<String, ScaffoldError> {
    crate::wit::wasi::version().ok_or_else(|| ScaffoldError::Unsupported {
        item: "the HTTP template".into(),
        reason: "this wcomp was built without the WASI WIT of its runtime".into(),
    })
}

/// The project's world, including `wasi:http/proxy@<version>`.
fn world_wit_at(name: &str, version: &str) -> String {
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

/// `wit/world.wit` and the WASI packages under `wit/deps/`.
pub fn wit_files(name: &str) -> Result<Vec<ProjectFile>, ScaffoldError> {
    let mut files = vec![ProjectFile::new("wit/world.wit", world_wit(name)?)];
    files.extend(
        crate::wit::wasi::files()
            .iter()
            .map(|(file, text)| ProjectFile::new(Path::new("wit/deps").join(file), *text)),
    );
    Ok(files)
}

/// Every file of an HTTP project in `language`, and the world it implements.
pub fn project(
    name: &str,
    language: Language,
) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    match language {
        Language::Rust => Ok(rust(name)),
        Language::Go => go(name),
        Language::Python => python(name),
        Language::Js => js(name),
    }
}

fn rust(name: &str) -> (String, Vec<ProjectFile>) {
    let values = [("crate_name", name), ("wstd_version", WSTD_VERSION)];
    let files = vec![
        ProjectFile::new(
            "Cargo.toml",
            render(
                include_str!("../../../templates/http/rust/Cargo.toml"),
                &values,
            ),
        ),
        ProjectFile::new(
            "src/lib.rs",
            render(include_str!("../../../templates/http/rust/lib.rs"), &values),
        ),
    ];
    ("wasi:http/proxy".to_owned(), files)
}

fn go(name: &str) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    let world = world_name(name);
    let wit = wit_files(name)?;
    let package = super::resolved(&wit, "the HTTP world")?;
    let world_id = package
        .world(Some(&world))
        .map_err(|err| ScaffoldError::Unsupported {
            item: "the HTTP world".into(),
            reason: err.to_string(),
        })?;
    let mut files = go_files(name, &package, world_id)?;
    files.extend(wit);
    Ok((world, files))
}

/// A Go HTTP project's files besides `wit/`, for `world` (which includes `wasi:http/proxy`).
pub fn go_files(
    name: &str,
    package: &WitPackage,
    world: wit_parser::WorldId,
) -> Result<Vec<ProjectFile>, ScaffoldError> {
    super::go::project_files(name, &package.resolve, world, |package| {
        (package == "export_wasi_http_incoming_handler")
            .then(|| include_str!("../../../templates/http/go/handler.go").to_owned())
    })
}

fn python(name: &str) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    let world = world_name(name);
    let mut files = python_files(name);
    files.extend(wit_files(name)?);
    Ok((world, files))
}

/// A Python HTTP project's files besides `wit/`.
pub fn python_files(name: &str) -> Vec<ProjectFile> {
    let mut files = super::python::common_files(name, &world_name(name));
    files.push(ProjectFile::new(
        "app.py",
        include_str!("../../../templates/http/python/app.py"),
    ));
    files
}

/// componentize-js 0.23's engine speaks WASI 0.2.10 and exports
/// `wasi:http/incoming-handler@0.2.10`, so a JavaScript project's world names that release
/// (the runtime serves every 0.2 release); its `wit/deps/` restate the runtime's packages at it.
fn js(name: &str) -> Result<(String, Vec<ProjectFile>), ScaffoldError> {
    let version = super::js::WASI_VERSION;
    runtime_version()?;
    let mut files = js_files(name);
    files.push(ProjectFile::new(
        "wit/world.wit",
        world_wit_at(name, version),
    ));
    files.extend(
        crate::wit::wasi::files_at(version)
            .into_iter()
            .map(|(file, text)| ProjectFile::new(Path::new("wit/deps").join(file), text)),
    );
    Ok((world_name(name), files))
}

/// A JavaScript HTTP project's files besides `wit/`.
pub fn js_files(name: &str) -> Vec<ProjectFile> {
    let mut files = super::js::common_files(name, &world_name(name));
    files.push(ProjectFile::new(
        super::js::APP_MODULE,
        include_str!("../../../templates/http/js/app.js"),
    ));
    files
}
