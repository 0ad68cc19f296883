//! What every language's HTTP template shares (`wcomp new <dir> --template http`): the
//! project's world and the WASI packages it needs. Each language's scaffold makes an HTTP handler (`wasi:http/incoming-handler`) that
//! builds unmodified and answers `GET /` with a greeting naming its language, in what each
//! language's community uses for `wasi:http`: Rust with `wstd`, Go with the bindings
//! wit-bindgen-go generates for the world, Python with componentize-py's own `wasi:http`
//! support, JavaScript with componentize-js's `fetch` event. Go, Python and JavaScript projects get the world's WIT with the WASI packages the embedded
//! runtime serves under `wit/deps/`.

use std::path::Path;

use super::scaffold::{ProjectFile, ScaffoldError, render};
use crate::manifest::names::to_kebab;

/// The world name HTTP projects give themselves.
pub fn world_name(name: &str) -> String {
    to_kebab(name)
}

/// The project's world: `include wasi:http/proxy@<the runtime's version>`.
pub fn world_wit(name: &str) -> Result<String, ScaffoldError> {
    Ok(world_wit_at(name, &runtime_version()?))
}

/// The WASI version of the embedded runtime.
pub fn runtime_version() -> Result<String, ScaffoldError> {
    crate::wit::wasi::version().ok_or_else(|| ScaffoldError::Unsupported {
        item: "the HTTP template".into(),
        reason: "this wcomp was built without the WASI WIT of its runtime".into(),
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
