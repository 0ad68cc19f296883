//! Pictures of a composition: components as nodes (name, language, size), edges labelled with
//! the interface one imports from the other, and the WASI interfaces the host provides grouped
//! into one node. Rendered as Mermaid, Graphviz DOT, or SVG laid out by wcomp itself.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{Composition, LeftReason};

/// A component in the picture.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GraphNode {
    pub name: String,
    pub language: Option<String>,
    pub size: u64,
    pub root: bool,
    /// What it was granted, when the composition has a policy.
    pub granted: Option<Vec<String>>,
}

/// `from` imports `interface` from `to`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub interface: String,
}

/// The graph to draw.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    /// Per component, the WASI packages it imports from the host (`wasi:cli`, `wasi:io`, …).
    pub host: Vec<(String, Vec<String>)>,
    /// Imports no component satisfies: `(importer, import)`.
    pub open: Vec<(String, String)>,
    /// Per component, the WASI interfaces it was not granted (answered by a deny component).
    pub denied: Vec<(String, Vec<String>)>,
}

/// Facts about a component that the composition does not carry.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub name: String,
    pub language: Option<String>,
    pub size: u64,
}

const HOST: &str = "host (WASI)";
const OPEN: &str = "unsatisfied imports";
const DENIED: &str = "denied (not granted)";

/// Builds the picture of `composition`; `info` gives each component's language and size.
pub fn build(composition: &Composition, info: &[NodeInfo]) -> Graph {
    let nodes = composition
        .instances
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let info = info.iter().find(|i| &i.name == name);
            GraphNode {
                name: name.clone(),
                language: info.and_then(|i| i.language.clone()),
                size: info.map_or(0, |i| i.size),
                root: index == 0,
                granted: composition.granted.get(name).cloned(),
            }
        })
        .collect();
    let edges = composition
        .links
        .iter()
        .map(|link| GraphEdge {
            from: link.importer.clone(),
            to: link.exporter.clone(),
            interface: link.import.clone(),
        })
        .collect();
    let mut host = Vec::new();
    for name in &composition.instances {
        let packages: BTreeSet<String> = composition
            .left
            .iter()
            .filter(|left| &left.importer == name && matches!(left.reason, LeftReason::Wasi))
            .map(|left| {
                left.import
                    .split('/')
                    .next()
                    .unwrap_or(&left.import)
                    .to_owned()
            })
            .collect();
        if !packages.is_empty() {
            host.push((name.clone(), packages.into_iter().collect()));
        }
    }
    let open = composition
        .left
        .iter()
        .filter(|left| !matches!(left.reason, LeftReason::Wasi))
        .map(|left| (left.importer.clone(), left.import.clone()))
        .collect();
    let mut denied = Vec::new();
    for name in &composition.instances {
        let imports: Vec<String> = composition
            .denied
            .iter()
            .filter(|d| &d.importer == name)
            .map(|d| d.import.split('@').next().unwrap_or(&d.import).to_owned())
            .collect();
        if !imports.is_empty() {
            denied.push((name.clone(), imports));
        }
    }
    Graph {
        nodes,
        edges,
        host,
        open,
        denied,
    }
}

