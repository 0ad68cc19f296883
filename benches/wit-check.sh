#!/usr/bin/env bash
# Times `wcomp wit check` against `wasm-tools component wit` on the WASI 0.2 WIT set that
# ships in the wasmtime-wasi crate, and prints the ratio (goal: <= 1.0x). Not run by CI.
#
#   benches/wit-check.sh [runs]
#
# Needs a release build of wcomp (built here if missing, or point WCOMP at a binary) and
# wasm-tools (`cargo install --locked wasm-tools`).
set -euo pipefail

runs="${1:-50}"
root="$(cd "$(dirname "$0")/.." && pwd)"
wcomp="${WCOMP:-$root/target/release/wcomp}"

registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
corpus="$(ls -d "$registry"/*/wasmtime-wasi-*/src/p2/wit 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -z "$corpus" ]]; then
    echo "error: no wasmtime-wasi sources under $registry; run \`cargo fetch\` in $root first" >&2
    exit 2
fi
if ! command -v wasm-tools >/dev/null; then
    echo "error: wasm-tools is not installed; install it with \`cargo install --locked wasm-tools\`" >&2
    exit 2
fi
if [[ ! -x "$wcomp" ]]; then
    echo "building wcomp (release) ..." >&2
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin wcomp
fi

# Both commands must succeed on the corpus before their times mean anything.
"$wcomp" wit check --quiet "$corpus" >/dev/null
wasm-tools component wit "$corpus" >/dev/null

# The two commands run alternately, so load from other processes (this is usually a shared
# machine) hits both alike. Totals are wall time in nanoseconds.
now() { date +%s%N; }
wcomp_ns=0
tools_ns=0
"$wcomp" wit check --quiet "$corpus" >/dev/null 2>&1 # warm the page cache
for ((i = 0; i < runs; i++)); do
    t0=$(now)
    "$wcomp" wit check --quiet "$corpus" >/dev/null 2>&1
    t1=$(now)
    wasm-tools component wit "$corpus" >/dev/null 2>&1
    t2=$(now)
    wcomp_ns=$((wcomp_ns + t1 - t0))
    tools_ns=$((tools_ns + t2 - t1))
done
wcomp_us=$((wcomp_ns / runs / 1000))
tools_us=$((tools_ns / runs / 1000))

files=$(find "$corpus" -name '*.wit' | wc -l)
echo "corpus: $corpus ($files files)"
echo "wcomp wit check:          ${wcomp_us} us/run ($runs runs)"
echo "wasm-tools component wit: ${tools_us} us/run ($runs runs, $(wasm-tools --version))"
awk -v a="$wcomp_us" -v b="$tools_us" 'BEGIN { printf "ratio (wcomp / wasm-tools): %.2fx (goal <= 1.00x)\n", a / b }'
