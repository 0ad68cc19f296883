//! OCI registries for real: each test starts the CNCF distribution registry (Debian's
//! `docker-registry`, installed by scripts/install-deps.sh) on a free loopback port with a
//! temporary storage directory, and `wcomp publish`/`pull`/`run oci://`/`serve oci://` talk
//! to it over HTTP.

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]

mod support;

use std::io::Write as _;

use serde::Deserialize;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Run, repo_root, run, tempdir};

/// A registry process; stopped when dropped.
struct Registry {
    child: Option<Child>,
    addr: String,
    config: PathBuf,
}

impl Registry {
    /// Starts a registry storing in `dir`; with `auth`, only `user`/`secret` may pull or push.
    fn start(dir: &Path, auth: bool) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let data = dir.join(format!("registry-{port}"));
        std::fs::create_dir_all(&data).unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            data.display()
        );
        if auth {
            let hash = Command::new("python3")
                .args(["-W", "ignore", "-c", "import crypt; print(crypt.crypt('secret', crypt.mksalt(crypt.METHOD_BLOWFISH)))"])
                .output()
                .unwrap();
            let htpasswd = dir.join(format!("htpasswd-{port}"));
            std::fs::write(
                &htpasswd,
                format!("user:{}", String::from_utf8_lossy(&hash.stdout)),
            )
            .unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: wcomp-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.join(format!("registry-{port}.yml"));
        std::fs::write(&config_path, config).unwrap();
        let mut registry = Self {
            child: None,
            addr,
            config: config_path,
        };
        registry.resume();
        registry
    }

    /// (Re)starts the process on the same port and storage.
    fn resume(&mut self) {
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry is installed (scripts/install-deps.sh)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&self.addr).is_err() {
            assert!(Instant::now() < deadline, "the registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn reference(&self, repository: &str) -> String {
        format!("{}/{repository}", self.addr)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A small component exporting `example:math/add@0.1.0` (`add(a, b)`), compiled from `.wat`.
fn command_component(dir: &Path) -> PathBuf {
    let path = dir.join("hello.wasm");
    let bytes = wat::parse_file(repo_root().join("tests/compose/components/add.wat")).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

const ADD: &str = "add(1, 2)";

/// `wcomp` with its own cache directory (so "from the cache" means this test's cache).
fn wcomp(dir: &Path, cache: &Path, args: &[&str]) -> Run {
    let output = support::wcomp(dir)
        .env("WCOMP_CACHE_DIR", cache)
        .env("DOCKER_CONFIG", dir.join("docker"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .args(args)
        .output()
        .unwrap();
    Run::from_output(output)
}

fn json_line(stdout: &str, reason: &str) -> serde_json::Value {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|value| value["reason"] == reason)
        .unwrap_or_else(|| panic!("no `{reason}` in:\n{stdout}"))
}

/// `wcomp publish --format json … --insecure`: the `published` object it printed.
fn publish_json(dir: &Path, cache: &Path, reference: &str, component: &Path) -> serde_json::Value {
    let out = wcomp(
        dir,
        cache,
        &[
            "--format",
            "json",
            "publish",
            reference,
            component.to_str().unwrap(),
            "--insecure",
        ],
    )
    .success();
    json_line(&out.stdout, "published")["published"].clone()
}

#[test]
fn publish_pull_run_and_the_cache() {
    let temp = tempdir();
    let dir = temp.path();
    let cache = dir.join("cache");
    let mut registry = Registry::start(dir, false);
    let component = command_component(dir);
    let reference = registry.reference("acme/hello:1.0.0");

    let published = publish_json(dir, &cache, &reference, &component);
    let digest = published["digest"].as_str().unwrap().to_owned();
    assert!(digest.starts_with("sha256:"), "{published}");
    let pinned = published["pinned"].as_str().unwrap().to_owned();
    assert_eq!(pinned, format!("{}/acme/hello@{digest}", registry.addr));

    // The artifact is the standard one: read back with oci-client, as other tools would.
    let manifest = raw_manifest(&registry, "acme/hello", "1.0.0");
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert!(manifest["annotations"]["org.opencontainers.image.created"].is_string());
    let config = blob(
        &registry,
        "acme/hello",
        manifest["config"]["digest"].as_str().unwrap(),
    );
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(
        (config["architecture"].as_str(), config["os"].as_str()),
        (Some("wasm"), Some("wasip2"))
    );
    assert_eq!(
        config["component"]["exports"][0], "example:math/add@0.1.0",
        "{config}"
    );
    assert_eq!(config["layerDigests"][0], manifest["layers"][0]["digest"]);

    // Pull: byte-identical, digest-checked.
    let pulled_file = dir.join("pulled.wasm");
    let out = wcomp(
        dir,
        &cache,
        &[
            "--format",
            "json",
            "pull",
            &reference,
            "-o",
            pulled_file.to_str().unwrap(),
            "--insecure",
        ],
    )
    .success();
    assert_eq!(json_line(&out.stdout, "pulled")["digest"], digest.as_str());
    assert_eq!(
        std::fs::read(&pulled_file).unwrap(),
        std::fs::read(&component).unwrap()
    );

    // Run it from the registry; then with the registry stopped, from the cache alone.
    let oci = |reference: &str| format!("oci://{reference}");
    let out = wcomp(
        dir,
        &cache,
        &["run", &oci(&reference), "--insecure", "--invoke", ADD],
    )
    .success();
    assert_eq!(out.stdout, "3\n");
    registry.stop();
    let out = wcomp(
        dir,
        &cache,
        &["run", &oci(&pinned), "--insecure", "--invoke", ADD],
    )
    .success();
    assert_eq!(out.stdout, "3\n");
    let out = wcomp(
        dir,
        &cache,
        &["run", &oci(&reference), "--insecure", "--invoke", ADD],
    )
    .success();
    assert!(
        out.stderr.contains("cannot be reached (")
            && out.stderr.contains("using the digest its tag had"),
        "{}",
        out.stderr
    );
    let out = wcomp(
        dir,
        &cache,
        &["run", &oci(&reference), "--offline", "--invoke", ADD],
    )
    .success();
    assert_eq!(out.stdout, "3\n");
    let unknown = registry.reference("acme/other:1.0.0");
    let out = wcomp(dir, &cache, &["pull", &unknown, "--offline"]).failure(1);
    assert!(
        out.stderr.contains("is not in wcomp's cache"),
        "{}",
        out.stderr
    );

    // A tampered cached blob is noticed and fetched again.
    registry.resume();
    let blobs = cache.join("oci/blobs/sha256");
    for entry in std::fs::read_dir(&blobs).unwrap() {
        std::fs::write(entry.unwrap().path(), b"tampered").unwrap();
    }
    let out = wcomp(
        dir,
        &cache,
        &["--format", "json", "pull", &pinned, "--insecure"],
    )
    .success();
    let pulled = json_line(&out.stdout, "pulled");
    assert_eq!(pulled["from_cache"], false, "{pulled}");
    let path = pulled["path"].as_str().unwrap();
    assert_eq!(
        std::fs::read(path).unwrap(),
        std::fs::read(&component).unwrap()
    );
    let out = wcomp(
        dir,
        &cache,
        &["--format", "json", "pull", &pinned, "--insecure"],
    )
    .success();
    assert_eq!(json_line(&out.stdout, "pulled")["from_cache"], true);
}

/// The manifest at `repository:tag`, as a registry client reads it.
fn raw_manifest(registry: &Registry, repository: &str, tag: &str) -> serde_json::Value {
    let out = Command::new("curl")
        .args([
            "-s",
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
        ])
        .arg(format!(
            "http://{}/v2/{repository}/manifests/{tag}",
            registry.addr
        ))
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn blob(registry: &Registry, repository: &str, digest: &str) -> Vec<u8> {
    Command::new("curl")
        .args(["-s", "-L"])
        .arg(format!(
            "http://{}/v2/{repository}/blobs/{digest}",
            registry.addr
        ))
        .output()
        .unwrap()
        .stdout
}

#[test]
fn serve_and_compose_from_the_registry() {
    let temp = tempdir();
    let dir = temp.path();
    let cache = dir.join("cache");
    let registry = Registry::start(dir, false);

    // Composition plugs from a registry: the adder published, the calculator local.
    let components = repo_root().join("tests/compose/components");
    let add = dir.join("add.wasm");
    std::fs::write(&add, wat::parse_file(components.join("add.wat")).unwrap()).unwrap();
    let reference = registry.reference("acme/add:1.0.0");
    wcomp(
        dir,
        &cache,
        &["publish", &reference, add.to_str().unwrap(), "--insecure"],
    )
    .success();
    let calc = components.join("calc.wat");
    wcomp(
        dir,
        &cache,
        &[
            "compose",
            calc.to_str().unwrap(),
            "--plug",
            &format!("oci://{reference}"),
            "-o",
            "app.wasm",
            "--insecure",
        ],
    )
    .success();
    let out = wcomp(dir, &cache, &["run", "app.wasm", "--invoke", "double(21)"]).success();
    assert_eq!(out.stdout, "42\n");

    // Serving from the registry.
    run(
        dir,
        &["new", "hello", "--lang", "rust", "--template", "http"],
    )
    .success();
    let built = run(dir, &["build", "hello"]).success();
    let reference = registry.reference("acme/hello-http:dev");
    wcomp(
        dir,
        &cache,
        &["publish", &reference, built.stdout.trim(), "--insecure"],
    )
    .success();
    let mut server = support::wcomp(dir)
        .env("WCOMP_CACHE_DIR", &cache)
        .args([
            "--format",
            "json",
            "serve",
            &format!("oci://{reference}"),
            "--insecure",
            "--addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(server.stderr.take().unwrap());
    let url = std::io::BufRead::lines(stderr)
        .map_while(Result::ok)
        .find_map(|line| {
            let value: serde_json::Value = serde_json::from_str(&line).ok()?;
            (value["reason"] == "serving").then(|| value["url"].as_str().unwrap().to_owned())
        })
        .expect("served from the registry");
    let body = Command::new("curl")
        .args(["-s", &url])
        .output()
        .unwrap()
        .stdout;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(String::from_utf8_lossy(&body), "Hello from Rust!\n");

    // Manifests for a cluster, pinned to the digest the publish printed. (No cluster runs
    // here: what is checked is that the YAML parses and carries what the engines require.)
    let out = wcomp(
        dir,
        &cache,
        &["--format", "json", "pull", &reference, "--insecure"],
    )
    .success();
    let pinned = json_line(&out.stdout, "pulled")["pinned"]
        .as_str()
        .unwrap()
        .to_owned();
    // The engines' fields in depth are `deploy_writes_manifests_the_engines_read`'s; here, that
    // a real HTTP component gets all three, pinned to the digest the publish printed.
    for emit in ["wadm", "wasmcloud", "kubernetes"] {
        let documents = deploy_manifests(dir, &cache, &["--emit", emit, &reference]);
        let image = match emit {
            "wadm" => &documents[0]["spec"]["components"][0]["properties"]["image"],
            "wasmcloud" => &documents[0]["spec"]["template"]["spec"]["components"][0]["image"],
            _ => &documents[1]["spec"]["template"]["spec"]["containers"][0]["image"],
        };
        assert_eq!(image.as_str(), Some(pinned.as_str()), "{emit}");
    }

    // A component that does not serve HTTP has nothing to deploy.
    let adder = registry.reference("acme/add:1.0.0");
    deploy_refused(
        dir,
        &cache,
        &["--emit", "wadm", &adder],
        &["does not export `wasi:http/incoming-handler`"],
    );
}

/// `wcomp deploy <args> --insecure`.
fn deploy(dir: &Path, cache: &Path, args: &[&str]) -> Run {
    let mut command = vec!["deploy"];
    command.extend_from_slice(args);
    command.push("--insecure");
    wcomp(dir, cache, &command)
}

/// Every document `wcomp deploy` printed, read as YAML into JSON values.
fn deploy_manifests(dir: &Path, cache: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = deploy(dir, cache, args).success();
    serde_yaml::Deserializer::from_str(&out.stdout)
        .map(|document| serde_json::Value::deserialize(document).unwrap())
        .collect()
}

/// Checks that `wcomp deploy` refuses, writing no manifest and saying each of `expected`.
fn deploy_refused(dir: &Path, cache: &Path, args: &[&str], expected: &[&str]) {
    let out = deploy(dir, cache, args).failure(1);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    for text in expected {
        assert!(out.stderr.contains(text), "no {text:?} in:\n{}", out.stderr);
    }
}

/// A component exporting `wasi:http/incoming-handler@0.2.6`: all `wcomp deploy` reads of it
/// is its exports, so it need not be a handler that runs.
fn http_component(dir: &Path) -> PathBuf {
    let path = dir.join("http.wasm");
    let bytes = wat::parse_str(
        r#"(component
            (core module $m (func (export "handle")))
            (core instance $i (instantiate $m))
            (func $handle (canon lift (core func $i "handle")))
            (instance $handler (export "handle" (func $handle)))
            (export "wasi:http/incoming-handler@0.2.6" (instance $handler)))"#,
    )
    .unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// What Kubernetes requires of a `Service` name.
fn is_dns_1035_label(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[test]
fn deploy_writes_manifests_the_engines_read() {
    let temp = tempdir();
    let dir = temp.path();
    let cache = dir.join("cache");
    let registry = Registry::start(dir, false);
    let component = http_component(dir);
    let publish = |repository: &str| {
        let reference = registry.reference(repository);
        let published = publish_json(dir, &cache, &reference, &component);
        (reference, published["pinned"].as_str().unwrap().to_owned())
    };

    // An underscore in the repository becomes `-`; the version tag becomes the version.
    let (reference, pinned) = publish("acme/word_svc:1.2.0");
    let version = "1.2.0";
    let name = "word-svc";

    let wadm = deploy_manifests(
        dir,
        &cache,
        &[
            "--emit",
            "wadm",
            &reference,
            "--replicas",
            "3",
            "--port",
            "8000",
        ],
    );
    assert_eq!(wadm.len(), 1);
    let app = &wadm[0];
    assert_eq!(app["apiVersion"], "core.oam.dev/v1beta1");
    assert_eq!(app["kind"], "Application");
    assert_eq!(app["metadata"]["name"], name);
    assert_eq!(app["metadata"]["annotations"]["version"], version);
    let component_spec = &app["spec"]["components"][0];
    assert_eq!(component_spec["name"], name);
    assert_eq!(component_spec["type"], "component");
    assert_eq!(component_spec["properties"]["image"], pinned.as_str());
    assert_eq!(component_spec["traits"][0]["type"], "spreadscaler");
    assert_eq!(component_spec["traits"][0]["properties"]["instances"], 3);
    let http_server = &app["spec"]["components"][1];
    assert_eq!(http_server["type"], "capability");
    let link = &http_server["traits"][0];
    assert_eq!(link["type"], "link");
    assert_eq!(link["properties"]["target"]["name"], name);
    assert_eq!(link["properties"]["namespace"], "wasi");
    assert_eq!(link["properties"]["package"], "http");
    assert_eq!(
        link["properties"]["interfaces"],
        serde_json::json!(["incoming-handler"])
    );
    let config = &link["properties"]["source"]["config"][0]["properties"];
    assert_eq!(config["ADDRESS"], "0.0.0.0:8000");

    // The version recorded at publish is the version, whatever the tag says.
    let recorded = registry.reference("acme/recorded:latest");
    wcomp(
        dir,
        &cache,
        &[
            "publish",
            &recorded,
            component.to_str().unwrap(),
            "--insecure",
            "--annotation",
            "org.opencontainers.image.version=2.4.1",
        ],
    )
    .success();
    let deployed = deploy_manifests(dir, &cache, &["--emit", "kubernetes", &recorded]);
    assert_eq!(
        deployed[1]["metadata"]["labels"]["app.kubernetes.io/version"],
        "2.4.1"
    );

    let wasmcloud = deploy_manifests(
        dir,
        &cache,
        &["--emit", "wasmcloud", &reference, "--replicas", "3"],
    );
    assert_eq!(wasmcloud.len(), 1);
    let workload = &wasmcloud[0];
    assert_eq!(workload["apiVersion"], "runtime.wasmcloud.dev/v1alpha1");
    assert_eq!(workload["kind"], "WorkloadDeployment");
    assert_eq!(workload["metadata"]["name"], name);
    let labels = &workload["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/name"], name);
    assert_eq!(labels["app.kubernetes.io/version"], version);
    assert_eq!(workload["spec"]["replicas"], 3);
    let template = &workload["spec"]["template"];
    assert_eq!(template["labels"]["app.kubernetes.io/version"], version);
    let components = template["spec"]["components"].as_array().unwrap();
    assert_eq!(components.len(), 1);
    assert_eq!(components[0]["name"], name);
    assert_eq!(components[0]["image"], pinned.as_str());
    let http = &template["spec"]["hostInterfaces"][0];
    assert_eq!(http["namespace"], "wasi");
    assert_eq!(http["package"], "http");
    assert_eq!(http["interfaces"], serde_json::json!(["incoming-handler"]));
    assert_eq!(http["config"]["host"], name);
    let routed = deploy_manifests(
        dir,
        &cache,
        &[
            "--emit",
            "wasmcloud",
            &reference,
            "--host",
            "words.example.com",
        ],
    );
    let host = &routed[0]["spec"]["template"]["spec"]["hostInterfaces"][0]["config"]["host"];
    assert_eq!(host, "words.example.com");

    let kubernetes = deploy_manifests(
        dir,
        &cache,
        &["--emit", "kubernetes", &reference, "--replicas", "3"],
    );
    assert_eq!(kubernetes.len(), 3);
    let (runtime, deployment, service) = (&kubernetes[0], &kubernetes[1], &kubernetes[2]);
    assert_eq!(runtime["apiVersion"], "node.k8s.io/v1");
    assert_eq!(runtime["kind"], "RuntimeClass");
    assert_eq!(runtime["handler"], "wasmtime");
    assert_eq!(deployment["apiVersion"], "apps/v1");
    assert_eq!(deployment["kind"], "Deployment");
    assert_eq!(deployment["metadata"]["name"], name);
    assert_eq!(
        deployment["metadata"]["labels"]["app.kubernetes.io/version"],
        version
    );
    assert_eq!(deployment["spec"]["replicas"], 3);
    let pod = &deployment["spec"]["template"];
    assert_eq!(pod["metadata"]["labels"]["app.kubernetes.io/name"], name);
    assert_eq!(
        pod["metadata"]["labels"]["app.kubernetes.io/version"],
        version
    );
    let selector = deployment["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap();
    assert!(!selector.is_empty());
    for (key, value) in selector {
        assert_eq!(&pod["metadata"]["labels"][key], value, "{key}");
    }
    assert_eq!(pod["spec"]["runtimeClassName"], runtime["metadata"]["name"]);
    let container = &pod["spec"]["containers"][0];
    assert_eq!(container["name"], name);
    assert_eq!(container["image"], pinned.as_str());
    assert_eq!(container["ports"][0]["containerPort"], 8080);
    assert_eq!(container["ports"][0]["name"], "http");
    assert_eq!(service["apiVersion"], "v1");
    assert_eq!(service["kind"], "Service");
    assert_eq!(service["metadata"]["name"], name);
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(service["spec"]["ports"][0]["port"], 80);
    assert_eq!(
        service["spec"]["ports"][0]["targetPort"],
        container["ports"][0]["name"]
    );
    for document in wadm.iter().chain(&wasmcloud).chain(&kubernetes) {
        let name = document["metadata"]["name"].as_str().unwrap();
        assert!(is_dns_1035_label(name), "{name}");
    }

    // `--name` is made a label the same way.
    let named = deploy_manifests(
        dir,
        &cache,
        &["--emit", "kubernetes", &reference, "--name", "Word_Svc"],
    );
    assert_eq!(named[2]["metadata"]["name"], name);

    // A name YAML reads as null, unquoted, stays a string; a tag that is no version gives no
    // version label.
    let (reference, _) = publish("acme/null:dev");
    for emit in ["wadm", "wasmcloud", "kubernetes"] {
        let documents = deploy_manifests(dir, &cache, &["--emit", emit, &reference]);
        let named = documents.last().unwrap();
        assert_eq!(named["metadata"]["name"], "null", "{emit}");
        assert!(
            named["metadata"]["labels"]
                .get("app.kubernetes.io/version")
                .is_none(),
            "{emit}"
        );
    }

    // A repository starting with a digit makes no DNS-1035 label: refused, with the way out.
    let (reference, _) = publish("acme/3d-viewer:1.0.0");
    deploy_refused(
        dir,
        &cache,
        &["--emit", "kubernetes", &reference],
        &[
            "the repository name `3d-viewer` cannot name the deployment",
            "must start with a letter",
            "`--name app-3d-viewer`",
        ],
    );

    // `--host` routes wasmCloud 2 only.
    deploy_refused(
        dir,
        &cache,
        &["--emit", "wadm", &reference, "--host", "x.example.com"],
        &["`--host` applies to `--emit wasmcloud` only"],
    );
}

#[test]
fn refusals_say_what_the_registry_answered() {
    let temp = tempdir();
    let dir = temp.path();
    let cache = dir.join("cache");
    let component = command_component(dir);
    let path = component.to_str().unwrap();

    // An authenticated registry: anonymous is refused, the right credentials are not.
    let secured = Registry::start(dir, true);
    let reference = secured.reference("acme/hello:1.0.0");
    let out = wcomp(dir, &cache, &["publish", &reference, path, "--insecure"]).failure(1);
    assert!(
        out.stderr.contains("refused to let wcomp push"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("docker login"), "{}", out.stderr);
    let with_password = |args: &[&str], password: &str| {
        let mut child = support::wcomp(dir)
            .env("WCOMP_CACHE_DIR", &cache)
            .env("DOCKER_CONFIG", dir.join("docker"))
            .args(args)
            .args(["--username", "user", "--password-stdin", "--insecure"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        Run::from_output(child.wait_with_output().unwrap())
    };
    // Refused credentials are named as such, without the `docker login` hint, and the
    // password shows nowhere, even under `-v`.
    let out = with_password(&["-v", "publish", &reference, path], "wrong-pass-7731\n");
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("refused user `user` to push"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("docker login"), "{}", out.stderr);
    for shown in [&out.stdout, &out.stderr] {
        assert!(!shown.contains("wrong-pass-7731"), "{shown}");
    }
    let out = with_password(&["-v", "publish", &reference, path], "secret\n").success();
    assert!(!out.stderr.contains("secret"), "{}", out.stderr);
    let out = wcomp(dir, &cache, &["pull", &reference, "--insecure"]).failure(1);
    assert!(
        out.stderr.contains("refused to let wcomp pull"),
        "{}",
        out.stderr
    );
    with_password(&["pull", &reference], "secret\n").success();
    // Credentials from the Docker config, as `docker login` leaves them.
    let docker = dir.join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"dXNlcjpzZWNyZXQ="}}}}}}"#,
            secured.addr
        ),
    )
    .unwrap();
    let out = wcomp(
        dir,
        &cache,
        &["--format", "json", "pull", &reference, "--insecure"],
    )
    .success();
    assert!(
        out.stdout.contains(r#""reason":"pulled""#),
        "{}",
        out.stdout
    );

    // Not found, a container image, a bare name, plain HTTP to a remote host.
    let open = Registry::start(dir, false);
    let out = wcomp(
        dir,
        &cache,
        &["pull", &open.reference("acme/nothing:1"), "--insecure"],
    )
    .failure(1);
    assert!(
        out.stderr.contains("does not exist in the registry"),
        "{}",
        out.stderr
    );
    push_container_image(&open, "library/alpine", "3");
    let out = wcomp(
        dir,
        &cache,
        &["pull", &open.reference("library/alpine:3"), "--insecure"],
    )
    .failure(1);
    assert!(
        out.stderr
            .contains("is a container image, not a Wasm component"),
        "{}",
        out.stderr
    );
    let out = wcomp(dir, &cache, &["pull", "acme/hello:1.0.0"]).failure(1);
    assert!(
        out.stderr.contains("does not name a registry"),
        "{}",
        out.stderr
    );
    let out = wcomp(
        dir,
        &cache,
        &["pull", "registry.example.com/acme/hello:1", "--insecure"],
    )
    .failure(1);
    assert!(out.stderr.contains("refusing plain HTTP"), "{}", out.stderr);
}

/// Pushes a (tiny) container image the way a container tool does: a gzipped tar layer and an
/// image config, with plain HTTP requests to the registry API.
fn push_container_image(registry: &Registry, repository: &str, tag: &str) {
    let layer = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        .to_vec();
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
            .to_vec();
    let digest = |bytes: &[u8]| {
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(bytes);
        format!(
            "sha256:{}",
            hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    };
    for blob in [&layer, &config] {
        let start = Command::new("curl")
            // Headers then the (empty) body, both on stdout.
            .args(["-s", "-D", "-", "-X", "POST"])
            .arg(format!(
                "http://{}/v2/{repository}/blobs/uploads/",
                registry.addr
            ))
            .output()
            .unwrap();
        let headers = String::from_utf8_lossy(&start.stdout).into_owned();
        let location = headers
            .lines()
            .find_map(|line| {
                line.strip_prefix("Location: ")
                    .or_else(|| line.strip_prefix("location: "))
            })
            .unwrap()
            .trim()
            .to_owned();
        let separator = if location.contains('?') { '&' } else { '?' };
        let file = std::env::temp_dir().join(format!("wcomp-blob-{}", std::process::id()));
        std::fs::write(&file, blob).unwrap();
        let put = Command::new("curl")
            .args([
                "-s",
                "-f",
                "-X",
                "PUT",
                "-H",
                "Content-Type: application/octet-stream",
                "--data-binary",
            ])
            .arg(format!("@{}", file.display()))
            .arg(format!("{location}{separator}digest={}", digest(blob)))
            .status()
            .unwrap();
        assert!(put.success());
    }
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}}"#,
        digest(&config),
        config.len(),
        digest(&layer),
        layer.len()
    );
    let put = Command::new("curl")
        .args([
            "-s",
            "-f",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/vnd.oci.image.manifest.v1+json",
            "--data-binary",
            &manifest,
        ])
        .arg(format!(
            "http://{}/v2/{repository}/manifests/{tag}",
            registry.addr
        ))
        .status()
        .unwrap();
    assert!(put.success());
}

/// A connection-level relay in front of the registry that forwards every request and cuts
/// the connection instead of forwarding the first manifest upload: a push that dies just
/// before its tag is written.
fn relay_that_dies_before_the_manifest(registry: String) -> String {
    use std::io::{BufRead as _, BufReader, Read as _};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let registry = registry.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut client = client;
                loop {
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let end = line == "\r\n";
                        head.push_str(&line);
                        if end {
                            break;
                        }
                    }
                    if head.starts_with("PUT ")
                        && head.lines().next().unwrap().contains("/manifests/")
                    {
                        return; // the push dies here
                    }
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                    let mut upstream = std::net::TcpStream::connect(&registry).unwrap();
                    upstream.write_all(head.as_bytes()).unwrap();
                    upstream.write_all(&body).unwrap();
                    let mut answer = Vec::new();
                    upstream.read_to_end(&mut answer).unwrap();
                    let answer = String::from_utf8_lossy(&answer)
                        .replace(&registry, &addr_of(&client))
                        .into_bytes();
                    if client.write_all(&answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn addr_of(stream: &std::net::TcpStream) -> String {
    stream.local_addr().unwrap().to_string()
}

#[test]
fn a_push_that_dies_midway_leaves_no_tag() {
    let temp = tempdir();
    let dir = temp.path();
    let cache = dir.join("cache");
    let registry = Registry::start(dir, false);
    let relay = relay_that_dies_before_the_manifest(registry.addr.clone());
    let component = command_component(dir);
    let through_relay = format!("{relay}/acme/hello:1.0.0");
    let out = wcomp(
        dir,
        &cache,
        &[
            "publish",
            &through_relay,
            component.to_str().unwrap(),
            "--insecure",
        ],
    )
    .failure(1);
    assert!(out.stderr.contains("cannot push"), "{}", out.stderr);
    // The blobs may have arrived; the tag did not.
    let out = wcomp(
        dir,
        &cache,
        &[
            "pull",
            &registry.reference("acme/hello:1.0.0"),
            "--insecure",
        ],
    )
    .failure(1);
    assert!(
        out.stderr.contains("does not exist in the registry"),
        "{}",
        out.stderr
    );
    // A whole push afterwards works.
    wcomp(
        dir,
        &cache,
        &[
            "publish",
            &registry.reference("acme/hello:1.0.0"),
            component.to_str().unwrap(),
            "--insecure",
        ],
    )
    .success();
}

#[test]
fn workspace_components_from_the_registry_are_locked_by_digest() {
    let temp = tempdir();
    let dir = temp.path();
    let cache = dir.join("cache");
    let mut registry = Registry::start(dir, false);
    let components = repo_root().join("tests/compose/components");
    let publish = |name: &str, bytes: Vec<u8>, reference: &str| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        publish_json(dir, &cache, reference, &path)["digest"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let add_ref = registry.reference("acme/add:1.0.0");
    let calc_ref = registry.reference("acme/calc:1.0.0");
    let add_digest = publish(
        "add.wasm",
        wat::parse_file(components.join("add.wat")).unwrap(),
        &add_ref,
    );
    publish(
        "calc.wasm",
        wat::parse_file(components.join("calc.wat")).unwrap(),
        &calc_ref,
    );

    let ws = dir.join("app");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(
        ws.join("wcomp.toml"),
        format!(
            "[workspace]\nname = \"app\"\n\n[component.calc]\noci = \"{calc_ref}\"\ninsecure = true\n\n[component.add]\noci = \"{add_ref}\"\ninsecure = true\n\n[compose]\nroot = \"calc\"\noutput = \"app.wasm\"\n"
        ),
    )
    .unwrap();
    wcomp(&ws, &cache, &["compose"]).success();
    let double = |ws: &Path| {
        wcomp(ws, &cache, &["run", "app.wasm", "--invoke", "double(21)"])
            .success()
            .stdout
    };
    assert_eq!(double(&ws), "42\n");
    let lock: toml::Value =
        toml::from_str(&std::fs::read_to_string(ws.join("wcomp.lock")).unwrap()).unwrap();
    let locked = lock["component"].as_array().unwrap();
    assert_eq!(locked.len(), 2);
    let add = locked
        .iter()
        .find(|c| c["name"].as_str() == Some("add"))
        .unwrap();
    assert_eq!(add["reference"].as_str(), Some(add_ref.as_str()));
    assert_eq!(add["digest"].as_str(), Some(add_digest.as_str()));

    // The tag moves to an "add" that multiplies; the lock keeps the workspace on what it had.
    let multiplies = wat::parse_str(
        std::fs::read_to_string(components.join("add.wat"))
            .unwrap()
            .replace("i32.add", "i32.mul"),
    )
    .unwrap();
    let moved = publish("mul.wasm", multiplies, &add_ref);
    assert_ne!(moved, add_digest);
    std::fs::remove_file(ws.join("app.wasm")).unwrap();
    wcomp(&ws, &cache, &["compose"]).success();
    assert_eq!(double(&ws), "42\n");

    // With the registry gone, the locked digests come from the cache.
    registry.stop();
    std::fs::remove_file(ws.join("app.wasm")).unwrap();
    wcomp(&ws, &cache, &["compose"]).success();
    assert_eq!(double(&ws), "42\n");

    // Dropping the lock takes the tag as it is now.
    registry.resume();
    std::fs::remove_file(ws.join("wcomp.lock")).unwrap();
    wcomp(&ws, &cache, &["compose"]).success();
    assert_eq!(double(&ws), "441\n");
    let lock = std::fs::read_to_string(ws.join("wcomp.lock")).unwrap();
    assert!(lock.contains(&moved), "{lock}");

    // A registry component is not also built.
    std::fs::write(
        ws.join("wcomp.toml"),
        format!(
            "[workspace]\nname = \"app\"\n\n[component.add]\noci = \"{add_ref}\"\nlang = \"rust\"\n"
        ),
    )
    .unwrap();
    let out = wcomp(&ws, &cache, &["compose"]).failure(1);
    assert!(
        out.stderr.contains("has `oci` and also `lang`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("wcomp.toml"), "{}", out.stderr);
}

#[test]
fn wit_packages_fetched_from_the_registry_with_their_dependencies() {
    let temp = tempdir();
    let dir = temp.path();
    let cache = dir.join("cache");
    let mut registry = Registry::start(dir, false);
    let mapping = format!(
        "[registry]\nacme = {{ oci = \"{}\", insecure = true }}\n",
        registry.reference("wit")
    );

    // A team publishes two packages; `acme:lib` uses `acme:base`.
    let team = dir.join("team");
    std::fs::create_dir_all(team.join("base")).unwrap();
    std::fs::create_dir_all(team.join("lib")).unwrap();
    std::fs::write(team.join("wcomp.toml"), &mapping).unwrap();
    std::fs::write(
        team.join("base/types.wit"),
        "package acme:base@1.0.0;\n\ninterface types {\n  record point { x: u32, y: u32 }\n}\n",
    )
    .unwrap();
    std::fs::write(
        team.join("lib/api.wit"),
        "package acme:lib@1.0.0;\n\ninterface api {\n  use acme:base/types@1.0.0.{point};\n  norm: func(p: point) -> u32;\n}\n",
    )
    .unwrap();
    let out = wcomp(
        &team,
        &cache,
        &["--format", "json", "wit", "publish", "--wit", "base"],
    )
    .success();
    let base = json_line(&out.stdout, "published");
    assert_eq!(base["package"], "acme:base@1.0.0");
    assert_eq!(
        base["published"]["reference"].as_str(),
        Some(registry.reference("wit/acme/base:1.0.0").as_str())
    );
    assert_eq!(base["published"]["unchanged"], false);
    // A version keeps its content: the same package again is a no-op, other content under
    // the same version is refused unless forced.
    let out = wcomp(
        &team,
        &cache,
        &["--format", "json", "wit", "publish", "--wit", "base"],
    )
    .success();
    let again = json_line(&out.stdout, "published");
    assert_eq!(again["published"]["unchanged"], true, "{again}");
    assert_eq!(again["published"]["digest"], base["published"]["digest"]);
    let types = team.join("base/types.wit");
    let original = std::fs::read_to_string(&types).unwrap();
    std::fs::write(
        &types,
        format!("{original}\ninterface extra {{\n  hello: func();\n}}\n"),
    )
    .unwrap();
    let out = wcomp(&team, &cache, &["wit", "publish", "--wit", "base"]).failure(1);
    assert!(
        out.stderr
            .contains("wit/acme/base:1.0.0` is already published with different content"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("bump the version"), "{}", out.stderr);
    let unchanged = raw_manifest(&registry, "wit/acme/base", "1.0.0");
    let out = wcomp(
        &team,
        &cache,
        &[
            "--format", "json", "wit", "publish", "--wit", "base", "--force",
        ],
    )
    .success();
    let forced = json_line(&out.stdout, "published");
    assert_ne!(forced["published"]["digest"], base["published"]["digest"]);
    assert_ne!(raw_manifest(&registry, "wit/acme/base", "1.0.0"), unchanged);
    // `lib` needs `base` to be encoded: fetched from the registry first.
    let out = wcomp(&team, &cache, &["wit", "fetch", "lib"]).success();
    assert!(
        out.stderr.contains("Fetched `acme:base@1.0.0`"),
        "{}",
        out.stderr
    );
    wcomp(&team, &cache, &["wit", "publish", "--wit", "lib"]).success();
    let manifest = raw_manifest(&registry, "wit/acme/lib", "1.0.0");
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );

    // A Rust component that imports `acme:lib`: the build fetches it and, transitively,
    // `acme:base`, and locks both.
    run(dir, &["new", "app", "--lang", "rust"]).success();
    let app = dir.join("app");
    std::fs::write(app.join("wcomp.toml"), &mapping).unwrap();
    let world = std::fs::read_to_string(app.join("wit/world.wit")).unwrap();
    std::fs::write(
        app.join("wit/world.wit"),
        world.replace("world app {", "world app {\n  import acme:lib/api@1.0.0;"),
    )
    .unwrap();
    let out = wcomp(&app, &cache, &["build"]).success();
    assert!(
        out.stderr.contains("Fetched `acme:lib@1.0.0`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Fetched `acme:base@1.0.0`"),
        "{}",
        out.stderr
    );
    let deps = app.join("wit/deps");
    let lib_wit = std::fs::read_to_string(deps.join("acme-lib-1.0.0/package.wit")).unwrap();
    assert!(
        lib_wit.contains("norm: func(p: point) -> u32;"),
        "{lib_wit}"
    );
    assert!(deps.join("acme-base-1.0.0/package.wit").is_file());
    let lock: toml::Value =
        toml::from_str(&std::fs::read_to_string(app.join("wkg.lock")).unwrap()).unwrap();
    assert_eq!(lock["version"].as_integer(), Some(1));
    let packages = lock["packages"].as_array().unwrap();
    let names: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme:base", "acme:lib"]);
    let lib = &packages[1]["versions"][0];
    assert_eq!(lib["requirement"].as_str(), Some("=1.0.0"));
    let lib_layer = blob(
        &registry,
        "wit/acme/lib",
        manifest["layers"][0]["digest"].as_str().unwrap(),
    );
    assert_eq!(lib["digest"].as_str(), Some(sha256(&lib_layer).as_str()));
    wcomp(&app, &cache, &["wit", "check"]).success();

    // With everything in deps/, nothing contacts the registry, even with the registry gone.
    registry.stop();
    let out = wcomp(&app, &cache, &["build", "--force"]).success();
    assert!(!out.stderr.contains("Fetched"), "{}", out.stderr);
    let out = wcomp(&app, &cache, &["wit", "fetch"]).success();
    assert!(out.stderr.contains("Fresh"), "{}", out.stderr);
    // Lost deps come back from the cache at the locked digests.
    std::fs::remove_dir_all(deps.join("acme-lib-1.0.0")).unwrap();
    std::fs::remove_dir_all(deps.join("acme-base-1.0.0")).unwrap();
    wcomp(&app, &cache, &["wit", "fetch", "--offline"]).success();
    assert_eq!(
        std::fs::read_to_string(deps.join("acme-lib-1.0.0/package.wit")).unwrap(),
        lib_wit
    );

    // A namespace no registry serves is named, with the fix.
    std::fs::write(
        app.join("wit/world.wit"),
        world.replace(
            "world app {",
            "world app {\n  import other:thing/api@1.0.0;",
        ),
    )
    .unwrap();
    let out = wcomp(&app, &cache, &["wit", "fetch"]).failure(1);
    assert!(
        out.stderr
            .contains("no registry is configured for the WIT namespace `other`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("[registry]"), "{}", out.stderr);
    // And a package the registry does not have.
    registry.resume();
    std::fs::write(
        app.join("wit/world.wit"),
        world.replace(
            "world app {",
            "world app {\n  import acme:missing/api@2.0.0;",
        ),
    )
    .unwrap();
    let out = wcomp(&app, &cache, &["wit", "fetch"]).failure(1);
    assert!(
        out.stderr
            .contains("`acme:missing@2.0.0` is not in the registry"),
        "{}",
        out.stderr
    );

    // The same version republished with other content: the lock refuses it until `--update`.
    std::fs::write(
        app.join("wit/world.wit"),
        world.replace("world app {", "world app {\n  import acme:lib/api@1.0.0;"),
    )
    .unwrap();
    std::fs::write(
        team.join("lib/api.wit"),
        "package acme:lib@1.0.0;\n\ninterface api {\n  use acme:base/types@1.0.0.{point};\n  norm: func(p: point) -> u32;\n  scale: func(p: point, by: u32) -> point;\n}\n",
    )
    .unwrap();
    // Replacing a published version takes `--force`.
    wcomp(
        &team,
        &cache,
        &["wit", "publish", "--wit", "lib", "--force"],
    )
    .success();
    // Here the cache still has the locked bytes; on a machine without them, the registry's
    // new content is refused.
    std::fs::remove_dir_all(deps.join("acme-lib-1.0.0")).unwrap();
    wcomp(&app, &cache, &["wit", "fetch"]).success();
    assert_eq!(
        std::fs::read_to_string(deps.join("acme-lib-1.0.0/package.wit")).unwrap(),
        lib_wit
    );
    std::fs::remove_dir_all(deps.join("acme-lib-1.0.0")).unwrap();
    let out = wcomp(&app, &dir.join("other-cache"), &["wit", "fetch"]).failure(1);
    assert!(
        out.stderr
            .contains("`acme:lib@1.0.0` in the registry is not what wkg.lock records"),
        "{}",
        out.stderr
    );
    assert!(!deps.join("acme-lib-1.0.0").exists());
    wcomp(&app, &cache, &["wit", "fetch", "--update"]).success();
    let updated = std::fs::read_to_string(deps.join("acme-lib-1.0.0/package.wit")).unwrap();
    assert!(updated.contains("scale: func"), "{updated}");
    let lock = std::fs::read_to_string(app.join("wkg.lock")).unwrap();
    assert!(!lock.contains(lib["digest"].as_str().unwrap()), "{lock}");
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(bytes);
    format!(
        "sha256:{}",
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// What a [`Relay`] does with the next connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relaying {
    /// Passes bytes both ways to the registry behind it.
    Forward,
    /// Takes the connection and never answers (a registry that hangs).
    Silent,
    /// Answers `503 Service Unavailable` to the next this many connections, then forwards.
    Unavailable(u32),
}

/// A TCP relay in front of a real registry, on a free loopback port, whose behaviour can be
/// changed while it runs: for the faults a healthy registry does not produce.
struct Relay {
    addr: String,
    mode: std::sync::Arc<std::sync::Mutex<Relaying>>,
    /// `503`s answered so far.
    refused: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl Relay {
    fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let mode = std::sync::Arc::new(std::sync::Mutex::new(Relaying::Forward));
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let (shared, counted) = (mode.clone(), refused.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let now = {
                    let mut mode = shared.lock().unwrap();
                    let now = *mode;
                    if let Relaying::Unavailable(left) = now {
                        *mode = if left > 1 {
                            Relaying::Unavailable(left - 1)
                        } else {
                            Relaying::Forward
                        };
                    }
                    now
                };
                let upstream = upstream.clone();
                let counted = counted.clone();
                std::thread::spawn(move || match now {
                    Relaying::Forward => pipe(stream, &upstream),
                    Relaying::Silent => {
                        std::thread::sleep(Duration::from_secs(120));
                        drop(stream);
                    }
                    Relaying::Unavailable(_) => {
                        let mut stream = stream;
                        read_head(&mut stream);
                        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let _ = stream.write_all(
                            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        );
                    }
                });
            }
        });
        Self {
            addr,
            mode,
            refused,
        }
    }

    fn set(&self, mode: Relaying) {
        *self.mode.lock().unwrap() = mode;
    }
}

/// Copies bytes both ways between `client` and a new connection to `upstream`.
fn pipe(client: std::net::TcpStream, upstream: &str) {
    let Ok(server) = std::net::TcpStream::connect(upstream) else {
        return;
    };
    let (mut client_read, mut server_write) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    let forward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut server_write);
        let _ = server_write.shutdown(std::net::Shutdown::Write);
    });
    let (mut server_read, mut client_write) = (server, client);
    let _ = std::io::copy(&mut server_read, &mut client_write);
    let _ = client_write.shutdown(std::net::Shutdown::Write);
    let _ = forward.join();
}

/// Reads an HTTP request's head from `stream`; its request line.
fn read_head(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read as _;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    head.lines().next().unwrap_or_default().to_owned()
}

/// A registry that hangs is given up on at `--registry-timeout`, with what did not answer
/// and for how long, and a tag pulled before falls back to its last known digest; a registry
/// that answers `503` for a while is retried (each retry told under `-v`) until it serves.
#[test]
fn a_hanging_registry_times_out_and_an_unavailable_one_is_retried() {
    let temp = tempdir();
    let dir = temp.path();
    let cache = dir.join("cache");
    let registry = Registry::start(dir, false);
    let component = command_component(dir);
    publish_json(
        dir,
        &cache,
        &registry.reference("acme/hello:1.0.0"),
        &component,
    );
    let relay = Relay::start(registry.addr.clone());
    let through = |tag: &str| format!("{}/acme/hello:{tag}", relay.addr);
    wcomp(dir, &cache, &["pull", &through("1.0.0"), "--insecure"]).success();

    relay.set(Relaying::Silent);
    let started = Instant::now();
    let out = wcomp(
        dir,
        &cache,
        &[
            "pull",
            &through("1.0.0"),
            "--insecure",
            "--registry-timeout",
            "1s",
        ],
    )
    .success();
    assert!(
        out.stderr.contains("stopped answering within 1s")
            && out
                .stderr
                .contains("using the digest its tag had when last pulled"),
        "{}",
        out.stderr
    );
    // A tag never pulled has nothing to fall back to.
    let out = wcomp(
        dir,
        &cache,
        &[
            "pull",
            &through("2.0.0"),
            "--insecure",
            "--registry-timeout",
            "1s",
        ],
    )
    .failure(1);
    assert!(
        out.stderr.contains(&format!(
            "`{}` stopped answering within 1s (while wcomp tried to pull",
            relay.addr
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--registry-timeout"), "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );

    relay.set(Relaying::Unavailable(2));
    let fresh = dir.join("fresh-cache");
    let out = wcomp(
        dir,
        &fresh,
        &["-v", "pull", &through("1.0.0"), "--insecure"],
    )
    .success();
    assert_eq!(
        relay.refused.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("trying again in"), "{}", out.stderr);
}

/// A registry of canned answers for what no honest registry sends: a manifest of `manifest`
/// bytes, or a Wasm manifest whose layer announces `announced` bytes and a blob of `streamed`.
struct Lying {
    addr: String,
    /// Body bytes written so far.
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Lying {
    fn start(manifest: Option<u64>, announced: u64, streamed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = sent.clone();
        let layer = format!("sha256:{}", "ab".repeat(32));
        let config = b"{}";
        let wasm_manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": sha256(config), "size": config.len()},
            "layers": [{"mediaType": "application/wasm", "digest": layer, "size": announced}],
        })
        .to_string();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().map_while(Result::ok) {
                let counted = counted.clone();
                let wasm_manifest = wasm_manifest.clone();
                std::thread::spawn(move || {
                    let line = read_head(&mut stream);
                    let path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let endless = |stream: &mut std::net::TcpStream, total: u64, kind: &str| {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\nconnection: close\r\n\r\n"
                        );
                        if stream.write_all(head.as_bytes()).is_err() {
                            return;
                        }
                        let chunk = vec![b' '; 64 << 10];
                        let mut left = total;
                        while left > 0 {
                            let n = left.min(chunk.len() as u64);
                            if stream.write_all(&chunk[..n as usize]).is_err() {
                                return;
                            }
                            counted.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
                            left -= n;
                        }
                    };
                    if path.contains("/manifests/") {
                        match manifest {
                            Some(size) => endless(
                                &mut stream,
                                size,
                                "application/vnd.oci.image.manifest.v1+json",
                            ),
                            None => {
                                let _ = stream.write_all(format!(
                                    "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.oci.image.manifest.v1+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{wasm_manifest}",
                                    wasm_manifest.len()
                                ).as_bytes());
                            }
                        }
                    } else if path.contains("/blobs/") {
                        endless(&mut stream, streamed, "application/octet-stream");
                    } else {
                        let _ = stream.write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                        );
                    }
                });
            }
        });
        Self { addr, sent }
    }
}

/// Files under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

/// A layer that announces 1,000 bytes while the registry streams 300 MiB, and a 300 MiB
/// manifest: each is refused once it passes its bound, having read only a few MiB of it, and
/// a failed pull leaves nothing in the cache — no blob, no manifest, no tag.
#[test]
fn downloads_stop_at_their_bounds_and_failed_pulls_cache_nothing() {
    let temp = tempdir();
    let dir = temp.path();
    let cache = dir.join("cache");
    let offered = 300 << 20;

    for (lying, refusal) in [
        (Lying::start(None, 1_000, offered), "sent more of the layer"),
        (
            Lying::start(Some(offered), 1_000, 0),
            "is larger than 4 MiB",
        ),
    ] {
        let reference = format!("{}/acme/liar:1.0.0", lying.addr);
        let out = wcomp(dir, &cache, &["pull", &reference, "--insecure"]).failure(1);
        assert!(out.stderr.contains(refusal), "{}", out.stderr);
        let sent = lying.sent.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            sent < 32 << 20,
            "{sent} bytes were sent before the pull stopped"
        );
        assert_eq!(files_under(&cache.join("oci")), Vec::<PathBuf>::new());
    }
}
