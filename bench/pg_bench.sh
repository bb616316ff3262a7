#!/usr/bin/env bash
# server_bench against both backends, one after the other on this machine: SQLite (the embedded
# default) and PostgreSQL (a throw-away cluster with fsync on, so a commit is as durable as
# SQLite's synchronous=full). Extra arguments go to server_bench.
#   bench/pg_bench.sh [--seconds 10] [--series-points 10000000]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NEREID_BUILD_DIR:-build}/bench/server_bench
echo "== sqlite"
"$bin" "$@"
out=$(NEREID_PG_FSYNC=on bash tests/pg/cluster.sh start)
url=$(echo "$out" | sed -n 1p)
dir=$(echo "$out" | sed -n 2p)
trap 'bash tests/pg/cluster.sh stop "$dir"' EXIT
psql -X -q "$url" -c "CREATE DATABASE nereid_bench"
echo "== postgres"
"$bin" --store "${url%/*}/nereid_bench" "$@"
