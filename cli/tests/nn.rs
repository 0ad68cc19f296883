//! The `wasi:nn` ONNX backend on the ONNX project's own backend test cases: real models with
//! known answers, taken at test time from the `onnx` wheel (1.23.1) on the package index (its
//! `onnx/backend/test/data/{pytorch-converted,pytorch-operator,simple,light}`), never copied
//! into the repository. Each case's inputs go through the same conversion a guest's tensors do
//! (to `wasi:nn` tensors and back), and each output is compared with the expected one within
//! the ONNX backend test suite's tolerances (`rtol = 1e-3`, `atol = 1e-7`).

// Tests write their fixtures directly; wcomp itself writes only through `fsutil`.
#![allow(clippy::disallowed_methods)]
// The runner reports each failing case and its closing line on stderr.
#![allow(clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};

use tract_onnx::prelude::{DatumType, Tensor};
use wcomp::runtime::nn::{compile, from_tract, to_tract};

const SUITES: [&str; 4] = ["pytorch-converted", "pytorch-operator", "simple", "light"];
const RTOL: f64 = 1e-3;
const ATOL: f64 = 1e-7;

/// The ONNX backend test data, extracted once from the `onnx` wheel into
/// `target/test-data/onnx-1.23.1/`.
fn onnx_test_data() -> PathBuf {
    let root = support::repo_root().join("target");
    let data = root.join("test-data/onnx-1.23.1");
    let done = data.join(".extracted");
    if done.is_file() {
        return data.join("onnx/backend/test/data");
    }
    let wheels = root.join("test-wheels");
    let status = std::process::Command::new("python3")
        .args(["-m", "pip", "download", "--disable-pip-version-check", "-q"])
        .args(["--no-deps", "--only-binary=:all:", "onnx==1.23.1", "-d"])
        .arg(&wheels)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "pip could not download the onnx wheel");
    // A wheel is a zip file; only its test data is taken.
    let script = "import sys, zipfile, pathlib\n\
        wheel = next(pathlib.Path(sys.argv[1]).glob('onnx-1.23.1-*.whl'))\n\
        with zipfile.ZipFile(wheel) as z:\n    \
            z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith('onnx/backend/test/data/')])\n";
    let status = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&wheels)
        .arg(&data)
        .status()
        .unwrap();
    assert!(status.success(), "the onnx wheel could not be read");
    std::fs::write(&done, "").unwrap();
    data.join("onnx/backend/test/data")
}

/// A case: its model, its inputs (files, or none for a `light` model) and expected outputs.
struct Case {
    name: String,
    model: PathBuf,
    inputs: Vec<PathBuf>,
    outputs: Vec<PathBuf>,
}

fn numbered(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let index = name
                        .strip_prefix(prefix)?
                        .strip_suffix(".pb")?
                        .parse()
                        .ok()?;
                    Some((index, entry.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.into_iter().map(|(_, path)| path).collect()
}

fn cases(data: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    for suite in SUITES {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(data.join(suite))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                let set = path.join("test_data_set_0");
                cases.push(Case {
                    name: format!("{suite}/{}", path.file_name().unwrap().to_string_lossy()),
                    model: path.join("model.onnx"),
                    inputs: numbered(&set, "input_"),
                    outputs: numbered(&set, "output_"),
                });
            } else if path.extension().is_some_and(|ext| ext == "onnx") {
                // `light/<name>.onnx` with `<name>_output_0.pb`; the inputs are generated.
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                cases.push(Case {
                    name: format!("{suite}/{stem}"),
                    model: path.clone(),
                    inputs: Vec::new(),
                    outputs: numbered(&data.join(suite), &format!("{stem}_output_")),
                });
            }
        }
    }
    cases
}

fn read_tensor(path: &Path) -> Result<Tensor, String> {
    let file = std::fs::File::open(path).map_err(|err| err.to_string())?;
    let proto = tract_onnx::tensor::proto_from_reader(file).map_err(|err| format!("{err:#}"))?;
    tract_onnx::tensor::load_tensor(&tract_onnx::data_resolver::FopenDataResolver, &proto, None)
        .map_err(|err| format!("{err:#}"))
}

