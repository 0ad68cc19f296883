//! Manifests that run a published HTTP component on a cluster, pinned to its digest: a
//! wasmCloud application (wadm, `core.oam.dev/v1beta1`) with the HTTP server provider linked
//! to the component, or Kubernetes objects for runwasi's wasmtime shim (a `RuntimeClass`, a
//! `Deployment` of the Wasm OCI artifact, a `Service`). Written as YAML text; knows nothing
//! about the command line.

use std::fmt::Write as _;

/// Which platform to write for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Wadm,
    Kubernetes,
}

/// What to deploy.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The application's name (a DNS label).
    pub name: String,
    /// `<registry>/<repository>@sha256:…`.
    pub image: String,
    pub replicas: u32,
    /// The port the component's HTTP server listens on.
    pub port: u16,
    /// `org.opencontainers.image.version` of the artifact, when it has one.
    pub version: Option<String>,
}

/// The wasmCloud HTTP server provider the wadm manifest links the component to.
pub const WASMCLOUD_HTTP_SERVER: &str = "ghcr.io/wasmcloud/http-server:0.23.0";

/// The YAML for `platform`.
pub fn manifest(platform: Platform, options: &DeployOptions) -> String {
    match platform {
        Platform::Wadm => wadm(options),
        Platform::Kubernetes => kubernetes(options),
    }
}

/// `name` as a DNS label: lowercase letters, digits and `-`, at most 63 characters.
pub fn dns_label(name: &str) -> String {
    let mut label: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    label.truncate(63);
    let label = label.trim_matches('-').to_owned();
    if label.is_empty() {
        "component".to_owned()
    } else {
        label
    }
}

/// A YAML double-quoted string.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn wadm(options: &DeployOptions) -> String {
    let mut out = String::new();
    let name = &options.name;
    let version = options
        .version
        .clone()
        .unwrap_or_else(|| "v0.1.0".to_owned());
    let _ = writeln!(
        out,
        "# A wasmCloud application (wadm) for {}.",
        options.image
    );
    let _ = writeln!(out, "apiVersion: core.oam.dev/v1beta1");
    let _ = writeln!(out, "kind: Application");
    let _ = writeln!(out, "metadata:");
    let _ = writeln!(out, "  name: {name}");
    let _ = writeln!(out, "  annotations:");
    let _ = writeln!(out, "    version: {}", quoted(&version));
    let _ = writeln!(
        out,
        "    description: {}",
        quoted(&format!("{name}, deployed by wcomp"))
    );
    let _ = writeln!(out, "spec:");
    let _ = writeln!(out, "  components:");
    let _ = writeln!(out, "    - name: {name}");
    let _ = writeln!(out, "      type: component");
    let _ = writeln!(out, "      properties:");
    let _ = writeln!(out, "        image: {}", quoted(&options.image));
    let _ = writeln!(out, "      traits:");
    let _ = writeln!(out, "        - type: spreadscaler");
    let _ = writeln!(out, "          properties:");
    let _ = writeln!(out, "            instances: {}", options.replicas);
    let _ = writeln!(out, "    - name: httpserver");
    let _ = writeln!(out, "      type: capability");
    let _ = writeln!(out, "      properties:");
    let _ = writeln!(out, "        image: {}", quoted(WASMCLOUD_HTTP_SERVER));
    let _ = writeln!(out, "      traits:");
    let _ = writeln!(out, "        - type: link");
    let _ = writeln!(out, "          properties:");
    let _ = writeln!(out, "            target:");
    let _ = writeln!(out, "              name: {name}");
    let _ = writeln!(out, "            namespace: wasi");
    let _ = writeln!(out, "            package: http");
    let _ = writeln!(out, "            interfaces: [incoming-handler]");
    let _ = writeln!(out, "            source:");
    let _ = writeln!(out, "              config:");
    let _ = writeln!(out, "                - name: default-http");
    let _ = writeln!(out, "                  properties:");
    let _ = writeln!(
        out,
        "                    ADDRESS: {}",
        quoted(&format!("0.0.0.0:{}", options.port))
    );
    out
}

fn kubernetes(options: &DeployOptions) -> String {
    let name = &options.name;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Kubernetes objects for {} on runwasi's wasmtime shim",
        options.image
    );
    let _ = writeln!(
        out,
        "# (containerd needs the runtime `wasmtime`: runtime_type = \"io.containerd.wasmtime.v1\")."
    );
    let _ = writeln!(out, "apiVersion: node.k8s.io/v1");
    let _ = writeln!(out, "kind: RuntimeClass");
    let _ = writeln!(out, "metadata:");
    let _ = writeln!(out, "  name: wasmtime");
    let _ = writeln!(out, "handler: wasmtime");
    let _ = writeln!(out, "---");
    let _ = writeln!(out, "apiVersion: apps/v1");
    let _ = writeln!(out, "kind: Deployment");
    let _ = writeln!(out, "metadata:");
    let _ = writeln!(out, "  name: {name}");
    let _ = writeln!(out, "  labels:");
    let _ = writeln!(out, "    app: {name}");
    let _ = writeln!(out, "spec:");
    let _ = writeln!(out, "  replicas: {}", options.replicas);
    let _ = writeln!(out, "  selector:");
    let _ = writeln!(out, "    matchLabels:");
    let _ = writeln!(out, "      app: {name}");
    let _ = writeln!(out, "  template:");
    let _ = writeln!(out, "    metadata:");
    let _ = writeln!(out, "      labels:");
    let _ = writeln!(out, "        app: {name}");
    let _ = writeln!(out, "    spec:");
    let _ = writeln!(out, "      runtimeClassName: wasmtime");
    let _ = writeln!(out, "      containers:");
    let _ = writeln!(out, "        - name: {name}");
    let _ = writeln!(out, "          image: {}", quoted(&options.image));
    let _ = writeln!(out, "          ports:");
    let _ = writeln!(out, "            - containerPort: {}", options.port);
    let _ = writeln!(out, "              name: http");
    let _ = writeln!(out, "---");
    let _ = writeln!(out, "apiVersion: v1");
    let _ = writeln!(out, "kind: Service");
    let _ = writeln!(out, "metadata:");
    let _ = writeln!(out, "  name: {name}");
    let _ = writeln!(out, "spec:");
    let _ = writeln!(out, "  selector:");
    let _ = writeln!(out, "    app: {name}");
    let _ = writeln!(out, "  ports:");
    let _ = writeln!(out, "    - port: 80");
    let _ = writeln!(out, "      targetPort: http");
    out
}

/// The published component does not serve HTTP the way the manifests expect.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum NotHttp {
    /// It exports no HTTP handler at all.
    #[error(
        "`{reference}` does not export `wasi:http/incoming-handler`, so neither platform can serve it"
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
/// `wasi:http/incoming-handler`: neither platform could serve it.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("Word_Svc"), "word-svc");
        assert_eq!(dns_label("--"), "component");
        assert_eq!(dns_label(&"a".repeat(80)).len(), 63);
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
