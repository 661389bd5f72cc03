#!/bin/sh
# storm.sh measures `herald serve`'s peak memory through a storm of new
# routed alerts, and its ingest rate meanwhile:
#
#   1. `herald serve` at default settings (no GOGC, no GOMEMLIMIT) on a
#      new SQLite file or PostgreSQL database (herald_storm_PID; dropped at
#      the end), with one Alertmanager source whose alerts a rule routes to
#      a component, so that every alert opens or joins an incident;
#   2. ROUNDS (default 5) rounds of N (default 100,000) new alerts, back to
#      back, each `herald-load -format alertmanager -batch 100
#      -concurrency 8 -requests N/100`: every alert new (each run of
#      herald-load has its own fingerprints);
#   3. waits until the reconcile pass has put every alert into an incident
#      (no firing routed alert outside one, read with sqlite3 or psql).
#
# It prints each round's rate, the time the pass took after the last
# round, and herald serve's VmHWM (the kernel's peak RSS of the process,
# start-up included) with the highest RSS sampled every second. Figures on
# a shared machine mean little without the load average: it prints
# `uptime` before and after.
#
# Usage, from the repository root:
#
#   docs/bench/storm.sh              # SQLite
#   docs/bench/storm.sh postgres     # PGURL picks the server (psql needed)
#   ROUNDS=1 N=20000 docs/bench/storm.sh   # a quicker look
#
# BIN, when set, is a directory holding herald and herald-load built
# already. GODEBUG=gctrace=1 in the environment leaves the collector's
# trace in herald's log, printed at the end when GCTRACE=1. STALL (default
# 300 s) stops the wait when the pending count has not moved for that long.
set -eu

store=${1:-sqlite}
n=${N:-100000}
rounds=${ROUNDS:-5}
stall=${STALL:-300}
addr=${ADDR:-127.0.0.1:$((22000 + $$ % 9000))} # not 8080: a shared machine may serve there
token=storm-token-0123456789

. "$(dirname "$0")/common.sh"
bench_setup "$store" herald_storm
url=${pgdb:-sqlite:$work/herald.db}

cat >"$work/herald.yml" <<EOF
components: [{name: Load Module}]
sources:
  - {name: load, kind: alertmanager, token: $token}
rules:
  - match: {service: load}
    components: [Load Module]
EOF

# The collector's defaults are Herald's own: drop what the caller's shell
# may have set.
unset GOGC GOMEMLIMIT
HERALD_ADDR=$addr HERALD_DATABASE_URL=$url HERALD_ADMIN_TOKEN=storm-admin-token-0123456789abcdef \
	HERALD_OUTBOX_DIR=$work/outbox HERALD_LOG_LEVEL=warn \
	"$work/herald" serve --config "$work/herald.yml" >"$work/herald.log" 2>&1 &
pid=$!
bench_wait "$work/herald.log" curl -fs "http://$addr/readyz" -o /dev/null
sleep 2 # let start-up's allocations settle before the baseline

kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }
# pending counts the firing routed alerts that no incident has taken yet.
pending() {
	q="SELECT count(*) FROM alerts WHERE status = 'firing' AND incident_id IS NULL AND rule_id IS NOT NULL"
	case $store in
	sqlite) sqlite3 -readonly "$work/herald.db" ".timeout 5000" "$q" ;;
	postgres) psql "$pgdb" -Atc "$q" ;;
	esac
}
in_incidents() {
	q="SELECT count(*) FROM alerts WHERE incident_id IS NOT NULL"
	case $store in
	sqlite) sqlite3 -readonly "$work/herald.db" ".timeout 5000" "$q" ;;
	postgres) psql "$pgdb" -Atc "$q" ;;
	esac
}

# Sample RSS every second in the background, into $work/peak.
(
	peak=0
	while kill -0 "$pid" 2>/dev/null; do
		rss=$(kb VmRSS 2>/dev/null || echo 0)
		if [ "${rss:-0}" -gt "$peak" ]; then
			peak=$rss
			echo "$peak" >"$work/peak.tmp" && mv "$work/peak.tmp" "$work/peak"
		fi
		sleep 1
	done
) &
sampler=$!

echo "== $rounds rounds of $n new routed alerts, $store, $(nproc) cores"
uptime
echo "herald serve RSS before the storm: $(($(kb VmRSS) / 1024)) MB"
t0=$(date +%s)
total=0
r=1
while [ "$r" -le "$rounds" ]; do
	"$work/herald-load" -url "http://$addr" -source load -token $token -format alertmanager \
		-batch 100 -concurrency 8 -requests $((n / 100)) >"$work/out"
	if grep -q "^first error" "$work/out"; then
		echo "$0: round $r:" >&2
		cat "$work/out" >&2
	fi
	echo "round $r: $(awk '/^accepted/ {print $2 " alerts, " $4 " alerts/s"}' "$work/out"), $(awk '/^latency/ {print "p99 " $5}' "$work/out"), RSS $(($(kb VmRSS) / 1024)) MB"
	total=$((total + $(awk '/^accepted/ {print $2}' "$work/out")))
	r=$((r + 1))
done
t1=$(date +%s)
echo "ingest: $total alerts in $((t1 - t0)) s: $((total / (t1 - t0 > 0 ? t1 - t0 : 1))) alerts/s over the storm"

last=-1 lastt=$t1
while :; do
	kill -0 "$pid" 2>/dev/null || { echo "$0: herald exited" >&2; tail -20 "$work/herald.log" >&2; exit 1; }
	p=$(pending)
	[ "$p" = 0 ] && break
	now=$(date +%s)
	if [ "$p" != "$last" ]; then last=$p lastt=$now; fi
	if [ $((now - lastt)) -gt "$stall" ]; then
		echo "$0: $p alerts still pending, none taken for $stall s" >&2
		break
	fi
	sleep 1
done
t2=$(date +%s)
echo "reconcile: $(in_incidents) alerts in incidents, the last $((t2 - t1)) s after the storm's last request"
sleep 1
uptime
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
echo "herald serve RSS: highest sample $(($(cat "$work/peak") / 1024)) MB, now $(($(kb VmRSS) / 1024)) MB, VmHWM $(($(kb VmHWM) / 1024)) MB"
if [ "${GCTRACE:-}" = 1 ]; then
	grep '^gc ' "$work/herald.log" | tail -40
fi
