//! Keeps Go's garbage collector out of `cabi_realloc`, by editing the generated bindings.
//!
//! The host calls the component's `cabi_realloc` to place a `string` or `list` in Go's memory:
//! an import's result (each chunk `blocking-read` returns) or an export's parameters. Go's
//! `cabi_realloc` allocates on the collected heap, and an allocation may start, assist or
//! finish a collection, which reads the clocks: `clock_time_get` in the WASI preview1
//! adapter, whose `wasi:clocks` imports the component model forbids while `cabi_realloc` runs
//! (wasmtime traps: "cannot leave component instance"). The adapter serves a cached
//! monotonic clock while Go's `cabi_realloc` asks it to (`adapter_monotonic_clock_set_paused`),
//! but not the wall clock that ends every collection, nor the timer polls of a scheduler
//! waiting for its mark workers. So the collector is paused whenever the host may call
//! `cabi_realloc`: around every call to an import whose result owns memory, and while Go is
//! idle between exports (resumed for the duration of each export). `debug.SetGCPercent(-1)`
//! first finishes a collection in progress, in ordinary Go code, so none is running while
//! paused; the memory limit is lifted too, as it would otherwise still start collections.
//!
//! Everything added is named `wcomp_…`: WIT names become camel case in Go, so no generated
//! name has an underscore after `wcomp`. Depends on the shape of wit-bindgen-go's output (one
//! `//go:wasmimport` line above each import's declaration, the call on a line of its own); the
//! tests here pin it.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use wit_parser::{Function, Resolve, WorldId, WorldItem};

/// The file holding the world's exports, in the module root (package `main`).
const EXPORTS_FILE: &str = "wit_exports.go";

/// Pause and resume, defined once in each Go package that uses them, with the import they
/// need (a file's imports are its own).
const HELPERS: &str = "
// wcomp_collector_settings is how Go's garbage collector was set before wcomp paused it.
// wcomp pauses it whenever the host may call `cabi_realloc`, which must not call imports:
// a collection reads the clocks through the WASI adapter.
type wcomp_collector_settings struct {
	percent int
	limit   int64
}

// wcomp_pause_collector finishes a collection in progress and starts no other until resumed.
func wcomp_pause_collector() wcomp_collector_settings {
	return wcomp_collector_settings{wcomp_debug.SetGCPercent(-1), wcomp_debug.SetMemoryLimit(1<<63 - 1)}
}

func wcomp_resume_collector(settings wcomp_collector_settings) {
	wcomp_debug.SetMemoryLimit(settings.limit)
	wcomp_debug.SetGCPercent(settings.percent)
}
";

const HELPERS_IMPORT: &str = "import wcomp_debug \"runtime/debug\"";

/// Between exports the collector is paused: the host lowers an export's `string` and `list`
/// parameters with `cabi_realloc` before Go runs.
const IDLE_STATE: &str = "
// wcomp_idle_collector holds the collector's settings while Go is idle between exports.
var wcomp_idle_collector = wcomp_pause_collector()
";

/// Pauses the collector in `files` (wit-bindgen-go's output for `world`, keyed by path)
/// wherever the host may call `cabi_realloc`.
pub fn pause_for_reallocs(resolve: &Resolve, world: WorldId, files: &mut BTreeMap<String, String>) {
    let imports = imports_returning_memory(resolve, world);
    let mut users: BTreeMap<String, String> = BTreeMap::new();
    for (path, text) in files.iter_mut() {
        if !path.ends_with(".go") {
            continue;
        }
        let mut changed = guard_import_calls(text, &imports);
        if path == EXPORTS_FILE {
            changed |= resume_in_exports(text);
        }
        if changed {
            let package = path.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned();
            users.entry(package).or_insert_with(|| path.clone());
        }
    }
    for path in users.values() {
        let text = files.get_mut(path).expect("a path just seen");
        add_helpers(text);
    }
}

