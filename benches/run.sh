#!/usr/bin/env bash
# Warm `wcomp run --invoke` against `wasmtime run --invoke` on the same component, side by
# side: mean wall time over $RUNS runs of each, interleaved, after one warm-up each (both with
# their code caches filled), peak RSS of one run each, and the ratios. Then `wcomp bench` on
# the component.
# Not part of CI. Needs a release build of wcomp and the wasmtime CLI of the same version as
# wcomp's engine (`cargo install --locked wasmtime-cli@48.0.8`), and GNU time for peak RSS.
#
#   benches/run.sh [<component.wasm> '<call>']...
#
# With no arguments it builds examples/text-report (Rust -> Rust) and uses
# `render("Hello brave new world")`. Pass more pairs to compare several compositions
# (e.g. Go -> Rust, Python -> Go -> Rust) in one table.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-30}
wcomp=${WCOMP:-$PWD/target/release/wcomp}
wasmtime=${WASMTIME:-wasmtime}
command -v "$wasmtime" >/dev/null || { echo "wasmtime is not installed: cargo install --locked wasmtime-cli@48.0.8" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is needed for peak RSS: apt-get install time" >&2; exit 1; }
[ -x "$wcomp" ] || cargo build --release --locked -p wcomp

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ $# -eq 0 ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/guests}
    (cd examples/text-report && "$wcomp" build -q analyzer >/dev/null && "$wcomp" build -q reporter >/dev/null)
    "$wcomp" compose -q examples/text-report/reporter/target/wcomp/reporter.wasm \
        --plug examples/text-report/analyzer/target/wcomp/analyzer.wasm -o "$work/rust-rust.wasm"
    set -- "$work/rust-rust.wasm" 'render("Hello brave new world")'
fi

mean_ms() {  # mean wall milliseconds of two commands (split by ---), interleaved over $runs runs
    python3 - "$runs" "$@" <<'EOF'
import os, shutil, sys, time
runs, args = int(sys.argv[1]), sys.argv[2:]
split = args.index("---")
commands = [args[:split], args[split + 1:]]
null = os.open(os.devnull, os.O_WRONLY)
actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
totals = [0.0, 0.0]
for _ in range(runs):  # interleaved, so a change in machine load hits both alike
    for i, cmd in enumerate(commands):
        start = time.perf_counter()
        pid = os.posix_spawn(shutil.which(cmd[0]) or cmd[0], cmd, os.environ, file_actions=actions)
        _, status = os.waitpid(pid, 0)
        totals[i] += time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(cmd)} failed")
print(" ".join(f"{total / runs * 1000:.2f}" for total in totals))
EOF
}

peak_kib() {  # peak RSS (KiB) of one run of "$@"
    /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1
}

# A component file written within the last two seconds is re-read and hashed on every run (its
# timestamps could still be shared by a rewrite); in steady use it has long settled.
sleep 2
printf '%-28s %12s %12s %7s %14s %14s %7s\n' component "wcomp ms" "wasmtime ms" ratio "wcomp KiB" "wasmtime KiB" ratio
while [ $# -ge 2 ]; do
    component=$1 call=$2; shift 2
    w=("$wcomp" run -q "$component" --invoke "$call")
    # wasmtime's defaults, with its code cache on (as `wcomp run`'s is).
    t=("$wasmtime" run --invoke "$call" "$component")
    "${w[@]}" >/dev/null; "${t[@]}" >/dev/null   # warm-up: fill both code caches
    read -r wm tm < <(mean_ms "${w[@]}" --- "${t[@]}")
    wk=$(peak_kib "${w[@]}"); tk=$(peak_kib "${t[@]}")
    awk -v n="$(basename "$component")" -v wm="$wm" -v tm="$tm" -v wk="$wk" -v tk="$tk" \
        'BEGIN { printf "%-28s %12.2f %12.2f %7.2f %14d %14d %7.2f\n", n, wm, tm, wm / tm, wk, tk, wk / tk }'
    "$wcomp" bench -q "$component" --invoke "$call" --instances "${INSTANCES:-10000}" --duration "${DURATION:-2s}" ||
        echo "(wcomp bench failed on $(basename "$component"); see above)"
done
