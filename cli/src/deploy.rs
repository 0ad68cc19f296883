//! Manifests that run a published HTTP component on a cluster, pinned to its digest: a
//! wasmCloud 1 application (wadm, `core.oam.dev/v1beta1`) with the HTTP server provider
//! linked to the component; a wasmCloud 2 `WorkloadDeployment` (the runtime operator's
//! `runtime.wasmcloud.dev/v1alpha1`) binding the component to the host's HTTP server; or
//! Kubernetes objects for runwasi's wasmtime shim (a `RuntimeClass`, a `Deployment` of the
//! Wasm OCI artifact, a `Service`).
//!
//! Every manifest is built as a `serde_json::Value` and written by the small YAML emitter at
//! the end of this file, so no name or image can change a manifest's structure. Names are
//! DNS-1035 labels, as Kubernetes requires of a `Service`. Knows nothing about the command
//! line.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

/// Which platform to write for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// wasmCloud 1: a wadm application.
    Wadm,
    /// wasmCloud 2: a `WorkloadDeployment` for the runtime operator.
    WasmCloud,
    Kubernetes,
}

/// What to deploy.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The application's name, a DNS-1035 label (see [`deployment_name`]).
    pub name: String,
    /// `<registry>/<repository>@sha256:…`.
    pub image: String,
    pub replicas: u32,
    /// The port the component's HTTP server listens on (wadm and Kubernetes; a wasmCloud 2
    /// host listens where its host group says).
    pub port: u16,
    /// The HTTP `Host` a wasmCloud 2 host routes to the component [default: the name].
    pub http_host: Option<String>,
    /// The version the component was published as (see [`tag_version`]), when known.
    pub version: Option<String>,
}

/// The wasmCloud HTTP server provider the wadm manifest links the component to.
pub const WASMCLOUD_HTTP_SERVER: &str = "ghcr.io/wasmcloud/http-server:0.23.0";

/// Why no manifest can be written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DeployError {
    /// No DNS-1035 label can be made of the name.
    #[error("{origin} cannot name the deployment: {why}")]
    #[diagnostic(help(
        "Kubernetes and wasmCloud need a DNS-1035 label (lowercase letters, digits and `-`, starting with a letter, at most 63 characters): name it with `--name <label>`, e.g. `--name {example}`"
    ))]
    NoName {
        /// What the name was made of: the repository's last segment, or `--name`.
        origin: String,
        why: &'static str,
        example: String,
    },
    /// `--host` for a platform whose manifest serves on a port, not by host.
    #[error("`--host` applies to `--emit wasmcloud` only")]
    #[diagnostic(help(
        "wadm and Kubernetes manifests serve the component on `--port`; drop `--host`"
    ))]
    HostWithoutWasmCloud,
}

/// The YAML for `platform`.
pub fn manifest(platform: Platform, options: &DeployOptions) -> String {
    let (comment, documents) = match platform {
        Platform::Wadm => ("A wasmCloud 1 application (wadm).", vec![wadm(options)]),
        Platform::WasmCloud => (
            "A wasmCloud 2 workload, for the runtime operator (`runtime.wasmcloud.dev`).",
            vec![wasmcloud(options)],
        ),
        Platform::Kubernetes => (
            "Kubernetes objects for runwasi's wasmtime shim (containerd needs the runtime \
             `wasmtime`: runtime_type = \"io.containerd.wasmtime.v1\").",
            kubernetes(options),
        ),
    };
    format!("# {comment}\n{}", to_yaml(&documents))
}

