#!/bin/sh
# fanout-1m.sh measures the peak memory and the delivery rate of one
# broadcast to a million email subscribers, the "one-million-subscriber
# fan-out" row of README.md's "Measured performance" table:
#
#   1. a fresh PostgreSQL database (herald_fanout_PID; dropped at the end)
#      or SQLite file;
#   2. `herald subscribers import` of N generated, confirmed subscribers;
#   3. `herald-load sink`, a counting SMTP server, as a separate process;
#   4. `herald serve` sending to it (HERALD_SMTP_URL, default settings);
#   5. `herald broadcast` to everyone, while this script samples herald
#      serve's RSS every second, until the sink has N messages.
#
# It prints herald's RSS before the broadcast, the highest sample, VmHWM
# (the kernel's peak RSS of the process, start-up included), the time
# from the broadcast command to the last message, and the sink's rate.
#
# Usage, from the repository root:
#
#   docs/bench/fanout-1m.sh              # PostgreSQL (PGURL picks the server)
#   docs/bench/fanout-1m.sh sqlite
#   N=100000 docs/bench/fanout-1m.sh     # a quicker look
#   OUTBOX=1 docs/bench/fanout-1m.sh     # the file outbox instead of SMTP
#
# BIN, when set, is a directory holding herald and herald-load built
# already. STALL (default 300 s) stops the run when no message arrived for
# that long. It needs psql (PostgreSQL), curl and a few GB of disk.
set -eu

store=${1:-postgres}
n=${N:-1000000}
addr=${ADDR:-127.0.0.1:18081}
smtp=${SMTP_ADDR:-127.0.0.1:12525}
sinkhttp=${SINK_HTTP:-127.0.0.1:18099}
stall=${STALL:-300}
outbox=${OUTBOX:-}

. "$(dirname "$0")/common.sh"
bench_setup "$store" herald_fanout
url=${pgdb:-sqlite:$work/herald.db}

export HERALD_DATABASE_URL="$url" HERALD_ADDR="$addr" HERALD_OUTBOX_DIR="$work/outbox" \
	HERALD_ADMIN_TOKEN=fanout-admin-token-0123456789abcdef HERALD_LOG_LEVEL=warn
if [ -z "$outbox" ]; then
	export HERALD_SMTP_URL="smtp://$smtp?tls=none"
fi

echo "== $n subscribers, $store, $(if [ -n "$outbox" ]; then echo file outbox; else echo "SMTP to herald-load sink"; fi)"
"$work/herald" migrate >/dev/null
awk -v n="$n" 'BEGIN { print "email,components,confirmed"; for (i = 0; i < n; i++) printf "user%07d@example.com,,true\n", i }' >"$work/subs.csv"
t0=$(date +%s)
"$work/herald" subscribers import --confirmed --consent-source "fanout-1m.sh" "$work/subs.csv" 2>/dev/null
echo "import: $(($(date +%s) - t0)) s"
rm "$work/subs.csv"

"$work/herald-load" sink -smtp "$smtp" -http "$sinkhttp" -every 30s >"$work/sink.log" 2>&1 &
sinkpid=$!
"$work/herald" serve >"$work/herald.log" 2>&1 &
pid=$!
ready() { curl -fs "http://$addr/readyz" >/dev/null && curl -fs "http://$sinkhttp/count" >/dev/null; }
bench_wait "$work/herald.log" ready
sleep 2 # let start-up's allocations settle before the baseline
kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }
delivered() {
	if [ -n "$outbox" ]; then
		find "$work/outbox" -name '*.eml' 2>/dev/null | wc -l
	else
		curl -fs "http://$sinkhttp/count" | sed 's/.*"emails":\([0-9]*\).*/\1/'
	fi
}
base=$(kb VmRSS)
uptime
echo "herald serve RSS before the broadcast: $((base / 1024)) MB"

t0=$(date +%s)
"$work/herald" broadcast --subject "Benchmark" --body "One message to everyone, from docs/bench/fanout-1m.sh." 2>&1
peak=$base last=0 lastt=$t0 next=$((t0 + 15))
while :; do
	sleep 1
	kill -0 "$pid" 2>/dev/null || { echo "fanout-1m.sh: herald exited" >&2; tail -20 "$work/herald.log" >&2; exit 1; }
	rss=$(kb VmRSS)
	[ "$rss" -gt "$peak" ] && peak=$rss
	now=$(date +%s)
	got=$(delivered)
	if [ "$got" != "$last" ]; then last=$got lastt=$now; fi
	if [ "$now" -ge "$next" ]; then
		echo "$((now - t0)) s: $got delivered, RSS $((rss / 1024)) MB, peak $((peak / 1024)) MB"
		next=$((now + 15))
	fi
	[ "$got" -ge "$n" ] && break
	if [ $((now - lastt)) -gt "$stall" ]; then
		echo "fanout-1m.sh: nothing delivered for $stall s, stopping at $got" >&2
		break
	fi
done
elapsed=$(($(date +%s) - t0))
uptime
echo "delivered $last of $n in $elapsed s from the broadcast command (planning included): $((last / (elapsed > 0 ? elapsed : 1))) msgs/s"
if [ -z "$outbox" ]; then
	curl -fs "http://$sinkhttp/count" | tr -d '{}"' | awk -F'[:,]' '{
		printf "at the sink: %d emails, %d duplicates, %.0f s from the first to the last: %.0f msgs/s\n", $2, $6, $8, $2 / ($8 > 0 ? $8 : 1) }'
fi
echo "herald serve RSS: before $((base / 1024)) MB, highest sample $((peak / 1024)) MB, VmHWM $(($(kb VmHWM) / 1024)) MB"
