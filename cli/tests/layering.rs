//! The module graph of `cli/src` has no circles, except the clap layer's `cli.rs` ↔
//! `commands/` (the subcommand enum names each command's arguments, and each command's
//! arguments live beside its implementation).
//!
//! Nodes are source files; there is an edge from a file to every file whose items it names
//! through a `crate::…`, `super::…` or `self::…` path, or a path starting at one of its own
//! child modules, in `use` declarations and in code (comments, strings and `#[cfg(test)]
//! mod tests` blocks do not count). A path through a `pub use` re-export counts as a path to
//! the item's real home, so a facade module does not tie its users to its children.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
    let mut offending = Vec::new();
    for component in graph.strongly_connected() {
        if component.len() > 1 && !component.iter().all(|f| is_clap_layer(f)) {
            let mut lines = vec![format!("a circle of {} files:", component.len())];
            for file in &component {
                let inside: Vec<&String> = graph.edges[file]
                    .iter()
                    .filter(|to| component.contains(to))
                    .collect();
                lines.push(format!("  {file} -> {inside:?}"));
            }
            offending.push(lines.join("\n"));
        }
    }
    assert!(offending.is_empty(), "{}", offending.join("\n\n"));
}

#[test]
fn the_checker_finds_a_circle() {
    let temp = tempfile::tempdir().unwrap();
    let src = temp.path();
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\npub mod c;\n").unwrap();
    std::fs::write(
        src.join("a/mod.rs"),
        "pub mod inner;\npub use inner::Thing;\n// crate::c::X in a comment\nconst S: &str = \"crate::c::Y\";\n",
    )
    .unwrap();
    std::fs::write(
        src.join("a/inner.rs"),
        "pub struct Thing;\nfn f() { crate::b::g(); }\n",
    )
    .unwrap();
    std::fs::write(src.join("b.rs"), "use crate::a::Thing;\npub fn g() {}\n").unwrap();
    std::fs::write(
        src.join("c.rs"),
        "#[cfg(test)]\nmod tests { use crate::b::g; }\n",
    )
    .unwrap();
    let graph = ModuleGraph::read(src);
    // `b` names `a::Thing`, re-exported from `a/inner.rs`, which calls `b`.
    assert_eq!(
        graph.edges["b.rs"],
        BTreeSet::from(["a/inner.rs".to_owned()])
    );
    assert_eq!(
        graph.edges["a/inner.rs"],
        BTreeSet::from(["b.rs".to_owned()])
    );
    assert!(
        graph.edges["a/mod.rs"].is_empty(),
        "{:?}",
        graph.edges["a/mod.rs"]
    );
    assert!(graph.edges["c.rs"].is_empty());
    let circles: Vec<Vec<String>> = graph
        .strongly_connected()
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect();
    assert_eq!(circles, [vec!["a/inner.rs".to_owned(), "b.rs".to_owned()]]);
}