/// The name of the deployment: `requested` (`--name`) or the last segment of `reference`'s
/// repository, made a DNS-1035 label (see [`dns_label`]).
pub fn deployment_name(requested: Option<&str>, reference: &str) -> anyhow::Result<String> {
    use crate::diagnostic::Report as _;
    let (text, origin) = match requested {
        Some(name) => (name.to_owned(), format!("`--name {name}`")),
        None => {
            let parsed = crate::registry::parse_reference(reference)?;
            let repository = parsed.repository();
            let last = repository.rsplit('/').next().unwrap_or(repository);
            (last.to_owned(), format!("the repository name `{last}`"))
        }
    };
    dns_label(&text).map_err(|why| {
        let example = dns_label(&format!("app-{text}")).unwrap_or_else(|_| "my-app".to_owned());
        DeployError::NoName {
            origin,
            why,
            example,
        }
        .report()
    })
}

/// `name` as a DNS-1035 label: lowercased, every character other than a letter or digit
/// made `-`, `-` trimmed from both ends, cut to 63 characters. Refused (with the reason) when
/// nothing is left or it starts with a digit: Kubernetes would refuse the `Service`.
pub fn dns_label(name: &str) -> Result<String, &'static str> {
    let mapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    // Every character is ASCII now, so cutting at a byte count cuts between characters.
    let mut label = mapped.trim_matches('-').to_owned();
    label.truncate(63);
    let label = label.trim_end_matches('-');
    match label.chars().next() {
        None => Err("it has no letter or digit"),
        Some(first) if first.is_ascii_digit() => Err("a name must start with a letter"),
        Some(_) => Ok(label.to_owned()),
    }
}

/// The version `reference`'s tag names (`1.2.0`, `v1.2`, `2.0.0-rc.1`), when it names one
/// that is also a valid Kubernetes label value; `None` for other tags (`latest`, `dev`) and
/// for a reference by digest alone.
///
/// Used when the manifest records no version (`wcomp publish` records the workspace's as
/// `org.opencontainers.image.version`; other tools may not).
pub fn tag_version(reference: &str) -> Option<String> {
    let parsed = crate::registry::parse_reference(reference).ok()?;
    let tag = parsed.tag()?;
    (is_version(tag) && is_label_value(tag)).then(|| tag.to_owned())
}

