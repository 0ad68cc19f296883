#!/usr/bin/env bash
# `wcomp serve` against `wasmtime serve` on the same component, one after the other in one
# run, under the same load from `wrk` on loopback: requests per second, p50/p99 latency and
# peak RSS of each, and the ratios. Both at their defaults: a fresh instance per request
# (wasmtime serve's reuse count is 1 for 0.2 components). `wasmtime serve` gets `-Scli`,
# since components built from Rust's standard library import `wasi:cli/environment`.
#
# A native hyper server (benches/native) answering the same text gets a row beside each
# `GET /`, as the ceiling of what these cores can serve.
#
# Then, for wcomp alone: its own instantiation times (p50/p99 from the server's summary) and
# $HELD concurrent connections kept busy, with the memory each in-flight request costs.
#
# WASI 0.3 handlers (`wasi:http/handler`) get rows for both tools at their defaults (one
# instance for up to 128 requests, 16 at a time, in both), both with reuse off (wcomp
# `--reuse 1`, wasmtime `--max-instance-reuse-count 1`), and wasmtime with a time limit
# (`-Wtimeout=30s`, as wcomp always has one: its guests are compiled with epoch checks).
# Before measuring, each 0.3 component's answer from both servers is compared.
#
# Not part of CI. Needs a release build of wcomp, wasmtime-cli 48.0.8
# (`cargo install --locked wasmtime-cli@48.0.8`), wrk, curl and GNU time.
#
#   benches/serve.sh [<component.wasm> <path>]...
#   P3=<component.wasm>:<path>,... benches/serve.sh ...   # 0.3 components to measure
#   ONLY=p3 benches/serve.sh                               # the 0.3 rows alone
#   P3=none benches/serve.sh                               # without the 0.3 rows
#
# With no arguments it builds the Rust HTTP template (`GET /`), the HTTP polyglot example
# (`GET /`, which enters Go; the composition holds Go, Rust and Python), and the WASI 0.3 Rust
# and Python templates (`--template http --wasi 0.3`, `GET /`).
set -euo pipefail
cd "$(dirname "$0")/.."
wcomp=${WCOMP:-$PWD/target/release/wcomp}
wasmtime=${WASMTIME:-wasmtime}
duration=${DURATION:-4s}
connections=${CONNECTIONS:-64}
held=${HELD:-1000}
for tool in "$wasmtime" wrk curl; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (see the header of $0)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed for peak RSS: apt-get install time" >&2; exit 1; }
[ -x "$wcomp" ] || cargo build --release --locked -p wcomp
# The native baseline (benches/native: hyper 1 on tokio, no WebAssembly), beside each `GET /`.
native=${NATIVE:-$PWD/target/native/release/native-hello}
[ -x "$native" ] || (cd benches/native && CARGO_TARGET_DIR="$PWD/../../target/native" cargo build -q --release) || true