/// The inputs the ONNX runner generates for a `light` model: for each graph input that is not
/// an initializer, `arange(n) / n` as float32 in its shape (unknown dimensions as 1).
fn generated_inputs(model: &[u8]) -> Result<Vec<Tensor>, String> {
    use tract_onnx::prelude::Framework as _;
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut &model[..])
        .map_err(|err| format!("not a model: {err:#}"))?;
    let graph = proto.graph.ok_or("no graph")?;
    let initializers: Vec<&str> = graph.initializer.iter().map(|i| i.name.as_str()).collect();
    let mut tensors = Vec::new();
    for input in graph
        .input
        .iter()
        .filter(|i| !initializers.contains(&i.name.as_str()))
    {
        let shape: Vec<usize> = input
            .r#type
            .as_ref()
            .and_then(|ty| match &ty.value {
                Some(tract_onnx::pb::type_proto::Value::TensorType(tensor)) => {
                    tensor.shape.as_ref()
                }
                _ => None,
            })
            .map(|shape| {
                shape
                    .dim
                    .iter()
                    .map(|dim| match dim.value {
                        Some(tract_onnx::pb::tensor_shape_proto::dimension::Value::DimValue(v)) => {
                            v.max(1) as usize
                        }
                        _ => 1,
                    })
                    .collect()
            })
            .ok_or("an input without a tensor shape")?;
        let n: usize = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|i| i as f32 / n as f32).collect();
        tensors.push(Tensor::from_shape(&shape, &values).map_err(|err| err.to_string())?);
    }
    Ok(tensors)
}

/// Whether `actual` is `expected` within the suite's tolerances; why not, if not.
fn compare(expected: &Tensor, actual: &Tensor) -> Result<(), String> {
    if expected.shape() != actual.shape() {
        return Err(format!(
            "shape {:?}, expected {:?}",
            actual.shape(),
            expected.shape()
        ));
    }
    let as_f64 = |t: &Tensor| -> Result<Vec<f64>, String> {
        let cast = t.cast_to::<f64>().map_err(|err| format!("{err:#}"))?;
        let view = cast
            .to_plain_array_view::<f64>()
            .map_err(|err| format!("{err:#}"))?;
        Ok(view.iter().copied().collect())
    };
    let (want, got) = (as_f64(expected)?, as_f64(actual)?);
    for (index, (w, g)) in want.iter().zip(&got).enumerate() {
        let close = (w.is_nan() && g.is_nan()) || (g - w).abs() <= ATOL + RTOL * w.abs();
        if !close {
            return Err(format!("value {index}: {g}, expected {w}"));
        }
    }
    Ok(())
}

