#!/usr/bin/env bash
# Where a request's CPU time goes in `wcomp serve`: the Rust HTTP template (`GET /`, a fresh
# instance per request) under `wrk`, sampled with `perf record -g` for the middle of the run,
# then grouped by where each sample's stack says it was, plus `perf stat` of the server.
# Writes the grouped table to stdout and a flame graph to benches/serve-flamegraph.svg.
#
# Not part of CI. Needs a release build of wcomp (with symbols: this script builds one with
# `CARGO_PROFILE_RELEASE_DEBUG=line-tables-only` into target/profile/), Debian's linux-perf,
# wrk, and inferno (`cargo install --locked inferno`) for the SVG.
#
#   benches/profile-serve.sh [<component.wasm>]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-8}
connections=${CONNECTIONS:-64}
for tool in perf wrk; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (see the header of $0)" >&2; exit 1; }
done
wcomp=${WCOMP:-}
if [ -z "$wcomp" ]; then
    CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_TARGET_DIR=target/profile \
        cargo build --release --locked -p wcomp >&2
    wcomp=$PWD/target/profile/release/wcomp
fi

work=$(mktemp -d)
cleanup() { pkill -P $$ 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export WCOMP_CACHE_DIR=$work/cache
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR_GUESTS:-$PWD/target/guests/bench-serve}
component=${1:-}
if [ -z "$component" ]; then
    (cd "$work" && "$wcomp" new -q hello --lang rust --template http && "$wcomp" build -q hello >/dev/null)
    component=$work/hello/target/wcomp/hello.wasm
fi

port=18790
"$wcomp" serve "$component" --addr "127.0.0.1:$port" 2>"$work/server.log" &
server=$!
for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/" >/dev/null && break
    sleep 0.05
done
wrk -t2 -c"$connections" -d2s "http://127.0.0.1:$port/" >/dev/null   # warm the pool
wrk -t2 -c"$connections" -d"${duration}s" "http://127.0.0.1:$port/" >"$work/wrk.txt" &
load=$!
sleep 1
perf record -F 1999 -g --call-graph dwarf,16384 -p "$server" -o "$work/perf.data" \
    -- sleep $((duration - 3)) 2>/dev/null >/dev/null
perf stat -e task-clock,context-switches,page-faults -p "$server" -- sleep 2 2>"$work/stat.txt" >/dev/null
wait "$load"
kill "$server"
wait "$server" 2>/dev/null || true
echo "wrk: $(grep 'Requests/sec' "$work/wrk.txt")"
grep -E 'task-clock|context-switches|page-faults' "$work/stat.txt" | sed 's/^ */perf stat: /'

perf script -i "$work/perf.data" 2>/dev/null >"$work/perf.txt"
# Each sample goes to the group of the innermost frame of its stack that a group names (the
# code that did the work, or called into the kernel or libc for it); its kernel share is the
# part of those samples whose innermost frame is in the kernel.
python3 - "$work/perf.txt" <<'PY'
import re, sys
groups = [
    ("slot reset when an instance is dropped", [r"deallocate", r"reset_with_", r"decommit", r"MemoryImageSlot::clear", r"keep_resident"]),
    ("instantiation (pool slot, memory image, instance init)", [r"instantiate", r"InstancePre", r"allocate_module", r"MemoryImageSlot", r"InstanceAllocator", r"initialize_instance"]),
    ("store and WASI context setup and teardown", [r"Store<.*>::new", r"StoreOpaque", r"WasiCtxBuilder", r"drop_in_place<wasmtime::runtime::store", r"server_store", r"runtime::engine::Host", r"ResourceTable::new"]),
    ("wasi-http host calls (resources, headers, bodies, pollables)", [r"wasmtime_wasi_http", r"wasmtime_wasi::", r"ResourceTable", r"wasmtime::runtime::component::func::host"]),
    ("component-model call machinery (lifting, lowering, fibers)", [r"wasmtime::runtime::component", r"wasmtime_fiber", r"wasmtime::runtime::func", r"call_async", r"on_fiber"]),
    ("access log and metrics", [r"wcomp::serve::log", r"LogWriter", r"prometheus_client", r"wcomp::printer", r"serde_json", r"AccessRecord"]),
    ("wcomp's request handling", [r"wcomp::serve"]),
    ("hyper and the connection", [r"hyper::", r"hyper_util::", r"h2::", r"http_body"]),
    ("tokio scheduling and I/O", [r"tokio::"]),
    ("guest code (compiled wasm, no symbols)", [r"\[unknown\]", r"wasm\["]),
]
counts = {name: [0, 0] for name, _ in groups}
counts["other (libc, allocator, unclassified)"] = [0, 0]
total = 0
stack = []
def flush():
    global total
    if not stack:
        return
    total += 1
    kernel = "[kernel.kallsyms]" in stack[0]
    for frame in stack:
        if "[kernel.kallsyms]" in frame:
            continue
        for name, patterns in groups:
            if any(re.search(p, frame) for p in patterns):
                counts[name][0] += 1
                counts[name][1] += kernel
                return
    counts["other (libc, allocator, unclassified)"][0] += 1
    counts["other (libc, allocator, unclassified)"][1] += kernel
for line in open(sys.argv[1], errors="replace"):
    if not line.strip():
        flush(); stack.clear()
    elif line[0] in "\t ":
        stack.append(line.strip())
flush()
print(f"| {'where the CPU goes':62} | share | of it in the kernel |")
print(f"|{'-' * 64}|------:|--------------------:|")
for name, (count, kernel) in sorted(counts.items(), key=lambda kv: -kv[1][0]):
    print(f"| {name:62} | {100 * count / max(total, 1):4.1f} % | {100 * kernel / max(count, 1):5.0f} % |")
print(f"{total} samples")
PY
if command -v inferno-collapse-perf >/dev/null; then
    inferno-collapse-perf "$work/perf.txt" | inferno-flamegraph --title "wcomp serve, GET / under wrk" \
        >benches/serve-flamegraph.svg
    echo "flame graph: benches/serve-flamegraph.svg"
fi
