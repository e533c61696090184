#!/usr/bin/env bash
# Load test of the REST API on loopback: `GET /api/v1/conversations` over the demo data,
# with wrk (Debian's package). Prints wrk's report: requests/s, latency percentiles
# (p99 included, from --latency) and any non-2xx answers or socket errors.
#
#   bash tools/bench_api.sh [DURATION] [CONNECTIONS] [THREADS]   (default 20s 32 2)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20s}"
connections="${2:-32}"
threads="${3:-2}"

if ! command -v wrk > /dev/null; then
    SUDO=""; if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk > /dev/null
fi
cargo build --release --locked -p rapport
bin="$PWD/target/release/rapport"
dir="$(mktemp -d)"
trap 'kill "$server" 2> /dev/null || true; rm -rf "$dir"' EXIT
env -u RAPPORT_NOW "$bin" --data-dir "$dir/data" demo --no-serve > /dev/null
printf 'a long enough password\n' | "$bin" --data-dir "$dir/data" user add bench --role viewer --password-stdin > /dev/null
token="$("$bin" --data-dir "$dir/data" token create --user bench 2> /dev/null)"
RAPPORT_LOG=warn "$bin" --data-dir "$dir/data" serve --listen 127.0.0.1:18099 2> "$dir/serve.log" &
server=$!
for _ in $(seq 1 50); do
    curl -sf http://127.0.0.1:18099/healthz > /dev/null && break
    sleep 0.2
done
n="$("$bin" --data-dir "$dir/data" inbox --status all --limit 1000000 --json | grep -o '"id":' | wc -l)"
echo "GET /api/v1/conversations: 50 per page, over the demo's $n conversations; $connections connections, $threads threads, $duration"
wrk -t"$threads" -c"$connections" -d"$duration" --latency \
    -H "Authorization: Bearer $token" \
    http://127.0.0.1:18099/api/v1/conversations
