#!/usr/bin/env bash
# `wasi:nn` inference inside a component against the same inference outside it: `wcomp bench`
# on the Rust `--template nn` component, calling `infer` on ONNX backend test models (from the
# onnx 1.23.1 wheel, extracted by `cargo test --test nn` into target/test-data/), with the
# model preloaded by `--nn-graph`. The report's `call` line is the whole guest call (WAVE
# arguments lowered, tensor made, `load-by-name`, `compute`, output lifted); its `native`
# line is the same inference by the same engine on the same inputs outside the component.
# Their difference is what the sandbox adds to one inference.
#
# No `wasmtime run` row: the wasmtime CLI's default build has no ONNX backend, and its `onnx`
# feature needs ONNX Runtime's native library (downloaded at build time), which these
# machines cannot use.
#
# Not part of CI. Needs a release build of wcomp.
#
#   benches/nn.sh [<case dir under onnx/backend/test/data>]...
set -euo pipefail
cd "$(dirname "$0")/.."
wcomp=${WCOMP:-$PWD/target/release/wcomp}
data=$PWD/target/test-data/onnx-1.23.1/onnx/backend/test/data
[ -x "$wcomp" ] || cargo build --release --locked -p wcomp
[ -d "$data" ] || cargo test --locked -p wcomp --test nn onnx_backend 2>/dev/null
[ $# -gt 0 ] || set -- simple/test_single_relu_model pytorch-converted/test_Conv3d_groups pytorch-converted/test_Conv2d_padding

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/guests}
(cd "$work" && "$wcomp" new -q nnbench --lang rust --template nn && "$wcomp" build -q nnbench >/dev/null)
component=$work/nnbench/target/wcomp/nnbench.wasm

for case in "$@"; do
    # The model's first input's name, and the case's first input as a WAVE call.
    call=$(python3 - "$data/$case" <<'PY'
import struct, sys

def fields(buf):
    """(field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 2:
            size, i = varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        else:
            raise SystemExit(f"unexpected wire type {wire}")
        yield number, wire, value

def varint(buf, i):
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i

case = sys.argv[1]
model = open(f"{case}/model.onnx", "rb").read()
graph = next(v for n, w, v in fields(model) if n == 7)
inits = {next(v for n, w, v in fields(t) if n == 8).decode() for n, w, t in fields(graph) if n == 5}
name = next(next(v for n, w, v in fields(i) if n == 1).decode()
            for n, w, i in fields(graph) if n == 11
            if next(v for n, w, v in fields(i) if n == 1).decode() not in inits)
tensor = open(f"{case}/test_data_set_0/input_0.pb", "rb").read()
dims, values = [], []
for number, wire, value in fields(tensor):
    if number == 1 and wire == 0:
        dims.append(value)
    elif number == 1 and wire == 2:
        i = 0
        while i < len(value):
            d, i = varint(value, i)
            dims.append(d)
    elif number == 9:
        values = list(struct.unpack(f"<{len(value) // 4}f", value))
    elif number == 4 and wire == 2:
        values = list(struct.unpack(f"<{len(value) // 4}f", value))
print(f'infer("m", "{name}", {dims}, [{", ".join(repr(v) for v in values)}])')
PY
)
    echo "== $case"
    "$wcomp" bench "$component" --nn-graph "m=$data/$case/model.onnx" --invoke "$call" 2>&1 \
        | grep -E '^(component|instantiate|call|native|throughput)' | cut -c1-160
done