/// `1`, `1.2`, `1.2.3`, with an optional `v` in front and a `-prerelease` behind.
fn is_version(tag: &str) -> bool {
    let bare = tag.strip_prefix('v').unwrap_or(tag);
    let (core, prerelease) = match bare.split_once('-') {
        Some((core, prerelease)) => (core, Some(prerelease)),
        None => (bare, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    numeric
        && prerelease.is_none_or(|text| {
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        })
}

/// A Kubernetes label value: at most 63 characters of letters, digits, `-`, `_` and `.`,
/// beginning and ending with a letter or digit.
pub fn is_label_value(text: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    text.len() <= 63
        && edge(text.chars().next())
        && edge(text.chars().last())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The recommended Kubernetes labels, plus `app` (the selector, kept as earlier manifests
/// had it: a `Deployment`'s selector cannot change once applied).
fn labels(options: &DeployOptions) -> Value {
    let mut labels = Map::new();
    labels.insert("app".into(), json!(options.name));
    labels.insert("app.kubernetes.io/name".into(), json!(options.name));
    if let Some(version) = &options.version {
        labels.insert("app.kubernetes.io/version".into(), json!(version));
    }
    labels.insert("app.kubernetes.io/managed-by".into(), json!("wcomp"));
    Value::Object(labels)
}

fn wadm(options: &DeployOptions) -> Value {
    let name = &options.name;
    // wadm keeps every version of an application, so an unversioned artifact is told apart
    // by its digest rather than given one fixed version for all.
    let version = options.version.clone().unwrap_or_else(|| {
        let digest = options.image.rsplit(':').next().unwrap_or_default();
        format!("sha256-{}", &digest[..digest.len().min(12)])
    });
    json!({
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "annotations": {
                "version": version,
                "description": format!("{name}, deployed by wcomp"),
            },
        },
        "spec": {
            "components": [
                {
                    "name": name,
                    "type": "component",
                    "properties": {"image": options.image},
                    "traits": [{
                        "type": "spreadscaler",
                        "properties": {"instances": options.replicas},
                    }],
                },
                {
                    "name": "httpserver",
                    "type": "capability",
                    "properties": {"image": WASMCLOUD_HTTP_SERVER},
                    "traits": [{
                        "type": "link",
                        "properties": {
                            "target": {"name": name},
                            "namespace": "wasi",
                            "package": "http",
                            "interfaces": ["incoming-handler"],
                            "source": {"config": [{
                                "name": "default-http",
                                "properties": {"ADDRESS": format!("0.0.0.0:{}", options.port)},
                            }]},
                        },
                    }],
                },
            ],
        },
    })
}

/// The runtime operator's schema (`WorkloadDeploymentSpec` in wasmCloud's
/// `runtime-operator/api/runtime/v1alpha1`): `replicas` and a `template` whose `spec` lists
/// the components (name and OCI image) and the host interfaces the workload needs. The host's
/// HTTP server binds a workload that declares `wasi:http` with `incoming-handler` and routes
/// requests to it by their `Host` header, given as the interface's `host` config.
fn wasmcloud(options: &DeployOptions) -> Value {
    let name = &options.name;
    let host = options.http_host.as_deref().unwrap_or(name);
    json!({
        "apiVersion": "runtime.wasmcloud.dev/v1alpha1",
        "kind": "WorkloadDeployment",
        "metadata": {"name": name, "labels": labels(options)},
        "spec": {
            "replicas": options.replicas,
            "template": {
                "labels": labels(options),
                "spec": {
                    "components": [{"name": name, "image": options.image}],
                    "hostInterfaces": [{
                        "namespace": "wasi",
                        "package": "http",
                        "interfaces": ["incoming-handler"],
                        "config": {"host": host},
                    }],
                },
            },
        },
    })
}

fn kubernetes(options: &DeployOptions) -> Vec<Value> {
    let name = &options.name;
    let selector = json!({"app": name});
    vec![
        json!({
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": "wasmtime"},
            "handler": "wasmtime",
        }),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels(options)},
            "spec": {
                "replicas": options.replicas,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": labels(options)},
                    "spec": {
                        "runtimeClassName": "wasmtime",
                        "containers": [{
                            "name": name,
                            "image": options.image,
                            "ports": [{"containerPort": options.port, "name": "http"}],
                        }],
                    },
                },
            },
        }),
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "labels": labels(options)},
            "spec": {
                "selector": selector,
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        }),
    ]
}

/// The published component does not serve HTTP the way the manifests expect.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum NotHttp {
    /// It exports no HTTP handler at all.
    #[error(
        "`{reference}` does not export `wasi:http/incoming-handler`, so no platform can serve it"
    )]
    #[diagnostic(help(
        "publish an HTTP component (`wcomp new <dir> --template http`, or a composition rooted at one)"
    ))]
    NoHandler { reference: String },
    /// A WASI 0.3 handler: the manifests link `wasi:http/incoming-handler` (0.2).
    #[error(
        "`{reference}` is a WASI 0.3 handler (`wasi:http/handler`); the manifests wcomp writes serve WASI 0.2 handlers (`wasi:http/incoming-handler`)"
    )]
    #[diagnostic(help(
        "serve it with `wcomp serve oci://{reference}`, or publish a WASI 0.2 build of it (`wcomp new <dir> --template http`, the default `--wasi 0.2`)"
    ))]
    Wasi03 { reference: String },
}

