//! The module graph of `cli/src` has no circles, except the clap layer's `cli.rs` ↔
//! `commands/` (the subcommand enum names each command's arguments, and each command's
//! arguments live beside its implementation). Checked twice: between source files, and
//! between top-level modules (`lang`, `runtime`, `workspace`, …, each counted as one node).
//!
//! Sources are parsed with `syn`, so only real paths count: in `use` declarations, in code,
//! in macro calls and in attributes (`#[error(…, crate::x::Y)]`), but not in comments, string
//! literals or `#[cfg(test)]` items. A path counts whatever its form: `crate::…`, `super::…`,
//! `self::…`, one starting at a child module (`go::build()`), or one starting at a name a
//! `use` brought in (`use crate::lang; lang::for_language(…)`). A private `use` is an edge; a
//! `pub use` is an edge only when the module itself uses the name, so a facade that re-exports
//! its children is not tied to them, and a path through a re-export counts as a path to the
//! item's real home.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// Files allowed to form one circle: the command-line layer.
fn is_clap_layer(file: &str) -> bool {
    file == "cli.rs" || file.starts_with("commands/")
}

#[test]
fn the_module_graph_has_no_circles_outside_the_clap_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = ModuleGraph::read(&src);
    assert!(
        graph.modules.len() > 40,
        "found only {} modules",
        graph.modules.len()
    );
    let offending = graph.circles(|component| component.iter().all(|f| is_clap_layer(f)));
    assert!(offending.is_empty(), "{}", offending.join("\n\n"));
}

#[test]
fn top_level_modules_have_no_circles_outside_the_clap_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = ModuleGraph::read(&src).top_level();
    assert!(graph.edges.contains_key("lang"), "{:?}", graph.edges.keys());
    let offending = graph.circles(|component| {
        component
            .iter()
            .all(|module| module == "cli" || module == "commands")
    });
    assert!(offending.is_empty(), "{}", offending.join("\n\n"));
}

// The checker's own tests: each path form makes an edge, and a circle made of it is found.

/// A source tree in a temporary directory: `(path, text)` pairs, `lib.rs` among them.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let temp = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = temp.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    temp
}

fn edges_of(graph: &ModuleGraph, file: &str) -> Vec<String> {
    graph.edges[file].iter().cloned().collect()
}

fn circles_of(graph: &ModuleGraph) -> Vec<Vec<String>> {
    graph
        .strongly_connected()
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect()
}

/// `a.rs` names `b.rs` in the way `a_text` does; `b.rs` calls back into `a` with `crate::`.
fn planted(a_text: &str) -> ModuleGraph {
    let temp = tree(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a.rs", a_text),
        ("b.rs", "pub struct X;\npub fn g() { crate::a::h(); }\n"),
    ]);
    ModuleGraph::read(temp.path())
}

#[track_caller]
fn assert_planted_circle(a_text: &str) {
    let graph = planted(&format!("pub fn h() {{}}\n{a_text}"));
    assert_eq!(edges_of(&graph, "a.rs"), ["b.rs"], "{a_text}");
    assert_eq!(
        circles_of(&graph),
        [vec!["a.rs".to_owned(), "b.rs".to_owned()]],
        "{a_text}"
    );
}

#[test]
fn a_crate_path_in_code_is_an_edge() {
    assert_planted_circle("fn f() { crate::b::g(); }\n");
}

#[test]
fn a_super_path_is_an_edge() {
    assert_planted_circle("fn f() { super::b::g(); }\n");
}

#[test]
fn a_self_path_is_an_edge() {
    let temp = tree(&[
        ("lib.rs", "pub mod a;\n"),
        (
            "a/mod.rs",
            "pub mod b;\npub fn h() {}\nfn f() { self::b::g(); }\n",
        ),
        ("a/b.rs", "pub fn g() { super::h(); }\n"),
    ]);
    let graph = ModuleGraph::read(temp.path());
    assert_eq!(edges_of(&graph, "a/mod.rs"), ["a/b.rs"]);
    assert_eq!(circles_of(&graph).len(), 1);
}