/// Source files, the module path each defines, and who names whom.
struct ModuleGraph {
    /// Module path (`["workspace", "build"]`) → file relative to `src/`.
    modules: BTreeMap<Vec<String>, String>,
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl ModuleGraph {
    fn read(src: &Path) -> Self {
        let mut files = Vec::new();
        collect_files(src, &mut files);
        let mut modules = BTreeMap::new();
        let mut texts = BTreeMap::new();
        for path in files {
            let relative = path
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let Some(module) = module_path(&relative) else {
                continue;
            };
            let text = code_only(&std::fs::read_to_string(&path).unwrap());
            modules.insert(module, relative.clone());
            texts.insert(relative, text);
        }
        let mut graph = Self {
            modules,
            edges: BTreeMap::new(),
        };
        let reexports = graph.reexports(&texts);
        for (module, file) in &graph.modules {
            let text = &texts[file];
            let mut targets = BTreeSet::new();
            for (public, path) in use_paths(text) {
                if public {
                    continue;
                }
                if let Some(absolute) = graph.absolute(module, &path) {
                    targets.extend(graph.target_file(&absolute, &reexports));
                }
            }
            for path in inline_paths(text) {
                if let Some(absolute) = graph.absolute(module, &path) {
                    targets.extend(graph.target_file(&absolute, &reexports));
                }
            }
            targets.remove(file);
            graph.edges.insert(file.clone(), targets);
        }
        graph
    }

    /// `(module, name)` → the absolute path a `pub use` in that module re-exports.
    fn reexports(
        &self,
        texts: &BTreeMap<String, String>,
    ) -> BTreeMap<(Vec<String>, String), Vec<String>> {
        let mut found = BTreeMap::new();
        for (module, file) in &self.modules {
            for (public, path) in use_paths(&texts[file]) {
                if !public {
                    continue;
                }
                let (path, alias) = match path.split_once(" as ") {
                    Some((path, alias)) => (path.to_owned(), Some(alias.to_owned())),
                    None => (path, None),
                };
                if let Some(absolute) = self.absolute(module, &path) {
                    let name =
                        alias.unwrap_or_else(|| absolute.last().cloned().unwrap_or_default());
                    found.insert((module.clone(), name), absolute);
                }
            }
        }
        found
    }

    /// The absolute module path of `path` as written in `module`, if it is crate-local.
    fn absolute(&self, module: &[String], path: &str) -> Option<Vec<String>> {
        let path = path.split(" as ").next().unwrap_or(path);
        let segments: Vec<String> = path
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let first = segments.first()?;
        if first == "crate" {
            return Some(segments[1..].to_vec());
        }
        let mut base = module.to_vec();
        if first == "super" || first == "self" {
            let mut rest = segments.as_slice();
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
        let mut child = base.clone();
        child.push(first.clone());
        self.modules.contains_key(&child).then(|| {
            base.extend(segments.iter().cloned());
            base
        })
    }

    /// The file that defines what `path` names, following re-exports.
    fn target_file(
        &self,
        path: &[String],
        reexports: &BTreeMap<(Vec<String>, String), Vec<String>>,
    ) -> Option<String> {
        let mut path = path.to_vec();
        for _ in 0..8 {
            let (module, rest) = self.longest_module(&path);
            match rest
                .first()
                .and_then(|name| reexports.get(&(module.clone(), name.clone())))
            {
                Some(target) => {
                    let mut next = target.clone();
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

/// The source without comments, string and char literals, and without the unit tests
/// (`#[cfg(test)] mod tests { … }` at the end of a file).
fn code_only(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !is_ident_char(chars.get(i.wrapping_sub(1)).copied())
        {
            // Raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\''), not a lifetime ('a).
            let is_char = matches!(
                (next, chars.get(i + 2)),
                (Some('\\'), _) | (Some(_), Some('\''))
            );
            if is_char {
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Every path of every `use` declaration, groups expanded: `(is pub, "crate::a::b")`.
fn use_paths(text: &str) -> Vec<(bool, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = find_keyword(rest, "use") {
        let before = rest[..at].trim_end();
        let public = before.ends_with("pub")
            || before
                .rfind("pub(")
                .is_some_and(|p| before[p..].find(')') == Some(before.len() - p - 1));
        let after = &rest[at + 3..];
        let Some(end) = after.find(';') else {
            break;
        };
        let body: String = after[..end]
            .chars()
            .filter(|c| !c.is_whitespace() || *c == ' ')
            .collect();
        for path in expand(body.trim()) {
            found.push((public, path));
        }
        rest = &after[end + 1..];
    }
    found
}

/// The byte offset of `keyword` as a whole word.
fn find_keyword(text: &str, keyword: &str) -> Option<usize> {
    let mut start = 0;
    while let Some(found) = text[start..].find(keyword) {
        let at = start + found;
        let before = text[..at].chars().next_back();
        let after = text[at + keyword.len()..].chars().next();
        let standalone = !is_ident_char(before) && after.is_some_and(char::is_whitespace);
        if standalone {
            return Some(at);
        }
        start = at + keyword.len();
    }
    None
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`; `a::{self, b}` → `a`, `a::b`.
fn expand(body: &str) -> Vec<String> {
    let Some(open) = body.find('{') else {
        return vec![body.trim().to_owned()];
    };
    let prefix = body[..open].trim();
    let inner = &body[open + 1..body.rfind('}').unwrap_or(body.len())];
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0, String::new());
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    let mut paths = Vec::new();
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        for path in expand(part) {
            if path == "self" {
                paths.push(prefix.trim_end_matches("::").to_owned());
            } else {
                paths.push(format!("{prefix}{path}"));
            }
        }
    }
    paths
}

/// Paths written in code: `crate::a::b(…)`, `super::x::Y`.
fn inline_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for keyword in ["crate::", "super::"] {
        let mut start = 0;
        while let Some(offset) = text[start..].find(keyword) {
            let at = start + offset;
            let before = text[..at].chars().next_back();
            if !is_ident_char(before) && before != Some(':') {
                let end = text[at..]
                    .find(|c: char| !(is_ident_char(Some(c)) || c == ':'))
                    .map_or(text.len(), |e| at + e);
                found.push(text[at..end].trim_end_matches(':').to_owned());
            }
            start = at + keyword.len();
        }
    }
    found
}