/// Refuses a component (published as `reference`) that does not export
/// `wasi:http/incoming-handler`.
///
/// A WASI 0.3 handler is refused for every platform. wadm's HTTP server provider and
/// runwasi's wasmtime shim serve 0.2 only. wasmCloud 2's host has a 0.3 path, but a host group
/// runs it only with `component-model-async` added to its wasm proposals, and on a wasmtime
/// that may implement a 0.3 release candidate rather than the 0.3.0 wcomp builds, so a
/// manifest cannot promise that the component loads.
pub fn require_http(reference: &str, component: &[u8]) -> anyhow::Result<()> {
    use crate::diagnostic::Report as _;
    let (_, exports) = crate::registry::surface(component)?;
    if exports
        .iter()
        .any(|e| e.starts_with("wasi:http/incoming-handler@"))
    {
        return Ok(());
    }
    let reference = reference.to_owned();
    let refusal = if exports
        .iter()
        .any(|e| e.starts_with("wasi:http/handler@0.3"))
    {
        NotHttp::Wasi03 { reference }
    } else {
        NotHttp::NoHandler { reference }
    };
    Err(refusal.report())
}

/// `documents` as block-style YAML, separated by `---`. Keys come out sorted (serde_json's
/// map order), as `kubectl get -o yaml` prints them.
///
/// Strings are written plain only where every YAML reader (1.1 and 1.2) takes them for the
/// same string; all others are double-quoted. That covers what YAML 1.1 reads as booleans or
/// null (`yes`, `no`, `on`, `off`, `y`, `n`, `null`, `~`), numbers and times (`1.0`, `0x1F`,
/// `12:30`), and strings starting with an indicator (`-`, `*`, `&`, `!`, `#`, `@`, …).
pub fn to_yaml(documents: &[Value]) -> String {
    let mut out = String::new();
    for (index, document) in documents.iter().enumerate() {
        if index > 0 {
            out.push_str("---\n");
        }
        write_node(&mut out, document, 0, false);
    }
    out
}

/// Writes `value` with its lines at `indent`; with `inline`, its first line continues the
/// current one (after `- `).
fn write_node(out: &mut String, value: &Value, indent: usize, inline: bool) {
    let pad = |out: &mut String, index: usize| {
        if index > 0 || !inline {
            out.push_str(&" ".repeat(indent));
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (index, (key, item)) in map.iter().enumerate() {
                pad(out, index);
                out.push_str(&string_scalar(key));
                out.push(':');
                write_child(out, item, indent + 2, false);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                pad(out, index);
                out.push('-');
                write_child(out, item, indent + 2, true);
            }
        }
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

/// The value after `key:` or `-`: a scalar on the same line; a collection on the lines below
/// a key, or starting on the same line after `-` (`- name: x`).
fn write_child(out: &mut String, value: &Value, indent: usize, after_dash: bool) {
    let collection = match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => false,
    };
    if collection && !after_dash {
        out.push('\n');
        write_node(out, value, indent, false);
    } else {
        out.push(' ');
        write_node(out, value, indent, true);
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => string_scalar(text),
        Value::Object(_) => "{}".to_owned(),
        Value::Array(_) => "[]".to_owned(),
    }
}

/// `text` plain when it starts with a letter, has only characters that mean nothing to YAML
/// there (letters, digits, `.`, `_`, `/`, `@`, `+`, `-`, and `:` not at the end), and is no
/// word YAML 1.1 reads as a boolean or null; double-quoted otherwise.
fn string_scalar(text: &str) -> String {
    const WORDS: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let plain = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '@' | '+' | '-' | ':')
        })
        && !text.ends_with(':')
        && !WORDS.iter().any(|word| text.eq_ignore_ascii_case(word));
    if plain {
        text.to_owned()
    } else {
        double_quoted(text)
    }
}

