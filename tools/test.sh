#!/usr/bin/env bash
# The test command: everything the tests need, then every test. CI runs exactly this.
# Needs the Rust toolchain (cargo), a C compiler (SQLite is built from source by cargo),
# Node.js with npm, and Debian's apt: it installs Chromium (apt) and playwright-core
# (npm, no browser download) for the browser tests. Nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Chromium for the browser tests, from Debian's packages; playwright-core from npm.
browser=yes
if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium > /dev/null; } \
        || { echo "test.sh: WARNING: could not install Chromium with apt-get; the browser tests will not run" >&2; browser=no; }
fi
if [ "$browser" = yes ]; then
    npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error \
        || { echo "test.sh: WARNING: npm ci failed; the browser tests will not run" >&2; browser=no; }
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

# The web UI in a real browser, against the binary the tests just built.
if [ "$browser" = yes ]; then
    RAPPORT_BIN="$PWD/target/debug/rapport" npm test --prefix tests/browser
else
    echo "test.sh: WARNING: browser tests SKIPPED (see above)" >&2
fi