work=$(mktemp -d)
cleanup() { pkill -P $$ 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export WCOMP_CACHE_DIR=${WCOMP_CACHE_DIR:-$work/cache}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/guests/bench-serve}
if [ $# -eq 0 ] && [ "${ONLY:-}" != p3 ]; then
    (cd "$work" && "$wcomp" new -q hello --lang rust --template http && "$wcomp" build -q hello >/dev/null)
    (cd examples/http-polyglot && "$wcomp" compose -q >/dev/null)
    set -- "$work/hello/target/wcomp/hello.wasm" / examples/http-polyglot/target/wcomp/wordsvc.wasm /
fi
if [ -z "${P3:-}" ]; then
    for lang in rust python; do
        (cd "$work" && "$wcomp" new -q "p3-$lang" --lang "$lang" --template http --wasi 0.3 \
            && "$wcomp" build -q "p3-$lang" >/dev/null)
    done
    P3="$work/p3-rust/target/wcomp/p3-rust.wasm:/,$work/p3-python/target/wcomp/p3-python.wasm:/"
fi

port=18700
wait_for() {  # until "$1" answers
    for _ in $(seq 1 1800); do  # up to 3 min: the first serve of a large composition compiles it
        curl -s -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "the server at $1 did not start" >&2
    cat "$work/server.err" >&2 2>/dev/null || true
    return 1
}

# Runs "$@" (a server on 127.0.0.1:$port) under GNU time, loads it with wrk, stops it; prints
# "<req/s> <p50 ms> <p99 ms> <peak RSS KiB>" and leaves the server's stderr in $work/server.err.
measure() {
    port=$((port + 1))
    local url="http://127.0.0.1:$port$path"
    /usr/bin/time -f '%M' -o "$work/rss" "$@" --addr "127.0.0.1:$port" "$component" \
        >/dev/null 2>"$work/server.err" &
    local timer=$!
    wait_for "$url"
    wrk -t2 -c"$connections" -d1s "$url" >/dev/null  # warm-up
    wrk -t2 -c"$connections" -d"$duration" --latency "$url" >"$work/wrk"
    pkill -INT -P "$timer" 2>/dev/null || true
    wait "$timer" 2>/dev/null || true
    python3 - "$work/wrk" "$work/rss" <<'EOF'
import sys
sys.path.insert(0, "benches")
from wrk import figures
text = open(sys.argv[1]).read()
f = figures(text)
if f["failed"]:
    sys.exit(f"{f['failed']} failed responses:\n{text}")
rss = open(sys.argv[2]).read().split()[-1]
print(f"{f['rps']:.0f} {f['p50']:.3f} {f['p99']:.3f} {rss}")
EOF
}

printf '%-46s %10s %9s %9s %9s\n' "component / server" "req/s" "p50 ms" "p99 ms" "RSS MiB"
while [ $# -ge 2 ]; do
    component=$1 path=$2
    shift 2
    # Compile both once (each caches compiled code), so the runs measure serving.
    read -r w_rps w_p50 w_p99 w_rss < <(measure "$wcomp" -q serve)
    # `-Skeyvalue` for components importing `wasi:keyvalue` (the HTTP polyglot example counts
    # its texts in a bucket); `GET /` does not use it.
    read -r t_rps t_p50 t_p99 t_rss < <(measure "$wasmtime" serve -Scli -Skeyvalue)
    read -r w_rps w_p50 w_p99 w_rss < <(measure "$wcomp" -q serve)
    summary=$(measure "$wcomp" serve >/dev/null; grep -o 'instantiation p50 [^;]*' "$work/server.err" || true)
    name=$(basename "$component")
    if [ -x "$native" ] && [ "$path" = / ]; then
        read -r n_rps n_p50 n_p99 n_rss < <(measure "$native")
        printf '%-46s %10s %9s %9s %9.1f\n' "native hyper server (no wasm)" "$n_rps" "$n_p50" "$n_p99" "$(echo "$n_rss / 1024" | bc -l)"
        printf '%-46s %9.2fx %8.2fx %8.2fx %8.2fx\n' "  ratio wcomp / native" \
            "$(echo "$w_rps / $n_rps" | bc -l)" "$(echo "$w_p50 / $n_p50" | bc -l)" \
            "$(echo "$w_p99 / $n_p99" | bc -l)" "$(echo "$w_rss / $n_rss" | bc -l)"
    fi
    printf '%-46s %10s %9s %9s %9.1f\n' "$name / wcomp serve" "$w_rps" "$w_p50" "$w_p99" "$(echo "$w_rss / 1024" | bc -l)"
    printf '%-46s %10s %9s %9s %9.1f\n' "$name / wasmtime serve -Scli -Skeyvalue" "$t_rps" "$t_p50" "$t_p99" "$(echo "$t_rss / 1024" | bc -l)"
    printf '%-46s %9.2fx %8.2fx %8.2fx %8.2fx\n' "  ratio wcomp / wasmtime" \
        "$(echo "$w_rps / $t_rps" | bc -l)" "$(echo "$w_p50 / $t_p50" | bc -l)" \
        "$(echo "$w_p99 / $t_p99" | bc -l)" "$(echo "$w_rss / $t_rss" | bc -l)"
    echo "  wcomp's own timing: $summary"

    # $held connections at once, each kept busy: memory per request in flight.
    port=$((port + 1))
    url="http://127.0.0.1:$port$path"
    "$wcomp" -q serve --addr "127.0.0.1:$port" --max-concurrency "$held" "$component" 2>/dev/null &
    server=$!
    wait_for "$url"
    idle=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
    wrk -t2 -c"$held" -d"$duration" "$url" >"$work/held" &
    loader=$!
    sleep 2
    busy=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
    wait "$loader"
    kill -INT "$server"
    wait "$server" || true
    held_rps=$(awk '/Requests\/sec/ {print $2}' "$work/held")
    held_errors=$(awk '/Socket errors/ {print}' "$work/held")
    printf '  %d connections: %s req/s, RSS %.1f MiB idle, %.1f MiB busy: %.1f KiB per connection %s\n' \
        "$held" "$held_rps" "$(echo "$idle / 1024" | bc -l)" "$(echo "$busy / 1024" | bc -l)" \
        "$(echo "($busy - $idle) / $held" | bc -l)" "${held_errors:+($held_errors)}"
done

# WASI 0.3 handlers: four configurations each, after checking both servers answer alike.
answer() {  # the status and body "$@" (a server) gives for $path
    port=$((port + 1))
    "$@" --addr "127.0.0.1:$port" "$component" >/dev/null 2>&1 &
    local server=$!
    wait_for "http://127.0.0.1:$port$path"
    curl -s -w '\n%{http_code}' "http://127.0.0.1:$port$path"
    kill -INT "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}
row() {  # label, then "<req/s> <p50> <p99> <rss KiB>"
    printf '%-46s %10s %9s %9s %9.1f\n' "$1" "$2" "$3" "$4" "$(echo "$5 / 1024" | bc -l)"
}
ratio() {  # label, wcomp's and wasmtime's figures
    printf '%-46s %9.2fx %8.2fx %8.2fx %8.2fx\n' "  $1" "$(echo "$2 / $6" | bc -l)" \
        "$(echo "$3 / $7" | bc -l)" "$(echo "$4 / $8" | bc -l)" "$(echo "$5 / $9" | bc -l)"
}
[ "$P3" = none ] && P3=
IFS=, read -ra p3_components <<<"$P3"
for entry in "${p3_components[@]}"; do
    component=${entry%%:*} path=${entry#*:}
    name=$(basename "$component")
    w_answer=$(answer "$wcomp" -q serve)
    t_answer=$(answer "$wasmtime" serve -Scli)
    if [ "$w_answer" != "$t_answer" ]; then
        printf 'different answers for %s %s:\nwcomp:    %s\nwasmtime: %s\n' "$name" "$path" "$w_answer" "$t_answer" >&2
        exit 1
    fi
    echo "$name (WASI 0.3): both answer $(echo "$w_answer" | tail -1) $(echo "$w_answer" | head -1)"
    read -r -a w_default < <(measure "$wcomp" -q serve)
    read -r -a t_default < <(measure "$wasmtime" serve -Scli)
    read -r -a w_fresh < <(measure "$wcomp" -q serve --reuse 1)
    read -r -a t_fresh < <(measure "$wasmtime" serve -Scli --max-instance-reuse-count 1)
    read -r -a t_timed < <(measure "$wasmtime" serve -Scli -Wtimeout=30s)
    read -r -a w_default < <(measure "$wcomp" -q serve)
    row "$name / wcomp serve (128 × 16)" "${w_default[@]}"
    row "$name / wasmtime serve -Scli (128 × 16)" "${t_default[@]}"
    ratio "ratio at both defaults" "${w_default[@]}" "${t_default[@]}"
    row "$name / wcomp serve --reuse 1" "${w_fresh[@]}"
    row "$name / wasmtime serve, reuse 1" "${t_fresh[@]}"
    ratio "ratio with reuse off on both" "${w_fresh[@]}" "${t_fresh[@]}"
    row "$name / wasmtime serve -Wtimeout=30s" "${t_timed[@]}"
    ratio "ratio at defaults, both with a time limit" "${w_default[@]}" "${t_timed[@]}"
done