#[test]
fn a_parent_calling_its_child_is_an_edge() {
    // The parent names its child by the child's name alone; the child uses the parent.
    let temp = tree(&[
        ("lib.rs", "pub mod a;\n"),
        (
            "a/mod.rs",
            "mod child;\npub struct Shared;\npub fn run() { child::go(); }\n",
        ),
        (
            "a/child.rs",
            "use super::Shared;\npub fn go() { let _ = Shared; }\n",
        ),
    ]);
    let graph = ModuleGraph::read(temp.path());
    assert_eq!(edges_of(&graph, "a/mod.rs"), ["a/child.rs"]);
    assert_eq!(edges_of(&graph, "a/child.rs"), ["a/mod.rs"]);
    assert_eq!(circles_of(&graph).len(), 1);
}

#[test]
fn a_local_variable_named_like_a_child_is_not_an_edge() {
    let temp = tree(&[
        ("lib.rs", "pub mod a;\n"),
        (
            "a/mod.rs",
            "mod graph;\npub struct Shared;\npub fn run(graph: u8) -> u8 { graph }\n",
        ),
        ("a/graph.rs", "pub fn go() { let _ = super::Shared; }\n"),
    ]);
    let graph = ModuleGraph::read(temp.path());
    assert!(edges_of(&graph, "a/mod.rs").is_empty());
}

#[test]
fn a_use_of_a_child_path_is_an_edge() {
    let temp = tree(&[
        ("lib.rs", "pub mod a;\n"),
        (
            "a/mod.rs",
            "mod child;\nuse child::go;\npub struct Shared;\npub fn run() { go(); }\n",
        ),
        ("a/child.rs", "pub fn go() { let _ = super::Shared; }\n"),
    ]);
    let graph = ModuleGraph::read(temp.path());
    assert_eq!(edges_of(&graph, "a/mod.rs"), ["a/child.rs"]);
    assert_eq!(circles_of(&graph).len(), 1);
}

#[test]
fn a_pub_use_counts_only_when_the_module_uses_it() {
    let facade = tree(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a/mod.rs", "mod inner;\npub use inner::Thing;\n"),
        (
            "a/inner.rs",
            "pub struct Thing;\nfn f() { crate::b::g(); }\n",
        ),
        (
            "b.rs",
            "use crate::a::Thing;\npub fn g() { let _ = Thing; }\n",
        ),
    ]);
    let graph = ModuleGraph::read(facade.path());
    // `b` names `a::Thing`, which is re-exported from `a/inner.rs`: the edge goes there.
    assert_eq!(edges_of(&graph, "b.rs"), ["a/inner.rs"]);
    assert!(edges_of(&graph, "a/mod.rs").is_empty());
    assert_eq!(
        circles_of(&graph),
        [vec!["a/inner.rs".to_owned(), "b.rs".to_owned()]]
    );

    let used = tree(&[
        ("lib.rs", "pub mod a;\n"),
        (
            "a/mod.rs",
            "mod inner;\npub use inner::Thing;\npub struct Shared;\npub fn make() -> Thing { Thing }\n",
        ),
        (
            "a/inner.rs",
            "pub struct Thing;\nfn f() { let _ = super::Shared; }\n",
        ),
    ]);
    let graph = ModuleGraph::read(used.path());
    assert_eq!(edges_of(&graph, "a/mod.rs"), ["a/inner.rs"]);
    assert_eq!(circles_of(&graph).len(), 1);
}

#[test]
fn a_path_through_an_imported_module_name_is_an_edge() {
    assert_planted_circle("use crate::b;\nfn f() { b::g(); }\n");
    assert_planted_circle("use super::b as other;\nfn f() { other::g(); }\n");
    assert_planted_circle("use crate::{b::{self}};\nfn f() { b::g(); }\n");
}

#[test]
fn paths_in_macros_and_attributes_are_edges() {
    assert_planted_circle("fn f() { let _ = format!(\"{:?}\", crate::b::g()); }\n");
    assert_planted_circle(
        "#[derive(thiserror::Error, Debug)]\n#[error(\"{}\", crate::b::N)]\nstruct E;\n",
    );
}

#[test]
fn comments_strings_and_test_code_are_not_edges() {
    let graph = planted(
        "pub fn h() {}\n\
         // crate::b::g() in a comment\n\
         /* super::b::g() */\n\
         /// [`crate::b::X`] in a doc comment\n\
         const S: &str = \"crate::b::X\";\n\
         #[cfg(test)]\nmod tests { use crate::b::g; }\n\
         #[cfg(test)]\nfn only_in_tests() { crate::b::g(); }\n",
    );
    assert!(edges_of(&graph, "a.rs").is_empty());
    assert!(circles_of(&graph).is_empty());
}

