#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: its own data directory, trust authentication,
# listening on 127.0.0.1 only, fsync off unless PG_FSYNC=on (nothing in it outlives the run).
#
#   tools/pg-test-server.sh start DIR PORT   prints the database URL to use
#   tools/pg-test-server.sh restart DIR      stops it (fast) and starts it again
#   tools/pg-test-server.sh stop DIR         stops it and deletes DIR
#
# Needs PostgreSQL's server programs (Debian: apt-get install postgresql). As root it
# runs the server as the `postgres` user, which initdb requires.
set -euo pipefail

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ]; then bindir="$d"; break; fi
done
if [ -z "$bindir" ] && command -v initdb > /dev/null; then
    bindir="$(dirname "$(command -v initdb)")"
fi
if [ -z "$bindir" ]; then
    echo "pg-test-server.sh: PostgreSQL's initdb is not installed: apt-get install postgresql" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
    dir="$2"
    port="$3"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    as_owner "$bindir/initdb" -D "$dir/data" -U rapport --auth=trust --no-sync \
        -E UTF8 --locale=C > "$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=${PG_FSYNC:-off} -c max_connections=200" \
        start > /dev/null \
        || { cat "$dir/data/server.log" >&2; exit 1; }
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U rapport rapport_test
    echo "postgres://rapport@127.0.0.1:$port/rapport_test"
    ;;
restart)
    dir="$2"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -m fast -w -t 60 restart > /dev/null
    ;;
stop)
    dir="$2"
    if [ -d "$dir/data" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start DIR PORT | restart DIR | stop DIR" >&2
    exit 2
    ;;
esac
