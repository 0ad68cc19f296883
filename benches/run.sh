#!/usr/bin/env bash
# Warm `wcomp run --invoke` against `wasmtime run --invoke` on the same component, side by
# side: mean wall time over $RUNS runs of each, interleaved, after one warm-up each (both with
# their code caches filled), and the ratio; then for each tool the median wall time, the mean
# CPU time (user + system, from `wait4`'s resource usage of the child, so the harness's own
# time is not in it) and the mean page faults; peak RSS of one run each. Wall time minus CPU
# time is what a run spent waiting (for a core, for a thread to end) or being spawned. Then
# `wcomp bench` on the component.
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

measure() {  # two commands (split by ---), interleaved over $runs runs: for each, its mean and
    # median wall ms, mean CPU ms and mean page faults
    python3 - "$runs" "$@" <<'EOF'
import os, shutil, statistics, sys, time
runs, args = int(sys.argv[1]), sys.argv[2:]
split = args.index("---")
commands = [args[:split], args[split + 1:]]
null = os.open(os.devnull, os.O_WRONLY)
actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
walls, cpus, faults = [[], []], [[], []], [[], []]
for _ in range(runs):  # interleaved, so a change in machine load hits both alike
    for i, cmd in enumerate(commands):
        start = time.perf_counter()
        pid = os.posix_spawn(shutil.which(cmd[0]) or cmd[0], cmd, os.environ, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        walls[i].append((time.perf_counter() - start) * 1000)
        cpus[i].append((usage.ru_utime + usage.ru_stime) * 1000)
        faults[i].append(usage.ru_minflt + usage.ru_majflt)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{' '.join(cmd)} failed")
print(" ".join(f"{statistics.mean(walls[i]):.2f} {statistics.median(walls[i]):.2f} "
               f"{statistics.mean(cpus[i]):.2f} {statistics.mean(faults[i]):.0f}" for i in range(2)))
EOF
}

peak_kib() {  # peak RSS (KiB) of one run of "$@"
    /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1
}

# A component file written within the last two seconds is re-read and hashed on every run (its
# timestamps could still be shared by a rewrite); in steady use it has long settled.
sleep 2
printf '%-24s %9s %9s %6s | %-32s | %-32s | %12s %12s\n' component "wcomp ms" "wasmtime" ratio \
    "wcomp: median ms, CPU ms, faults" "wasmtime: median ms, CPU ms, faults" "wcomp KiB" "wasmtime KiB"
while [ $# -ge 2 ]; do
    component=$1 call=$2; shift 2
    w=("$wcomp" run -q "$component" --invoke "$call")
    # wasmtime's defaults, with its code cache on (as `wcomp run`'s is).
    t=("$wasmtime" run --invoke "$call" "$component")
    "${w[@]}" >/dev/null; "${t[@]}" >/dev/null   # warm-up: fill both code caches
    read -r wm wmed wcpu wpf tm tmed tcpu tpf < <(measure "${w[@]}" --- "${t[@]}")
    wk=$(peak_kib "${w[@]}"); tk=$(peak_kib "${t[@]}")
    awk -v n="$(basename "$component")" -v wm="$wm" -v tm="$tm" -v wk="$wk" -v tk="$tk" \
        -v wmed="$wmed" -v wcpu="$wcpu" -v wpf="$wpf" -v tmed="$tmed" -v tcpu="$tcpu" -v tpf="$tpf" \
        'BEGIN { printf "%-24s %9.2f %9.2f %6.2f | %10.2f %10.2f %10d | %10.2f %10.2f %10d | %12d %12d (%.2f)\n",
                 n, wm, tm, wm / tm, wmed, wcpu, wpf, tmed, tcpu, tpf, wk, tk, wk / tk }'
    "$wcomp" bench -q "$component" --invoke "$call" --instances "${INSTANCES:-10000}" --duration "${DURATION:-2s}" ||
        echo "(wcomp bench failed on $(basename "$component"); see above)"
done