#[test]
fn a_circle_between_top_level_modules_is_found() {
    // No two files name each other, but `a` and `b` as modules do.
    let temp = tree(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a/mod.rs", "pub mod x;\npub mod y;\n"),
        ("a/x.rs", "pub fn f() { crate::b::g(); }\n"),
        ("a/y.rs", "pub fn h() {}\n"),
        ("b.rs", "pub fn g() {}\npub fn k() { crate::a::y::h(); }\n"),
    ]);
    let graph = ModuleGraph::read(temp.path());
    assert!(circles_of(&graph).is_empty());
    let modules = graph.top_level();
    assert_eq!(circles_of(&modules), [vec!["a".to_owned(), "b".to_owned()]]);
}

/// Source files, the module path each defines, and who names whom.
struct ModuleGraph {
    /// Module path (`["workspace", "build"]`) → file relative to `src/`.
    modules: BTreeMap<Vec<String>, String>,
    edges: BTreeMap<String, BTreeSet<String>>,
}

/// One name a `use` declaration brings into a module.
#[derive(Debug, Clone)]
struct Import {
    public: bool,
    /// The module (possibly an inline one) the `use` is in.
    scope: Vec<String>,
    /// The name it is known by there (`*` for a glob).
    name: String,
    /// The path as written.
    path: Vec<String>,
}

/// What one file says: its imports and every other path it writes.
#[derive(Debug, Default)]
struct FileNames {
    imports: Vec<Import>,
    /// `(scope, path)` of every path in code, macros and attributes.
    paths: Vec<(Vec<String>, Vec<String>)>,
}

impl ModuleGraph {
    fn read(src: &Path) -> Self {
        let mut files = Vec::new();
        collect_files(src, &mut files);
        let mut modules = BTreeMap::new();
        let mut names = BTreeMap::new();
        for path in files {
            let relative = path
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let Some(module) = module_path(&relative) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let file = syn::parse_file(&text)
                .unwrap_or_else(|err| panic!("{relative} does not parse: {err}"));
            let mut collector = Collector {
                scope: module.clone(),
                found: FileNames::default(),
            };
            collector.visit_file(&file);
            modules.insert(module, relative.clone());
            names.insert(relative, collector.found);
        }
        let mut graph = Self {
            modules,
            edges: BTreeMap::new(),
        };
        let imports: BTreeMap<(Vec<String>, String), Import> = names
            .values()
            .flat_map(|found| found.imports.iter())
            .map(|import| ((import.scope.clone(), import.name.clone()), import.clone()))
            .collect();
        for file in graph.modules.values() {
            let found = &names[file];
            let mut targets = BTreeSet::new();
            let used: BTreeSet<(&[String], &str)> = found
                .paths
                .iter()
                .filter_map(|(scope, path)| Some((scope.as_slice(), path.first()?.as_str())))
                .collect();
            for import in &found.imports {
                // A re-export the module itself never uses is a facade, not a dependency.
                if import.public && !used.contains(&(import.scope.as_slice(), import.name.as_str()))
                {
                    continue;
                }
                if let Some(absolute) = graph.absolute(&import.scope, &import.path, &imports, 0) {
                    targets.extend(graph.target_file(&absolute, &imports));
                }
            }
            for (scope, path) in &found.paths {
                if let Some(absolute) = graph.absolute(scope, path, &imports, 0) {
                    targets.extend(graph.target_file(&absolute, &imports));
                }
            }
            targets.remove(file);
            graph.edges.insert(file.clone(), targets);
        }
        graph
    }

