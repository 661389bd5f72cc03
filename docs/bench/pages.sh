#!/bin/sh
# pages.sh measures the status page `/` and `/api/v2/summary.json` over
# HTTP, the "over HTTP" row of README.md's "Measured performance" table:
# it runs `herald demo` (the seed outage, replayed quickly, then served on)
# and loads both paths with `herald-load pages -ceiling`, which loads a
# static in-process server serving the same bytes in the same run, and
# prints Herald's rate as a share of that ceiling.
#
# Usage, from the repository root:
#
#   docs/bench/pages.sh              # SQLite (demo's default)
#   docs/bench/pages.sh postgres     # a fresh database; PGURL picks the server
#   ROUNDS=3 DURATION=10s docs/bench/pages.sh
#   HEADER='Accept-Encoding: gzip' docs/bench/pages.sh   # what browsers ask for
#
# BIN, when set, is a directory holding herald and herald-load built
# already. CONCURRENCY (default 32) sets the connections in flight.
set -eu

store=${1:-sqlite}
addr=${ADDR:-127.0.0.1:18180}
duration=${DURATION:-15s}
rounds=${ROUNDS:-1}
concurrency=${CONCURRENCY:-32}

. "$(dirname "$0")/common.sh"
bench_setup "$store" herald_pages
set --
[ "$store" = postgres ] && set -- --database "$pgdb"

# A 20 ms step replays the outage's two minutes in a few seconds; the page
# is then the seed's, resolved, with its history.
HERALD_ADDR=$addr HERALD_OUTBOX_DIR=$work/outbox "$work/herald" demo --step 20ms "$@" >"$work/demo.log" 2>&1 &
pid=$!
replayed() { grep -q "replay is over" "$work/demo.log" && curl -fs "http://$addr/readyz" >/dev/null; }
bench_wait "$work/demo.log" replayed
sleep 2

echo "== $store, $(nproc) cores"
uptime
set -- -url "http://$addr" -path / -path /api/v2/summary.json -concurrency "$concurrency" -duration "$duration" -rounds "$rounds" -ceiling
[ -n "${HEADER:-}" ] && set -- "$@" -header "$HEADER"
"$work/herald-load" pages "$@"
uptime
