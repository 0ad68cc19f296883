//! How componentize-py 0.25 names things in Python: keyword escaping, the module names of
//! interfaces (qualified only when two would clash), and the module names Python has already
//! loaded by the time componentize-py looks for an app's resource classes.

use std::collections::{BTreeMap, HashMap};

use wit_parser::{InterfaceId, Resolve};

use crate::manifest::names::{to_snake, to_upper_camel};

/// Python's hard keywords: componentize-py appends `_` to names that collide with them.
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Modules already loaded when componentize-py looks up exported resources (measured with 0.25.1
/// by listing `sys.modules` from an app). A project file with one of these names is never
/// imported, so an exported resource whose interface has such a name cannot be found.
pub const PRELOADED_MODULES: &[&str] = &[
    "abc",
    "annotationlib",
    "app",
    "ast",
    "builtins",
    "codecs",
    "collections",
    "componentize_py_async_support",
    "componentize_py_runtime",
    "componentize_py_types",
    "copy",
    "copyreg",
    "dataclasses",
    "dis",
    "encodings",
    "enum",
    "errno",
    "functools",
    "genericpath",
    "importlib",
    "inspect",
    "io",
    "itertools",
    "keyword",
    "linecache",
    "marshal",
    "opcode",
    "operator",
    "os",
    "poll_loop",
    "posix",
    "posixpath",
    "re",
    "reprlib",
    "site",
    "stat",
    "sys",
    "time",
    "token",
    "tokenize",
    "types",
    "typing",
    "weakref",
    "wit_world",
    "zipimport",
];

/// Names `app.py` binds itself (or uses as builtins in type hints); an interface module with one
/// of these names is imported under an alias instead.
pub const APP_NAMES: &[&str] = &[
    "wit_world",
    "exports",
    "componentize_py_types",
    "bool",
    "int",
    "float",
    "str",
    "bytes",
    "list",
    "tuple",
];

/// `name` with `_` appended when it is a Python keyword (componentize-py's escaping).
pub fn escape(name: String) -> String {
    if PYTHON_KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    }
}

/// A WIT name as a Python function, parameter or module name.
pub fn python_snake(name: &str) -> String {
    escape(to_snake(name))
}

/// A WIT name as a Python class name.
pub fn python_camel(name: &str) -> String {
    escape(to_upper_camel(name))
}

/// Interfaces named alike, by package (`namespace`, `name`), with their versions.
type NameTree<'a> =
    BTreeMap<&'a str, BTreeMap<Option<(&'a str, &'a str)>, Vec<(Option<String>, InterfaceId)>>>;

/// componentize-py's module base names for a set of interfaces of one direction: the plain
/// interface name, qualified with `namespace-package` when two packages use that name, and with
/// the version too when one package appears in several versions.
pub fn interface_names(resolve: &Resolve, ids: &[InterfaceId]) -> HashMap<InterfaceId, String> {
    // name -> package (namespace, name) -> versions
    let mut tree = NameTree::new();
    for &id in ids {
        let interface = &resolve.interfaces[id];
        let Some(name) = interface.name.as_deref() else {
            continue;
        };
        let package = interface.package.map(|p| &resolve.packages[p].name);
        tree.entry(name)
            .or_default()
            .entry(package.map(|p| (p.namespace.as_str(), p.name.as_str())))
            .or_default()
            .push((
                package
                    .and_then(|p| p.version.as_ref())
                    .map(ToString::to_string),
                id,
            ));
    }
    let mut names = HashMap::new();
    for (name, packages) in &tree {
        for (package, versions) in packages {
            for (version, id) in versions {
                let qualified = match (package, version) {
                    (None, _) => (*name).to_owned(),
                    (Some((namespace, package)), Some(version)) if versions.len() > 1 => {
                        format!("{namespace}-{package}-{name}-{}", version.replace('.', "-"))
                    }
                    (Some(_), _) if packages.len() == 1 => (*name).to_owned(),
                    (Some((namespace, package)), _) => format!("{namespace}-{package}-{name}"),
                };
                names.insert(*id, qualified);
            }
        }
    }
    names
}