/// Runs one case; why it failed, if it did.
fn check(case: &Case) -> Result<(), String> {
    let model = std::fs::read(&case.model).map_err(|err| err.to_string())?;
    let compiled = compile(&model).map_err(|err| err.data)?;
    let inputs = if case.inputs.is_empty() {
        generated_inputs(&model)?
    } else {
        case.inputs
            .iter()
            .map(|path| read_tensor(path))
            .collect::<Result<Vec<_>, _>>()?
    };
    // Through `wasi:nn`'s tensors and back, as a guest's inputs travel.
    let inputs = inputs
        .iter()
        .map(|tensor| {
            let tensor = from_tract(tensor).map_err(|err| format!("input: {err}"))?;
            to_tract(&tensor).map_err(|err| format!("input: {err}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = compiled.run(inputs).map_err(|err| err.to_string())?;
    if case.outputs.is_empty() {
        return Err("the case has no expected output".into());
    }
    for (index, path) in case.outputs.iter().enumerate() {
        let expected = read_tensor(path)?;
        let actual = outputs
            .get(index)
            .ok_or_else(|| format!("no output {index}"))?;
        if actual.datum_type() != DatumType::Bool {
            from_tract(actual).map_err(|err| format!("output {index}: {err}"))?;
        }
        compare(&expected, actual).map_err(|err| format!("output {index}: {err}"))?;
    }
    Ok(())
}

#[test]
fn onnx_backend_test_cases_give_their_known_answers() {
    let data = onnx_test_data();
    let cases = cases(&data);
    assert!(cases.len() >= 140, "only {} cases found", cases.len());
    let mut passed = 0;
    let mut failed = Vec::new();
    for case in &cases {
        match check(case) {
            Ok(()) => passed += 1,
            Err(why) => failed.push(format!("{}: {why}", case.name)),
        }
    }
    for failure in &failed {
        eprintln!("FAIL {failure}");
    }
    eprintln!("{passed} passed, {} failed", failed.len());
    // Every suite is exercised; most cases pass (the README records the counts).
    for suite in SUITES {
        let suite_passed = cases
            .iter()
            .filter(|case| case.name.starts_with(suite))
            .filter(|case| {
                !failed
                    .iter()
                    .any(|f| f.starts_with(&format!("{}:", case.name)))
            })
            .count();
        assert!(suite_passed > 0, "no case of {suite} passed");
    }
    assert!(
        passed * 10 >= cases.len() * 8,
        "{passed} of {} cases passed",
        cases.len()
    );
}

/// `wasi:nn` inside a component on the embedded runtime: a Rust guest
/// (`tests/e2e/nn/infer.rs`) runs the `simple/test_single_relu_model` case's model by name
/// (preloaded with `--nn-graph`) and from bytes (only with `--allow-nn-load`).
#[test]
fn a_component_runs_a_preloaded_model_and_loads_one_only_when_granted() {
    let data = onnx_test_data();
    let relu = data.join("simple/test_single_relu_model/model.onnx");
    let temp = support::tempdir();
    let component = support::build_rust_wit_fixture(
        temp.path(),
        "infer",
        ("e2e/nn", "infer.wit", "inferrer", "infer.rs"),
    );
    let component = component.to_str().unwrap();
    let graph = format!("relu={}", relu.display());
    let call = |args: &[&str], invoke: &str| {
        let mut all = vec!["-q", "run", component, "--invoke", invoke];
        all.extend_from_slice(args);
        support::run(temp.path(), &all)
    };

    let out = call(
        &["--nn-graph", &graph],
        r#"run("relu", "x", [1, 2], [1.5, -2.0])"#,
    )
    .success();
    assert_eq!(out.stdout.trim(), "ok([1.5, 0])");
    // Inputs of the wrong shape or name are `invalid-argument`, saying what the model takes.
    let out = call(
        &["--nn-graph", &graph],
        r#"run("relu", "x", [2, 2], [1, 2, 3, 4])"#,
    )
    .success();
    assert!(
        out.stdout.contains("InvalidArgument")
            && out
                .stdout
                .contains("input `x` has the dimensions [2, 2]; the model takes [1, 2]"),
        "{}",
        out.stdout
    );
    let out = call(
        &["--nn-graph", &graph],
        r#"run("relu", "y", [1, 2], [1, 2])"#,
    )
    .success();
    assert!(
        out.stdout
            .contains("the model has no input `y`; its inputs: `x` (F32 [1, 2])"),
        "{}",
        out.stdout
    );
    // A graph that was not preloaded is `not-found`; so is every graph without a grant.
    let out = call(
        &["--nn-graph", &graph],
        r#"run("mnist", "x", [1, 2], [1.5, -2.0])"#,
    )
    .success();
    assert!(out.stdout.contains("NotFound"), "{}", out.stdout);
    let out = call(&[], r#"run("relu", "x", [1, 2], [1.5, -2.0])"#).success();
    assert!(out.stdout.contains("NotFound"), "{}", out.stdout);

    // Model bytes from the guest: refused unless granted.
    let bytes = std::fs::read(&relu).unwrap();
    let list = bytes
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let invoke = format!(r#"run-bytes([{list}], "x", [1, 2], [3.0, -1.0])"#);
    let out = call(&[], &invoke).success();
    assert!(
        out.stdout.contains("Security") && out.stdout.contains("--allow-nn-load"),
        "{}",
        out.stdout
    );
    let out = call(&["--allow-nn-load"], &invoke).success();
    assert_eq!(out.stdout.trim(), "ok([3, 0])");

    // A model with an operator the engine lacks is refused before the guest starts, by name.
    let gradient = data.join("simple/test_gradient_of_add/model.onnx");
    let out = call(
        &["--nn-graph", &format!("g={}", gradient.display())],
        r#"run("g", "a", [1], [1.0])"#,
    );
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr
            .contains("no implementation of the operator `Gradient`"),
        "{}",
        out.stderr
    );
    let out = call(
        &["--nn-graph", "g=missing.onnx"],
        r#"run("g", "a", [1], [1.0])"#,
    );
    assert!(
        out.stderr.contains("cannot read the model"),
        "{}",
        out.stderr
    );
}

/// `wcomp new --template nn` in Rust and Python: each project builds, and its `infer` and
/// `classify` run a graph granted with one `--nn-graph`; an unknown graph is the guest's own
/// error, and the other languages are refused with what to do instead.
#[test]
fn the_nn_template_runs_a_granted_model_in_rust_and_python() {
    let data = onnx_test_data();
    let relu = data.join("simple/test_single_relu_model/model.onnx");
    let graph = format!("relu={}", relu.display());
    let temp = support::tempdir();
    for (name, lang, not_found) in [
        ("rclf", "rust", "NotFound"),
        ("pyclf", "python", "NOT_FOUND"),
    ] {
        support::run(
            temp.path(),
            &["new", name, "--lang", lang, "--template", "nn"],
        )
        .success();
        let project = temp.path().join(name);
        assert!(project.join("wit/deps/nn").is_dir());
        let built = support::run(&project, &["-q", "build"]).success();
        let component = built.stdout.trim().to_owned();
        let run = |invoke: &str| {
            support::run(
                &project,
                &[
                    "-q",
                    "run",
                    &component,
                    "--nn-graph",
                    &graph,
                    "--invoke",
                    invoke,
                ],
            )
            .success()
            .stdout
        };
        assert_eq!(
            run(r#"infer("relu", "x", [1, 2], [1.5, -2.0])"#).trim(),
            "ok([1.5, 0])",
            "{lang}"
        );
        assert_eq!(
            run(r#"classify("relu", "x", [1, 2], [-1.5, 2.0])"#).trim(),
            "ok(1)",
            "{lang}"
        );
        let missing = run(r#"infer("other", "x", [1, 2], [1.5, -2.0])"#);
        assert!(
            missing.contains(not_found) && missing.contains("--nn-graph other="),
            "{lang}: {missing}"
        );
    }
    let refused = support::run(
        temp.path(),
        &["new", "goclf", "--lang", "go", "--template", "nn"],
    );
    assert_ne!(refused.code, Some(0));
    assert!(
        refused
            .stderr
            .contains("a Go component cannot implement `--template nn`"),
        "{}",
        refused.stderr
    );
}

/// `examples/http-classifier` served with one `--nn-graph`: a real ImageNet network of the
/// ONNX suite (`light/light_squeezenet`, compiled once for the server) classifies the suite's
/// input over HTTP, with the class and score its expected output gives; a wrong input is the
/// client's error, with what the model takes.
#[test]
fn the_http_classifier_example_serves_a_granted_network() {
    let data = onnx_test_data();
    let light = data.join("light");
    let example = support::repo_root().join("examples/http-classifier");
    let built = support::run(&example, &["-q", "build"]).success();
    let component = PathBuf::from(built.stdout.trim());
    let model = light.join("light_squeezenet.onnx");
    let graph = format!("classifier={}", model.display());
    let server = support::server::Server::start(&example, &component, &["--nn-graph", &graph]);

    let input = &generated_inputs(&std::fs::read(&model).unwrap()).unwrap()[0];
    let temp = support::tempdir();
    let body = temp.path().join("image.f32");
    std::fs::write(&body, input.as_bytes()).unwrap();
    let expected = read_tensor(&light.join("light_squeezenet_output_0.pb")).unwrap();
    let expected = expected.cast_to::<f32>().unwrap();
    let scores = expected.to_plain_array_view::<f32>().unwrap();
    let (class, score) = scores
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();

    let data_arg = format!("@{}", body.display());
    let reply = support::server::curl(
        &server,
        "/classify?input=data_0&dims=1,3,224,224",
        &["--data-binary", &data_arg],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(answer["class"], class, "{}", reply.body);
    let served = answer["score"].as_f64().unwrap();
    assert!(
        (served - f64::from(score)).abs() <= 1e-7 + 1e-3 * f64::from(score).abs(),
        "{served} vs {score}"
    );

    let reply = support::server::curl(
        &server,
        "/classify?input=data_0&dims=1,3,112,112",
        &["--data-binary", &data_arg],
    );
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("InvalidArgument"), "{}", reply.body);
    drop(server);

    // Its own smoke tests, which need no model.
    let tested = support::run(&example, &["test"]).success();
    assert!(
        tested.stdout.contains("3 passed, 0 failed"),
        "{}",
        tested.stdout
    );
}