    /// The same graph with each top-level module (`lang`, `runtime`, `fsutil`, the crate root
    /// as `lib`) as one node.
    fn top_level(&self) -> Self {
        let top = |file: &str| -> String {
            let module = module_path(file).unwrap_or_default();
            module.first().cloned().unwrap_or_else(|| "lib".to_owned())
        };
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, tos) in &self.edges {
            let from = top(from);
            let entry = edges.entry(from.clone()).or_default();
            entry.extend(tos.iter().map(|to| top(to)).filter(|to| *to != from));
        }
        Self {
            modules: BTreeMap::new(),
            edges,
        }
    }

    /// Every circle not allowed by `allowed`, described with its edges.
    fn circles(&self, allowed: impl Fn(&[String]) -> bool) -> Vec<String> {
        let mut offending = Vec::new();
        for component in self.strongly_connected() {
            if component.len() > 1 && !allowed(&component) {
                let mut lines = vec![format!("a circle of {}:", component.len())];
                for node in &component {
                    let inside: Vec<&String> = self.edges[node]
                        .iter()
                        .filter(|to| component.contains(to))
                        .collect();
                    lines.push(format!("  {node} -> {inside:?}"));
                }
                offending.push(lines.join("\n"));
            }
        }
        offending
    }

    /// The absolute module path of `path` as written in `scope`, if it is crate-local.
    fn absolute(
        &self,
        scope: &[String],
        path: &[String],
        imports: &BTreeMap<(Vec<String>, String), Import>,
        depth: usize,
    ) -> Option<Vec<String>> {
        let first = path.first()?;
        if depth > 8 {
            return None;
        }
        match first.as_str() {
            "crate" => return Some(path[1..].to_vec()),
            "super" | "self" => {
                let mut base = scope.to_vec();
                let mut rest = path;
                while let Some(head) = rest.first() {
                    match head.as_str() {
                        "super" => {
                            base.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                return Some(base);
            }
            _ => {}
        }
        // A name a `use` in this scope brought in: the path continues from what it names.
        if let Some(import) = imports.get(&(scope.to_vec(), first.clone()))
            && import.path != path
        {
            let mut base = self.absolute(&import.scope, &import.path, imports, depth + 1)?;
            base.extend(path[1..].iter().cloned());
            return Some(base);
        }
        // A child module in a file of its own (an inline one is part of this file). A module
        // is never a value, so a lone name (`graph.add(…)`) is a local variable, not one.
        let mut child = scope.to_vec();
        child.push(first.clone());
        if path.len() > 1 && self.modules.contains_key(&child) {
            let mut base = scope.to_vec();
            base.extend(path.iter().cloned());
            return Some(base);
        }
        None
    }

    /// The file that defines what `path` names, following re-exports.
    fn target_file(
        &self,
        path: &[String],
        imports: &BTreeMap<(Vec<String>, String), Import>,
    ) -> Option<String> {
        let mut path = path.to_vec();
        for _ in 0..8 {
            let (module, rest) = self.longest_module(&path);
            let reexport = rest.first().and_then(|name| {
                imports
                    .get(&(module.clone(), name.clone()))
                    .filter(|import| import.public)
            });
            match reexport {
                Some(import) => {
                    let mut next = self.absolute(&import.scope, &import.path, imports, 0)?;
                    next.extend(rest[1..].iter().cloned());
                    path = next;
                }
                None => return self.modules.get(&module).cloned(),
            }
        }
        None
    }

    fn longest_module(&self, path: &[String]) -> (Vec<String>, Vec<String>) {
        (0..=path.len())
            .rev()
            .map(|n| (path[..n].to_vec(), path[n..].to_vec()))
            .find(|(module, _)| self.modules.contains_key(module))
            .unwrap_or_default()
    }

    /// Tarjan's algorithm; each component sorted, components in discovery order.
    fn strongly_connected(&self) -> Vec<Vec<String>> {
        struct State<'a> {
            edges: &'a BTreeMap<String, BTreeSet<String>>,
            index: BTreeMap<&'a str, usize>,
            low: BTreeMap<&'a str, usize>,
            stack: Vec<&'a str>,
            on_stack: BTreeSet<&'a str>,
            found: Vec<Vec<String>>,
        }
        fn visit<'a>(state: &mut State<'a>, node: &'a str) {
            let next = state.index.len();
            state.index.insert(node, next);
            state.low.insert(node, next);
            state.stack.push(node);
            state.on_stack.insert(node);
            let edges = state.edges;
            for to in edges[node].iter().filter(|to| edges.contains_key(*to)) {
                if !state.index.contains_key(to.as_str()) {
                    visit(state, to);
                    let low = state.low[node].min(state.low[to.as_str()]);
                    state.low.insert(node, low);
                } else if state.on_stack.contains(to.as_str()) {
                    let low = state.low[node].min(state.index[to.as_str()]);
                    state.low.insert(node, low);
                }
            }
            if state.low[node] == state.index[node] {
                let mut component = Vec::new();
                while let Some(top) = state.stack.pop() {
                    state.on_stack.remove(top);
                    component.push(top.to_owned());
                    if top == node {
                        break;
                    }
                }
                component.sort();
                state.found.push(component);
            }
        }
        let mut state = State {
            edges: &self.edges,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            found: Vec::new(),
        };
        for node in self.edges.keys() {
            if !state.index.contains_key(node.as_str()) {
                visit(&mut state, node);
            }
        }
        state.found
    }
}

