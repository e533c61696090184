#!/usr/bin/env bash
# Ingest throughput, one data set, measured in one run:
#   - one `rapport import` process on SQLite (the embedded default), the reference;
#   - `rapport import --queue` then 1, 2 and 4 `rapport worker` processes on PostgreSQL.
# PostgreSQL is a throwaway server (tools/pg-test-server.sh) with fsync ON, as SQLite's
# WAL is synced too. Prints one line per run and a Markdown table for docs/benchmarks.md.
#
#   ROWS=50000 BATCH=500 bash tools/bench_workers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-50000}"
BATCH="${BATCH:-500}"
PORT="${PORT:-55460}"

cargo build --release --locked -q -p rapport
B="$PWD/target/release/rapport"
work="$(mktemp -d)"
chmod 755 "$work"
cleanup() { PG_FSYNC=on tools/pg-test-server.sh stop "$work/pg" || true; rm -rf "$work"; }
trap cleanup EXIT

# A support-desk export: inbound questions and complaints from 5,000 people, the
# organisation's answers, follow-ups: threads that span batches.
awk -v n="$ROWS" 'BEGIN {
    print "tweet_id,author_id,inbound,created_at,text,in_response_to_tweet_id,followers";
    split("my lamp keeps disconnecting please help|does the hub work with HomeKit?|love the new app, great job|still waiting on my refund, this is unacceptable|how much for 40 units for our office?", t, "|");
    base = 1700000000;
    for (i = 0; i < n; i++) {
        id = 70000000 + i; ts = base + i * 7;
        date = strftime("%Y-%m-%dT%H:%M:%SZ", ts, 1);
        if (i % 4 == 1)       printf "%d,LumenHelp,False,%s,\"Sorry to hear that, DM us\",%d,\n", id, date, id - 1;
        else if (i % 10 == 3) printf "%d,user%d,True,%s,thanks that worked,%d,%d\n", id, i % 5000, date, id - 2, i % 900;
        else                  printf "%d,user%d,True,%s,\"%s #%d\",,%d\n", id, i % 5000, date, t[i % 5 + 1], i, (i * 37) % 200000;
    }
}' > "$work/data.csv"

now_ms() { date +%s%3N; }
cfg() {
    "$B" --data-dir "$1" init > /dev/null
    sed -i 's/"example.bsky.social"/"LumenHelp"/' "$1/rapport.toml"
}

results=()
# SQLite, one process.
cfg "$work/sqlite"
t0=$(now_ms)
"$B" --data-dir "$work/sqlite" import "$work/data.csv" --platform twitter --json > /dev/null
t1=$(now_ms)
sqlite_ms=$((t1 - t0))
sqlite_rate=$((ROWS * 1000 / sqlite_ms))
echo "sqlite, 1 process: ${sqlite_ms} ms, ${sqlite_rate} msg/s"
results+=("| SQLite, one \`rapport import\` | 1 | ${sqlite_ms} | ${sqlite_rate} | 1.00 |")

# PostgreSQL, 1, 2 and 4 workers.
pg_url="$(PG_FSYNC=on tools/pg-test-server.sh start "$work/pg" "$PORT")"
base="${pg_url%/*}"
for n in 1 2 4; do
    db="bench_w$n"
    psql -q "$pg_url" -c "CREATE DATABASE $db" > /dev/null
    url="$base/$db"
    cfg "$work/w$n"
    RAPPORT_DATABASE_URL="$url" "$B" --data-dir "$work/w$n" import "$work/data.csv" \
        --platform twitter --queue --batch "$BATCH" --json > /dev/null
    t0=$(now_ms)
    pids=()
    for i in $(seq 1 "$n"); do
        RAPPORT_LOG=warn RAPPORT_DATABASE_URL="$url" "$B" --data-dir "$work/w$n" worker \
            --no-duties --name "w$i" --exit-when-idle 2 > /dev/null &
        pids+=($!)
    done
    wait "${pids[@]}"
    # The end is when the last job was done, not when the workers noticed the queue empty.
    t1=$(psql -tA "$url" -c "SELECT MAX(updated_at) FROM jobs WHERE state = 'done'")
    left=$(psql -tA "$url" -c "SELECT COUNT(*) FROM jobs WHERE state != 'done'")
    stored=$(psql -tA "$url" -c "SELECT COUNT(*) FROM messages")
    if [ "$left" != 0 ] || [ "$stored" != "$ROWS" ]; then
        echo "postgres, $n workers: $left jobs not done, $stored messages stored" >&2
        exit 1
    fi
    ms=$((t1 - t0))
    rate=$((ROWS * 1000 / ms))
    ratio=$(awk -v a="$rate" -v b="$sqlite_rate" 'BEGIN { printf "%.2f", a / b }')
    echo "postgres, $n worker(s): ${ms} ms, ${rate} msg/s (${ratio}x sqlite)"
    results+=("| PostgreSQL, \`import --queue\` + workers | $n | ${ms} | ${rate} | ${ratio} |")
done

echo
echo "$ROWS messages, batches of $BATCH, $(nproc) CPU cores:"
echo
echo "| store | processes | ms | messages/s | vs SQLite |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${results[@]}"
