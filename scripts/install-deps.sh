#!/usr/bin/env bash
# Installs what building and testing wcomp needs and is missing on this machine.
# Safe to run repeatedly: each step checks first.
set -euo pipefail

say() { printf '\033[1;32m%12s\033[0m %s\n' "$1" "$2" >&2; }
fail() { printf '\033[1;31merror:\033[0m %s\n' "$1" >&2; exit 1; }

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