fn label(node: &GraphNode) -> String {
    let language = node
        .language
        .as_deref()
        .map(|l| format!(" · {l}"))
        .unwrap_or_default();
    let granted = match node.granted.as_deref() {
        None => String::new(),
        Some([]) => " · allowed nothing".to_owned(),
        Some(granted) => format!(" · allowed {}", granted.join(", ")),
    };
    format!(
        "{}{language} · {}{granted}",
        node.name,
        human_size(node.size)
    )
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// An identifier safe in Mermaid and DOT.
fn id(name: &str) -> String {
    format!(
        "n_{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    )
}

/// Mermaid `flowchart` source.
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    for node in &graph.nodes {
        let shape = if node.root { ("[[", "]]") } else { ("[", "]") };
        let _ = writeln!(
            out,
            "    {}{}\"{}\"{}",
            id(&node.name),
            shape.0,
            label(node),
            shape.1
        );
    }
    if !graph.host.is_empty() {
        let _ = writeln!(out, "    host{{{{\"{HOST}\"}}}}");
    }
    if !graph.open.is_empty() {
        let _ = writeln!(out, "    open>\"{OPEN}\"]");
    }
    if !graph.denied.is_empty() {
        let _ = writeln!(out, "    denied[/\"{DENIED}\"/]");
    }
    for edge in &graph.edges {
        let _ = writeln!(
            out,
            "    {} -->|\"{}\"| {}",
            id(&edge.from),
            edge.interface,
            id(&edge.to)
        );
    }
    for (from, packages) in &graph.host {
        let _ = writeln!(
            out,
            "    {} -.->|\"{}\"| host",
            id(from),
            packages.join(", ")
        );
    }
    for (from, import) in &graph.open {
        let _ = writeln!(out, "    {} -.->|\"{import}\"| open", id(from));
    }
    for (from, imports) in &graph.denied {
        let _ = writeln!(
            out,
            "    {} -.-x|\"{}\"| denied",
            id(from),
            imports.join(", ")
        );
    }
    out
}

/// Graphviz DOT source.
pub fn dot(graph: &Graph) -> String {
    let mut out = String::from(
        "digraph composition {\n    rankdir=LR;\n    node [shape=box, fontname=\"sans-serif\"];\n",
    );
    for node in &graph.nodes {
        let style = if node.root { ", penwidth=2" } else { "" };
        let _ = writeln!(
            out,
            "    {} [label=\"{}\"{style}];",
            id(&node.name),
            label(node)
        );
    }
    if !graph.host.is_empty() {
        let _ = writeln!(
            out,
            "    host [label=\"{HOST}\", shape=ellipse, style=dashed];"
        );
    }
    if !graph.open.is_empty() {
        let _ = writeln!(
            out,
            "    open [label=\"{OPEN}\", shape=note, style=dashed];"
        );
    }
    if !graph.denied.is_empty() {
        let _ = writeln!(
            out,
            "    denied [label=\"{DENIED}\", shape=octagon, style=dashed];"
        );
    }
    for edge in &graph.edges {
        let _ = writeln!(
            out,
            "    {} -> {} [label=\"{}\"];",
            id(&edge.from),
            id(&edge.to),
            edge.interface
        );
    }
    for (from, packages) in &graph.host {
        let _ = writeln!(
            out,
            "    {} -> host [label=\"{}\", style=dashed];",
            id(from),
            packages.join(", ")
        );
    }
    for (from, import) in &graph.open {
        let _ = writeln!(
            out,
            "    {} -> open [label=\"{import}\", style=dashed];",
            id(from)
        );
    }
    for (from, imports) in &graph.denied {
        let _ = writeln!(
            out,
            "    {} -> denied [label=\"{}\", style=dashed, arrowhead=tee];",
            id(from),
            imports.join(", ")
        );
    }
    out.push_str("}\n");
    out
}

/// An SVG picture, laid out by layout-rs (no Graphviz install needed).
pub fn svg(graph: &Graph) -> String {
    use layout::backends::svg::SVGWriter;
    use layout::core::base::Orientation;
    use layout::core::geometry::Point;
    use layout::core::style::{LineStyleKind, StyleAttr};
    use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
    use layout::topo::layout::VisualGraph;

    let mut visual = VisualGraph::new(Orientation::LeftToRight);
    let element = |text: &str, bold: bool| {
        let mut look = StyleAttr::simple();
        if bold {
            look.line_width = 3;
        }
        let width = 24.0 + 8.0 * text.chars().count() as f64;
        Element::create(
            ShapeKind::new_box(text),
            look,
            Orientation::LeftToRight,
            Point::new(width, 50.0),
        )
    };
    let handles: Vec<_> = graph
        .nodes
        .iter()
        .map(|node| visual.add_node(element(&label(node), node.root)))
        .collect();
    let handle_of = |name: &str| {
        graph
            .nodes
            .iter()
            .position(|n| n.name == name)
            .map(|i| handles[i])
    };
    let arrow = |text: &str, dashed: bool| {
        let style = if dashed {
            LineStyleKind::Dashed
        } else {
            LineStyleKind::Normal
        };
        Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            style,
            text,
            &StyleAttr::simple(),
            &None,
            &None,
        )
    };
    for edge in &graph.edges {
        if let (Some(from), Some(to)) = (handle_of(&edge.from), handle_of(&edge.to)) {
            visual.add_edge(arrow(&edge.interface, false), from, to);
        }
    }
    if !graph.host.is_empty() {
        let host = visual.add_node(element(HOST, false));
        for (from, packages) in &graph.host {
            if let Some(from) = handle_of(from) {
                visual.add_edge(arrow(&packages.join(", "), true), from, host);
            }
        }
    }
    if !graph.open.is_empty() {
        let open = visual.add_node(element(OPEN, false));
        for (from, import) in &graph.open {
            if let Some(from) = handle_of(from) {
                visual.add_edge(arrow(import, true), from, open);
            }
        }
    }
    if !graph.denied.is_empty() {
        let denied = visual.add_node(element(DENIED, false));
        for (from, imports) in &graph.denied {
            if let Some(from) = handle_of(from) {
                visual.add_edge(arrow(&imports.join(", "), true), from, denied);
            }
        }
    }
    let mut writer = SVGWriter::new();
    visual.do_it(false, false, false, &mut writer);
    writer.finalize()
}

/// The source language recorded in a component's producers metadata: a `language` field, or
/// else a tool known to work for one language (`rustc`, `wit-bindgen-go`, `componentize-py`);
/// componentize-js is recognised by name before anything else.
/// Stripped components may record neither.
pub fn detect_language(bytes: &[u8]) -> Option<String> {
    use wasmparser::{KnownCustom, Parser, Payload};
    let mut by_tool = None;
    let mut language_field = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let Ok(Payload::CustomSection(section)) = payload else {
            continue;
        };
        let KnownCustom::Producers(reader) = section.as_known() else {
            continue;
        };
        for field in reader.into_iter().flatten() {
            for value in field.values.into_iter().flatten() {
                match (field.name, value.name) {
                    ("language", language) => {
                        language_field.get_or_insert_with(|| language.to_owned());
                    }
                    ("processed-by" | "sdk", "rustc" | "wit-bindgen-rust") => {
                        by_tool = Some("Rust")
                    }
                    ("processed-by" | "sdk", "wit-bindgen-go" | "TinyGo" | "componentize-go") => {
                        by_tool = Some("Go")
                    }
                    ("processed-by" | "sdk", "componentize-py") => by_tool = Some("Python"),
                    // componentize-js embeds an engine whose own modules record C and Rust,
                    // so its name outranks any `language` field.
                    ("processed-by" | "sdk", "ComponentizeJS" | "componentize-js") => {
                        return Some("JavaScript".to_owned());
                    }
                    _ => {}
                }
            }
        }
    }
    language_field.or_else(|| by_tool.map(str::to_owned))
}
