#!/usr/bin/env bash
# Installs or checks what building and testing wcomp needs on this machine. Safe to run
# repeatedly: each step checks first.
set -euo pipefail

say() { printf '\033[1;32m%12s\033[0m %s\n' "$1" "$2" >&2; }
fail() { printf '\033[1;31merror:\033[0m %s\n' "$1" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Rust: cargo, and the standard library for components.
command -v cargo >/dev/null || fail "cargo is missing; install Rust from https://rustup.rs"
if command -v rustup >/dev/null; then
    if ! rustup target list --installed | grep -qx wasm32-wasip2; then
        say Installing "Rust target wasm32-wasip2"
        rustup target add wasm32-wasip2
    fi
else
    sysroot=$(rustc --print sysroot)
    [ -d "$sysroot/lib/rustlib/wasm32-wasip2" ] || fail "the wasm32-wasip2 target is missing and rustup is not available to add it"
fi
say Checked "rust: $(rustc --version)"

# Go: the standard toolchain (1.25+) builds Go components; bindings are generated inside wcomp
# and the Go runtime module falls back to a copy bundled with wcomp, so nothing else is needed.
command -v go >/dev/null || fail "go is missing; install Go 1.25 or newer from https://go.dev/dl/"
case "$(go env GOVERSION)" in
    go1.2[5-9]*|go1.[3-9][0-9]*) ;;
    *) fail "Go $(go env GOVERSION) is too old; install Go 1.25 or newer from https://go.dev/dl/" ;;
esac
say Checked "go: $(go version)"

# Python: wcomp installs its pinned componentize-py (0.25.1) into a private virtual environment
# in its cache on first use; that needs Python 3.10+ with venv, and access to PyPI.
if ! command -v python3 >/dev/null; then
    command -v apt-get >/dev/null || fail "python3 is missing; install Python 3.10 or later"
    say Installing "python3 python3-venv"
    as_root apt-get update -qq && as_root apt-get install -y -qq python3 python3-venv
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || fail "Python 3.10+ is needed for Python components ($(python3 --version))"
python3 -c 'import venv, ensurepip' 2>/dev/null || fail "Python's venv module is missing (Debian/Ubuntu: apt install python3-venv)"
say Checked "python: $(python3 --version)"

# JavaScript components: wcomp installs the pinned componentize-js with npm into its cache on
# first use; that needs Node.js 20+ with npm, and access to the npm registry.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    command -v apt-get >/dev/null || fail "node and npm are missing; install Node.js 20 or later"
    say Installing "nodejs npm"
    as_root apt-get update -qq && as_root apt-get install -y -qq nodejs npm
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' || fail "Node.js 20+ is needed for JavaScript components ($(node --version))"
say Checked "js: node $(node --version), npm $(npm --version)"

# HTTP, OCI and state: `curl` (the HTTP client the serve tests and the quick start talk to
# `wcomp serve` with), `wrk` (the load generator of benches/serve.sh), `docker-registry`
# (the CNCF distribution registry the registry tests publish to) and `redis-server` (the
# Redis the keyvalue tests start on a free port of their own), from the system's packages.
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v wrk >/dev/null || missing+=(wrk)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null; then
        say Installing "${missing[*]}"
        as_root apt-get update -qq && as_root apt-get install -y -qq "${missing[@]}"
    else
        fail "install ${missing[*]} with your package manager"
    fi
fi
say Checked "http: $(curl --version | head -1 | cut -d' ' -f1-2), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(docker-registry --version | cut -d' ' -f1,3), $(redis-server --version | cut -d' ' -f1-3)"
