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
# Then the HTTP classifier example (`examples/http-classifier`) served with
# `--nn-graph classifier=light_squeezenet.onnx` (a whole ImageNet network, with constant
# weights), loaded by `wrk` on 2 connections posting the suite's input: requests per second and
# latency, beside the same network's inference in the template component and natively.
#
#   benches/nn.sh [<case dir under onnx/backend/test/data, or light/<name>>]...
set -euo pipefail
cd "$(dirname "$0")/.."
wcomp=${WCOMP:-$PWD/target/release/wcomp}
data=$PWD/target/test-data/onnx-1.23.1/onnx/backend/test/data
[ -x "$wcomp" ] || cargo build --release --locked -p wcomp
[ -d "$data" ] || cargo test --locked -p wcomp --test nn onnx_backend 2>/dev/null
[ $# -gt 0 ] || set -- simple/test_single_relu_model pytorch-converted/test_Conv3d_groups light/light_squeezenet

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/guests}
(cd "$work" && "$wcomp" new -q nnbench --lang rust --template nn && "$wcomp" build -q nnbench >/dev/null)
component=$work/nnbench/target/wcomp/nnbench.wasm

# For case $1: the model's first input's name and the case's input as a WAVE call
# ($work/call), its values as FP32 little-endian ($work/input.f32) and the classifier's query
# ($work/call.query).
prepare() {
    python3 - "$data/$1" "$work/call" "$work/input.f32" <<'PY'
import os, struct, sys

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

case, call_file, raw_file = sys.argv[1:4]
light = not os.path.isdir(case)
model = open(f"{case}.onnx" if light else f"{case}/model.onnx", "rb").read()
graph = next(v for n, w, v in fields(model) if n == 7)
inits = {next(v for n, w, v in fields(t) if n == 8).decode() for n, w, t in fields(graph) if n == 5}
first = next(i for n, w, i in fields(graph) if n == 11
             if next(v for n, w, v in fields(i) if n == 1).decode() not in inits)
name = next(v for n, w, v in fields(first) if n == 1).decode()
dims, values = [], []
if light:
    # As the ONNX runner makes a light model's input: arange(n) / n in the input's shape.
    ty = next(v for n, w, v in fields(first) if n == 2)
    tensor_type = next(v for n, w, v in fields(ty) if n == 1)
    shape = next(v for n, w, v in fields(tensor_type) if n == 2)
    for n, w, dim in fields(shape):
        dims.append(max(1, next((v for k, _, v in fields(dim) if k == 1), 1)))
    count = 1
    for d in dims:
        count *= d
    values = [i / count for i in range(count)]
else:
    tensor = open(f"{case}/test_data_set_0/input_0.pb", "rb").read()
    for number, wire, value in fields(tensor):
        if number == 1 and wire == 0:
            dims.append(value)
        elif number == 1 and wire == 2:
            i = 0
            while i < len(value):
                d, i = varint(value, i)
                dims.append(d)
        elif number in (4, 9) and wire == 2:
            values = list(struct.unpack(f"<{len(value) // 4}f", value))
open(call_file, "w").write(f'infer("m", "{name}", {dims}, [{", ".join(repr(v) for v in values)}])')
open(raw_file, "wb").write(struct.pack(f"<{len(values)}f", *values))
open(call_file + ".query", "w").write(f"input={name}&dims={','.join(map(str, dims))}")
PY
}

for case in "$@"; do
    prepare "$case"
    echo "== $case"
    model=$data/$case/model.onnx
    [ -f "$model" ] || model=$data/$case.onnx
    "$wcomp" bench "$component" --nn-graph "m=$model" --invoke "@$work/call" 2>&1 \
        | grep -E '^(component|instantiate|call|native|throughput)' | cut -c1-160
done

# The classifier example, served, on the last case's input.
if [ -f "$data/light/light_squeezenet.onnx" ]; then
    prepare light/light_squeezenet
    classifier=$(cd examples/http-classifier && "$wcomp" build -q)
    port=18960
    "$wcomp" -q serve --addr "127.0.0.1:$port" \
        --nn-graph "classifier=$data/light/light_squeezenet.onnx" \
        "$classifier" 2>/dev/null &
    server=$!
    for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
    cat >"$work/post.lua" <<LUA
wrk.method = "POST"
local file = io.open("$work/input.f32", "rb")
wrk.body = file:read("*all")
file:close()
LUA
    url="http://127.0.0.1:$port/classify?$(cat "$work/call.query")"
    curl -s --data-binary "@$work/input.f32" "$url"
    wrk -t1 -c2 -d1s -s "$work/post.lua" "$url" >/dev/null
    wrk -t2 -c2 -d"${DURATION:-4s}" --latency -s "$work/post.lua" "$url" >"$work/wrk"
    kill -INT "$server"; wait "$server" || true
    python3 - "$work/wrk" <<'PY'
import sys
sys.path.insert(0, "benches")
from wrk import figures
f = figures(open(sys.argv[1]).read())
print(f"== examples/http-classifier served (light_squeezenet, 2 connections): {f['rps']:.1f} req/s, p50 {f['p50']:.1f} ms, p99 {f['p99']:.1f} ms, {f['failed']} failed")
PY
fi
