#!/usr/bin/env bash
# The test command: everything the tests need, then every test. CI runs exactly this.
# Needs only the Rust toolchain (cargo) and a C compiler (SQLite is built from source
# by cargo); nothing is downloaded except crates through cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