/// The `(module, name)` of each import of `world` whose result owns memory (a `string` or
/// `list` somewhere inside), as the `//go:wasmimport` lines spell them.
fn imports_returning_memory(resolve: &Resolve, world: WorldId) -> HashSet<(String, String)> {
    // The canonical ABI test for "the result owns memory", which is when lowering it calls
    // the callee's `cabi_realloc`; for an export that memory is freed in post-return.
    let returns_memory =
        |func: &Function| wit_bindgen_core::abi::guest_export_needs_post_return(resolve, func);
    let mut imports = HashSet::new();
    for (key, item) in &resolve.worlds[world].imports {
        match item {
            WorldItem::Interface { id, .. } => {
                let module = resolve.name_world_key(key);
                for func in resolve.interfaces[*id].functions.values() {
                    if returns_memory(func) {
                        imports.insert((module.clone(), func.name.clone()));
                    }
                }
            }
            WorldItem::Function(func) if returns_memory(func) => {
                imports.insert(("$root".to_owned(), func.name.clone()));
            }
            WorldItem::Function(_) | WorldItem::Type { .. } => {}
        }
    }
    imports
}

/// Wraps each call to an import in `imports` in a pause of the collector; whether any was.
fn guard_import_calls(text: &mut String, imports: &HashSet<(String, String)>) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    // The Go functions declared for those imports: `//go:wasmimport <module> <name>` and,
    // on the next line, `func wasm_import_<name>(…)`.
    let mut guarded = BTreeSet::new();
    for pair in lines.windows(2) {
        let Some((module, name)) = pair[0]
            .strip_prefix("//go:wasmimport ")
            .and_then(|rest| rest.split_once(' '))
        else {
            continue;
        };
        if !imports.contains(&(module.to_owned(), name.trim().to_owned())) {
            continue;
        }
        if let Some(function) = pair[1]
            .strip_prefix("func ")
            .and_then(|rest| rest.split_once('('))
            .map(|(function, _)| function)
        {
            guarded.insert(function.to_owned());
        }
    }
    if guarded.is_empty() {
        return false;
    }
    let mut out = String::with_capacity(text.len() + guarded.len() * 120);
    let mut changed = false;
    for line in text.split_inclusive('\n') {
        let call = line.trim_start();
        let indent = &line[..line.len() - call.len()];
        let is_guarded_call = call
            .split_once('(')
            .is_some_and(|(function, _)| guarded.contains(function));
        if is_guarded_call {
            out.push_str(&format!(
                "{indent}wcomp_paused := wcomp_pause_collector()\n{line}"
            ));
            if !line.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("{indent}wcomp_resume_collector(wcomp_paused)\n"));
            changed = true;
        } else {
            out.push_str(line);
        }
    }
    *text = out;
    changed
}

/// Resumes the collector for the duration of each export the host calls, and pauses it
/// from package initialisation on; whether there was an export.
fn resume_in_exports(text: &mut String) -> bool {
    let mut out = String::with_capacity(text.len() + 1024);
    let mut changed = false;
    let mut export_follows = false;
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        if export_follows && line.starts_with("func ") && line.trim_end().ends_with('{') {
            out.push_str(concat!(
                "\twcomp_resume_collector(wcomp_idle_collector)\n",
                "\tdefer func() { wcomp_idle_collector = wcomp_pause_collector() }()\n",
            ));
            changed = true;
        }
        // Post-return functions only unpin: they run paused, like anything between exports.
        export_follows = line
            .strip_prefix("//go:wasmexport ")
            .is_some_and(|name| !name.starts_with("cabi_post_"));
    }
    if changed {
        out.push_str(IDLE_STATE);
    }
    *text = out;
    changed
}

