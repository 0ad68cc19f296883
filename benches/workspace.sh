#!/usr/bin/env bash
# Workspace build speed on the polyglot example (Rust + Go + Python), printed as numbers and
# ratios. Not part of CI.
#
#   no-op rebuild      `wcomp build` when nothing changed (target: <= 0.2 s)
#   cold, parallel     `wcomp build` with empty cargo and Go caches
#   cold, one by one   the same three builds run one after another (`-p <name>`), caches empty
#                      (target: parallel <= 0.7 x one by one)
set -euo pipefail
cd "$(dirname "$0")/.."
wcomp=${WCOMP:-$PWD/target/release/wcomp}
[ -x "$wcomp" ] || cargo build --release --locked -p wcomp

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r examples/polyglot "$work/ws"
find "$work/ws" -name target -type d -prune -exec rm -rf {} +
cd "$work/ws"

now() { date +%s.%N; }
cold() {  # fresh caches for cargo and Go; componentize-py has none
    export CARGO_TARGET_DIR="$work/cargo-$1" GOCACHE="$work/go-$1"
}

cold sequential
start=$(now)
TIMEFORMAT='%U %S'
cpu=$( { time (for component in tokenizer analyzer reporter; do
    "$wcomp" build -q --force -p "$component" >/dev/null; done); } 2>&1 )
sequential=$(echo "$(now) - $start" | bc)
cores=$(nproc)
# The toolchains parallelise internally (cargo, go), so the CPU time the three builds need,
# spread over every core, is the least a parallel build can take on this machine.
floor=$(echo "${cpu% *} + ${cpu#* }" | bc -l)
floor=$(echo "$floor / $cores / $sequential" | bc -l)

cold parallel
start=$(now)
"$wcomp" build -q --force >/dev/null
parallel=$(echo "$(now) - $start" | bc)

runs=10
start=$(now)
for _ in $(seq $runs); do "$wcomp" build -q >/dev/null; done
noop=$(echo "($(now) - $start) / $runs" | bc -l)

printf 'cold, one by one: %6.2f s\n' "$sequential"
printf 'cold, parallel:   %6.2f s   (ratio %.2f, target <= 0.70)\n' "$parallel" "$(echo "$parallel / $sequential" | bc -l)"
printf 'best possible ratio on %d cores: %.2f (CPU time of the builds / cores / one by one)\n' "$cores" "$floor"
printf 'no-op rebuild:    %6.3f s   (target <= 0.200)\n' "$noop"
