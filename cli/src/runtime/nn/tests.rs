//! Grants, tensor conversions and refusals of the `wasi:nn` backend.

use super::*;

#[test]
fn grants_name_a_graph_and_a_model() {
    let grant: NnGrant = "mnist=models/mnist.onnx".parse().unwrap();
    assert_eq!(grant.name, "mnist");
    let grant = grant.relative_to(Path::new("/project"));
    assert_eq!(grant.model, Path::new("/project/models/mnist.onnx"));
    for (bad, says) in [
        ("mnist", "names no model file"),
        ("=m.onnx", "graph name is empty"),
        ("m=", "model file is empty"),
    ] {
        let err = bad.parse::<NnGrant>().unwrap_err().to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn tensors_cross_both_ways_and_bad_ones_are_refused() {
    let data: Vec<u8> = [1.5f32, -2.0, 0.25, 8.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let tensor = Tensor::new(vec![2, 2], TensorType::Fp32, data.clone());
    let tract = to_tract(&tensor).unwrap();
    assert_eq!(tract.shape(), [2, 2]);
    let back = from_tract(&tract).unwrap();
    assert_eq!(
        (back.dimensions, back.ty, back.data),
        (vec![2, 2], TensorType::Fp32, data)
    );

    let short = Tensor::new(vec![2, 3], TensorType::Fp32, vec![0; 8]);
    let err = format!("{:?}", to_tract(&short).unwrap_err());
    assert!(
        err.contains("hold 6 values (24 bytes), but the data has 8 bytes"),
        "{err}"
    );
    let huge = Tensor::new(vec![u32::MAX, u32::MAX, u32::MAX], TensorType::I64, vec![]);
    assert!(to_tract(&huge).is_err());
    let bf16 = Tensor::new(vec![1], TensorType::Bf16, vec![0, 0]);
    assert!(matches!(
        to_tract(&bf16),
        Err(BackendError::UnsupportedTensorType(_))
    ));
}

#[test]
fn bytes_that_are_not_a_model_are_refused_without_a_panic() {
    for bytes in [&b""[..], b"not onnx at all", &[0xff; 64]] {
        let refusal = compile(bytes).err().expect("refused");
        assert!(refusal.reason.contains("ONNX"), "{}", refusal.reason);
    }
}

#[test]
fn load_from_bytes_is_denied_unless_granted() {
    let mut backend = Onnx { allow_load: false };
    let err = backend
        .load(&[b"x"], ExecutionTarget::Cpu)
        .err()
        .expect("denied");
    assert!(format!("{err:?}").contains("--allow-nn-load"), "{err:?}");
    let mut backend = Onnx { allow_load: true };
    assert!(matches!(
        backend.load(&[b"a", b"b"], ExecutionTarget::Cpu),
        Err(BackendError::InvalidNumberOfBuilders(1, 2))
    ));
}