/// Walks one file's syntax tree for its imports and paths.
struct Collector {
    /// The module being walked (an inline `mod x { … }` extends it).
    scope: Vec<String>,
    found: FileNames,
}

impl Collector {
    fn path(&mut self, segments: Vec<String>) {
        if !segments.is_empty() {
            self.found.paths.push((self.scope.clone(), segments));
        }
    }

    /// `a::b::C` sequences in a token stream (macro input, attribute arguments).
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(group) => {
                    self.tokens(group.stream());
                    i += 1;
                }
                TokenTree::Ident(ident) => {
                    let mut segments = vec![ident.to_string()];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (trees.get(j), trees.get(j + 1), trees.get(j + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    // A single identifier counts only when it could be an imported name.
                    self.path(segments);
                    i = j;
                }
                _ => i += 1,
            }
        }
    }

    fn use_tree(&mut self, public: bool, prefix: Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                let mut prefix = prefix;
                prefix.push(path.ident.to_string());
                self.use_tree(public, prefix, &path.tree);
            }
            syn::UseTree::Name(name) => {
                let ident = name.ident.to_string();
                let (path, name) = if ident == "self" {
                    let last = prefix.last().cloned().unwrap_or_default();
                    (prefix, last)
                } else {
                    let mut path = prefix;
                    path.push(ident.clone());
                    (path, ident)
                };
                self.import(public, path, name);
            }
            syn::UseTree::Rename(rename) => {
                let mut path = prefix;
                let ident = rename.ident.to_string();
                if ident != "self" {
                    path.push(ident);
                }
                self.import(public, path, rename.rename.to_string());
            }
            syn::UseTree::Glob(_) => self.import(public, prefix, "*".to_owned()),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(public, prefix.clone(), tree);
                }
            }
        }
    }

    fn import(&mut self, public: bool, path: Vec<String>, name: String) {
        // `use x as _` imports a trait for its methods: always a dependency.
        let public = public && name != "_";
        let name = if name == "_" {
            format!("_{}", self.found.imports.len())
        } else {
            name
        };
        self.found.imports.push(Import {
            public,
            scope: self.scope.clone(),
            name,
            path,
        });
    }
}

/// `#[cfg(test)]` (not `#[cfg(not(test))]`).
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Macro(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            syn::Item::Union(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if is_test_only(attrs) {
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        if let syn::ImplItem::Fn(function) = item
            && is_test_only(&function.attrs)
        {
            return;
        }
        syn::visit::visit_impl_item(self, item);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let public = !matches!(item.vis, syn::Visibility::Inherited);
        self.use_tree(public, Vec::new(), &item.tree);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        // `mod x;` declares a file; `mod x { … }` is walked as module `x`.
        if item.content.is_some() {
            self.scope.push(item.ident.to_string());
            syn::visit::visit_item_mod(self, item);
            self.scope.pop();
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.path(segments);
        syn::visit::visit_path(self, path);
    }

    // `pub(crate)` and `pub(super)` name who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.tokens(mac.tokens.clone());
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        match &attr.meta {
            syn::Meta::List(list) => self.tokens(list.tokens.clone()),
            syn::Meta::NameValue(pair) if !attr.path().is_ident("doc") => {
                syn::visit::visit_expr(self, &pair.value);
            }
            _ => {}
        }
    }
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `workspace/build.rs` → `["workspace", "build"]`; `lib.rs` → `[]`; `main.rs` is not a module.
fn module_path(relative: &str) -> Option<Vec<String>> {
    let stem = relative.strip_suffix(".rs")?;
    let mut parts: Vec<String> = stem.split('/').map(str::to_owned).collect();
    match parts.last().map(String::as_str) {
        Some("main") if parts.len() == 1 => return None,
        Some("mod" | "lib") => {
            parts.pop();
        }
        _ => {}
    }
    Some(parts)
}