/// Adds the pause and resume functions to `text`, with their import after the package clause.
fn add_helpers(text: &mut String) {
    let mut out = String::with_capacity(text.len() + HELPERS.len() + 64);
    let mut imported = false;
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        if !imported && line.starts_with("package ") {
            out.push_str(&format!("\n{HELPERS_IMPORT}\n"));
            imported = true;
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(HELPERS);
    *text = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIT: &str = r#"package a:b;

interface streams {
    resource input {
        read: func(len: u64) -> result<list<u8>, u32>;
        skip: func(len: u64) -> result<u64, u32>;
    }
}

interface text {
    describe: func(text: string) -> string;
    count: func(text: string) -> u32;
}

world w {
    import streams;
    import name: func() -> option<string>;
    import tick: func() -> u64;
    export text;
}
"#;

    fn generated() -> BTreeMap<String, String> {
        let mut resolve = Resolve::default();
        let package = resolve.push_str("t.wit", WIT).unwrap();
        let world = resolve.select_world(&[package], Some("w")).unwrap();
        super::super::bindings::generate_bindings(&resolve, world, false).unwrap()
    }

    /// The lines of `text` around each `wasm_import_…` call: the one before and after.
    fn calls<'a>(text: &'a str, function: &str) -> Vec<[&'a str; 3]> {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        lines
            .windows(3)
            .filter(|w| w[1].starts_with(&format!("{function}(")))
            .map(|w| [w[0], w[1], w[2]])
            .collect()
    }

    #[test]
    fn imports_returning_memory_are_called_with_the_collector_paused() {
        let files = generated();
        let streams = &files["a_b_streams/wit_bindings.go"];
        let read = calls(streams, "wasm_import_method_input_read");
        assert_eq!(read.len(), 1, "{streams}");
        assert_eq!(read[0][0], "wcomp_paused := wcomp_pause_collector()");
        assert_eq!(read[0][2], "wcomp_resume_collector(wcomp_paused)");
        // A result without a string or list needs no `cabi_realloc`.
        let skip = calls(streams, "wasm_import_method_input_skip");
        assert_eq!(skip.len(), 1, "{streams}");
        assert!(!skip[0][0].contains("wcomp"), "{streams}");
        assert!(streams.contains("import wcomp_debug \"runtime/debug\""));
        assert_eq!(streams.matches("func wcomp_pause_collector()").count(), 1);

        // The world's own functions, in their own package.
        let world = &files["wit_world/wit_bindings.go"];
        let name = calls(world, "wasm_import_name");
        assert_eq!(name.len(), 1, "{world}");
        assert_eq!(name[0][0], "wcomp_paused := wcomp_pause_collector()");
        let tick = calls(world, "result := wasm_import_tick");
        assert_eq!(tick.len(), 1, "{world}");
        assert!(!tick[0][0].contains("wcomp"), "{world}");
        // The exports' package defines its own.
        let exports = &files[EXPORTS_FILE];
        assert_eq!(exports.matches("func wcomp_pause_collector()").count(), 1);
        assert_eq!(exports.matches("import wcomp_debug").count(), 1);
    }

    #[test]
    fn exports_run_with_the_collector_and_it_is_paused_between_them() {
        let files = generated();
        let exports = &files[EXPORTS_FILE];
        assert!(exports.contains("var wcomp_idle_collector = wcomp_pause_collector()"));
        let resumed = exports
            .matches("\twcomp_resume_collector(wcomp_idle_collector)\n\tdefer func() { wcomp_idle_collector = wcomp_pause_collector() }()\n")
            .count();
        // `describe` and `count`; not `describe`'s post-return.
        assert_eq!(resumed, 2, "{exports}");
        assert!(exports.contains("//go:wasmexport cabi_post_"), "{exports}");
    }

    #[test]
    fn files_without_such_calls_are_left_alone() {
        let mut text = "package x\n\n//go:wasmimport a:b/c f\nfunc wasm_import_f(arg0 int32)\n\nfunc F() {\n\twasm_import_f(1)\n}\n".to_owned();
        let before = text.clone();
        assert!(!guard_import_calls(&mut text, &HashSet::new()));
        assert_eq!(text, before);
        let imports = HashSet::from([("a:b/c".to_owned(), "f".to_owned())]);
        assert!(guard_import_calls(&mut text, &imports));
        assert!(text.contains(
            "\twcomp_paused := wcomp_pause_collector()\n\twasm_import_f(1)\n\twcomp_resume_collector(wcomp_paused)\n"
        ));
        // The declaration itself is not a call.
        assert!(text.contains("\nfunc wasm_import_f(arg0 int32)\n"));
    }
}
