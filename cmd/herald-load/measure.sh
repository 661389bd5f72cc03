#!/bin/sh
# measure.sh reproduces the two ingest rows of README.md's "Measured
# performance" table: it builds herald and herald-load, serves Herald on a
# new database with one Alertmanager source routed to one component, and
# runs the load tool against it:
#
#   1. single alerts at 1,000 req/s on the new (settled) database;
#   2. batches of 100 alerts, as fast as answered (8 in flight);
#   3. single alerts again, right after the batch run's rows;
#   4. single alerts once more after a VACUUM ANALYZE and a CHECKPOINT
#      (PostgreSQL only; SQLite has neither autovacuum nor checkpoints that
#      lag behind like this).
#
# Usage, from the repository root:
#
#   cmd/herald-load/measure.sh sqlite
#   cmd/herald-load/measure.sh postgres   # needs psql; PGURL picks the server
#
# ROUTED=0 leaves the routing rule out: the alerts are stored unrouted, and
# the incidents' reconcile pass has nothing to correlate. BIN, when set, is
# a directory holding herald and herald-load built already. KEYS=N makes
# every run cycle through N distinct alerts (herald-load -keys), as
# Alertmanager re-sending the alerts it holds does; unset, every alert is
# new. DURATION (default 20s) sets the length of each run. Every run
# prints the load average first (uptime), since figures on a shared
# machine mean little without it, and after it herald's CPU time per
# request and, on PostgreSQL, the committed transactions per request. The
# database is dropped at the end.
set -eu

store=${1:?usage: measure.sh sqlite|postgres}
duration=${DURATION:-20s}
pgurl=${PGURL:-postgres://postgres@127.0.0.1:5432}
addr=${ADDR:-127.0.0.1:$((20000 + $$ % 10000))} # not 8080: a shared machine may serve there
token=measure-token-0123456789
routed=${ROUTED-1}
keys=${KEYS:-0}
[ "$routed" = 0 ] && routed=

work=$(mktemp -d)
db=herald_load_$$
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ "$store" = postgres ] && psql "$pgurl/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -n "${BIN:-}" ]; then # binaries built already
	cp "$BIN/herald" "$BIN/herald-load" "$work/"
else
	go build -o "$work/herald" ./cmd/herald
	go build -o "$work/herald-load" ./cmd/herald-load
fi

case $store in
sqlite) url="sqlite:$work/herald.db" ;;
postgres)
	psql "$pgurl/postgres" -qc "CREATE DATABASE $db" >/dev/null
	url="$pgurl/$db?sslmode=disable"
	;;
*) echo "measure.sh: store is sqlite or postgres" >&2; exit 2 ;;
esac

cat >"$work/herald.yml" <<EOF
components: [{name: Load Module}]
sources:
  - {name: load, kind: alertmanager, token: $token}
EOF
if [ -n "$routed" ]; then
	cat >>"$work/herald.yml" <<EOF
rules:
  - match: {service: load}
    components: [Load Module]
EOF
fi

HERALD_ADDR=$addr HERALD_DATABASE_URL=$url HERALD_ADMIN_TOKEN=measure-admin-token-0123456789abcdef \
	HERALD_OUTBOX_DIR=$work/outbox "$work/herald" serve --config "$work/herald.yml" >"$work/herald.log" 2>&1 &
pid=$!
i=0
until kill -0 "$pid" 2>/dev/null && curl -fs "http://$addr/readyz" >/dev/null && kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "measure.sh: herald did not become ready:" >&2
		cat "$work/herald.log" >&2
		exit 1
	fi
	sleep 0.2
done

# herald's CPU time in clock ticks, and PostgreSQL's committed
# transactions in the database: per request, they show what a change saves
# even when the shared machine makes latencies noisy.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
commits() {
	[ "$store" = postgres ] || { echo 0; return; }
	psql "$url" -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
}

load() {
	echo
	echo "== $1 ($store${routed:+, routed to a component}$([ "$keys" = 0 ] || echo ", $keys distinct alerts"))"
	shift
	uptime
	t0=$(ticks) c0=$(commits)
	"$work/herald-load" -url "http://$addr" -source load -token $token -format alertmanager -duration "$duration" -keys "$keys" "$@" | tee "$work/out"
	sleep 1 # PostgreSQL publishes its counters within a second
	t1=$(ticks) c1=$(commits)
	n=$(awk '/^requests/ {print $2 + $5}' "$work/out")
	awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v n="$n" -v hz="$(getconf CLK_TCK)" -v pg="$store" 'BEGIN {
		printf "herald    %.0f µs CPU per request", t / hz / n * 1e6
		if (pg == "postgres") printf "; %.2f commits per request (all of the database'"'"'s)", c / n
		print ""
	}'
}

if [ "$store" = postgres ]; then
	# A run just before this one (back to back, as a series of runs goes)
	# leaves up to max_wal_size of WAL that a checkpoint writes out in the
	# next minutes: into step 1 of this run, where it once lifted the p99
	# from 6 ms to 11-17 ms. Each run starts from a checkpointed server.
	psql "$url" -qc "CHECKPOINT" >/dev/null
fi
load "single alerts, new database" -batch 1 -rate 1000 -concurrency 16
load "batches of 100" -batch 100 -concurrency 8
load "single alerts, right after the batch run" -batch 1 -rate 1000 -concurrency 16
if [ "$store" = postgres ]; then
	psql "$url" -qc "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
	load "single alerts, after VACUUM ANALYZE and CHECKPOINT" -batch 1 -rate 1000 -concurrency 16
fi
