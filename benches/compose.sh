#!/usr/bin/env bash
# Times `wcomp compose` against `wac plug` on the same inputs and prints the ratio.
# Not part of CI. Needs: a release build of wcomp and `wac` on PATH
# (`cargo install --locked wac-cli`).
#
#   benches/compose.sh <socket.wasm> <plug.wasm>... 
#
# With no arguments it builds and uses examples/text-report.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-20}
wcomp=${WCOMP:-$PWD/target/release/wcomp}
command -v wac >/dev/null || { echo "wac is not installed: cargo install --locked wac-cli" >&2; exit 1; }
[ -x "$wcomp" ] || cargo build --release --locked -p wcomp

if [ $# -eq 0 ]; then
    (cd examples/text-report && "$wcomp" build -q analyzer >/dev/null && "$wcomp" build -q reporter >/dev/null)
    set -- examples/text-report/reporter/target/wcomp/reporter.wasm examples/text-report/analyzer/target/wcomp/analyzer.wasm
fi
socket=$1; shift
plug_args=(); for plug in "$@"; do plug_args+=(--plug "$plug"); done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

time_runs() {  # prints mean milliseconds of "$@" over $runs runs
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
    end=$(date +%s%N)
    echo $(( (end - start) / runs / 1000 ))
}

# One warm-up each, so both read their inputs from the page cache.
"$wcomp" compose -q "$socket" "${plug_args[@]}" -o "$out/w.wasm" >/dev/null
wac plug "$socket" "${plug_args[@]}" -o "$out/a.wasm"
w=$(time_runs "$wcomp" compose -q "$socket" "${plug_args[@]}" -o "$out/w.wasm")
a=$(time_runs wac plug "$socket" "${plug_args[@]}" -o "$out/a.wasm")
printf 'inputs: %s\n' "$(du -ch "$socket" "$@" | tail -1 | cut -f1)"
printf 'wcomp compose: %d.%03d ms\nwac plug:      %d.%03d ms\n' $((w / 1000)) $((w % 1000)) $((a / 1000)) $((a % 1000))
awk -v w="$w" -v a="$a" 'BEGIN { printf "ratio wcomp/wac: %.2f\n", w / a }'
