//! Grants, tensor conversions and refusals of the `wasi:nn` backend.

use std::path::Path;

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

fn tensor(dimensions: Vec<u32>, ty: TensorType, data: Vec<u8>) -> NnTensor {
    NnTensor {
        dimensions,
        ty,
        data,
    }
}

#[test]
fn tensors_cross_both_ways_and_bad_ones_are_invalid_arguments() {
    let data: Vec<u8> = [1.5f32, -2.0, 0.25, 8.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let original = tensor(vec![2, 2], TensorType::Fp32, data);
    let tract = to_tract(&original).unwrap();
    assert_eq!(tract.shape(), [2, 2]);
    assert_eq!(from_tract(&tract).unwrap(), original);

    let err = to_tract(&tensor(vec![2, 3], TensorType::Fp32, vec![0; 8])).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(
        err.data
            .contains("hold 6 values (24 bytes), but the data has 8 bytes"),
        "{err}"
    );
    let huge = tensor(vec![u32::MAX, u32::MAX, u32::MAX], TensorType::I64, vec![]);
    assert_eq!(
        to_tract(&huge).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    let bf16 = tensor(vec![1], TensorType::Bf16, vec![0, 0]);
    assert_eq!(
        to_tract(&bf16).unwrap_err().code,
        ErrorCode::UnsupportedOperation
    );
}

#[test]
fn bytes_that_are_not_a_model_are_refused_without_a_panic() {
    for bytes in [&b""[..], b"not onnx at all", &[0xff; 64]] {
        let err = compile(bytes).expect_err("refused");
        assert!(
            matches!(
                err.code,
                ErrorCode::InvalidEncoding | ErrorCode::UnsupportedOperation
            ),
            "{err}"
        );
        assert!(err.data.contains("ONNX"), "{err}");
    }
}