/// A double-quoted scalar, escaped as a JSON string literal is (so it reads the same as JSON
/// too), except that it also escapes what JSON leaves raw but YAML may not: DEL and the C1
/// controls (not printable in YAML), and U+0085, U+2028 and U+2029, which YAML 1.1 readers
/// take for line breaks and fold into spaces inside quotes.
fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use serde::Deserialize as _;

    use super::*;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("Word_Svc"), Ok("word-svc".to_owned()));
        assert_eq!(dns_label("_hello.World_"), Ok("hello-world".to_owned()));
        assert_eq!(dns_label(&"a".repeat(80)).unwrap().len(), 63);
        // Cut at 63, the label must still end with a letter or digit.
        assert_eq!(
            dns_label(&format!("{}_b", "a".repeat(62))),
            Ok("a".repeat(62))
        );
        assert!(dns_label("--").is_err());
        assert!(dns_label("3d-viewer").is_err());
        assert!(dns_label("_3d").is_err());
    }

    #[test]
    fn a_name_that_makes_no_label_is_refused_with_a_way_out() {
        let err = deployment_name(None, "ghcr.io/acme/3d-viewer:1.0.0").unwrap_err();
        let DeployError::NoName {
            origin, example, ..
        } = crate::diagnostic::find::<DeployError>(&err).unwrap()
        else {
            panic!("{err}");
        };
        assert_eq!(origin, "the repository name `3d-viewer`");
        assert_eq!(example, "app-3d-viewer");
        assert!(
            err.to_string().contains("must start with a letter"),
            "{err}"
        );
        assert_eq!(
            deployment_name(Some("Word_Svc"), "ghcr.io/acme/3d:1").unwrap(),
            "word-svc"
        );
        assert_eq!(
            deployment_name(None, "ghcr.io/acme/word_svc:1").unwrap(),
            "word-svc"
        );
    }

    #[test]
    fn versions_come_from_version_tags() {
        let version = |tag: &str| tag_version(&format!("ghcr.io/acme/app:{tag}"));
        assert_eq!(version("1.2.0"), Some("1.2.0".to_owned()));
        assert_eq!(version("v2"), Some("v2".to_owned()));
        assert_eq!(version("2.0.0-rc.1"), Some("2.0.0-rc.1".to_owned()));
        assert_eq!(version("latest"), None);
        assert_eq!(version("1.2.3.4"), None);
        assert_eq!(version("1.0.0-"), None);
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(tag_version(&format!("ghcr.io/acme/app@{digest}")), None);
    }

    /// Every document of `text`, as JSON values.
    fn parse(text: &str) -> Vec<Value> {
        serde_yaml::Deserializer::from_str(text)
            .map(|document| Value::deserialize(document).unwrap())
            .collect()
    }

    const TRICKY: [&str; 44] = [
        "",
        " ",
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "N",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "1",
        "1.0",
        "-1",
        "+1",
        ".5",
        "0x1F",
        "0o17",
        "1e3",
        ".inf",
        "-.inf",
        ".NaN",
        "12:30",
        "2026-03-01",
        "-",
        "- a",
        "a: b",
        "a:",
        "a #b",
        "#a",
        "@a",
        "&a",
        "*a",
        "!a",
        "|",
        ">",
        "%a",
        "{a}",
        "[a]",
        "'a'",
        "\"a\"",
        "?",
    ];

    #[test]
    fn yaml_reads_back_as_the_values_written() {
        let escapes = [
            "a\nb",
            "tab\there",
            "back\\slash",
            "\u{1}",
            "\u{7f}",
            "\u{85}",
            "\u{2028}",
            "ü",
            "😀",
            " lead",
            "trail ",
            "a:b",
            "http://x/y?q=1#f",
        ];
        let strings: Vec<&str> = TRICKY.iter().chain(&escapes).copied().collect();
        let mut map = Map::new();
        for (index, text) in strings.iter().enumerate() {
            map.insert((*text).to_owned(), json!(index));
            map.insert(format!("value {index}"), json!(text));
        }
        let documents = vec![
            Value::Object(map),
            json!(strings),
            json!({
                "empty map": {}, "empty list": [], "nothing": null, "flags": [true, false],
                "numbers": [0, -7, 1.5, u64::MAX, i64::MIN],
                "nested": [[1, [2, 3]], [], {"a": [{"b": {"c": []}}]}, [{"d": 1, "e": 2}]],
            }),
            json!("yes"),
            json!([]),
        ];
        let text = to_yaml(&documents);
        assert_eq!(parse(&text), documents, "{text}");
    }

    #[test]
    fn what_yaml_1_1_reads_as_another_type_is_quoted() {
        for text in TRICKY {
            assert!(
                string_scalar(text).starts_with('"'),
                "{text:?} is not quoted"
            );
        }
        for text in [
            "apps/v1",
            "wasmtime",
            "app.kubernetes.io/name",
            "ghcr.io/a/b@sha256:0f",
        ] {
            assert_eq!(string_scalar(text), text);
        }
        assert_eq!(double_quoted("\u{2028}\u{85}\""), r#""\u2028\u0085\"""#);
    }

    #[test]
    fn collections_are_written_in_block_style() {
        let text = to_yaml(&[
            json!({"a": {"b": [{"c": 1, "d": [2]}, [3, 4]]}}),
            json!({"e": "f"}),
        ]);
        assert_eq!(
            text,
            "a:\n  b:\n    - c: 1\n      d:\n        - 2\n    - - 3\n      - 4\n---\ne: f\n"
        );
    }

    fn options(name: &str, version: Option<&str>) -> DeployOptions {
        DeployOptions {
            name: name.to_owned(),
            image: format!("ghcr.io/acme/{name}@sha256:{}", "0".repeat(64)),
            replicas: 2,
            port: 8000,
            http_host: None,
            version: version.map(str::to_owned),
        }
    }

    #[test]
    fn manifests_keep_names_that_yaml_reads_as_null_or_booleans() {
        for name in ["null", "on", "yes"] {
            for platform in [Platform::Wadm, Platform::WasmCloud, Platform::Kubernetes] {
                let text = manifest(platform, &options(name, Some("1.0")));
                for document in parse(&text) {
                    if document["kind"] != "RuntimeClass" {
                        assert_eq!(document["metadata"]["name"], name, "{text}");
                    }
                }
                // serde_yaml reads `on` and `yes` as strings (YAML 1.2); YAML 1.1 readers
                // would not.
                assert!(text.contains(&format!("name: \"{name}\"")), "{text}");
            }
        }
    }

    #[test]
    fn a_wasmcloud_workload_is_routed_by_host() {
        let mut options = options("app", None);
        let host = |options: &DeployOptions| {
            let workload = &parse(&manifest(Platform::WasmCloud, options))[0];
            workload["spec"]["template"]["spec"]["hostInterfaces"][0]["config"]["host"].clone()
        };
        assert_eq!(host(&options), "app");
        options.http_host = Some("app.example.com".to_owned());
        assert_eq!(host(&options), "app.example.com");
    }

    #[test]
    fn an_unversioned_wadm_application_is_versioned_by_its_digest() {
        let text = manifest(Platform::Wadm, &options("app", None));
        let app = &parse(&text)[0];
        assert_eq!(
            app["metadata"]["annotations"]["version"],
            "sha256-000000000000"
        );
    }

    /// A component exporting `name`, an instance with one function.
    fn exporting(name: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                (core module $m (func (export "f")))
                (core instance $i (instantiate $m))
                (func $f (canon lift (core func $i "f")))
                (instance $api (export "handle" (func $f)))
                (export "{name}" (instance $api)))"#
        ))
        .unwrap()
    }

    #[test]
    fn only_wasi_0_2_handlers_get_manifests() {
        let refusal = |name| {
            require_http("r/x:1", &exporting(name))
                .err()
                .map(|err| err.to_string())
        };
        assert_eq!(refusal("wasi:http/incoming-handler@0.2.6"), None);
        let p3 = refusal("wasi:http/handler@0.3.0").unwrap();
        assert!(p3.contains("is a WASI 0.3 handler"), "{p3}");
        let neither = refusal("acme:app/api@1.0.0").unwrap();
        assert!(neither.contains("does not export"), "{neither}");
    }
}
