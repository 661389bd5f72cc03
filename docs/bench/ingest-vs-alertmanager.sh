#!/bin/sh
# ingest-vs-alertmanager.sh measures Herald's ingest beside Prometheus
# Alertmanager on the same machine, in the same run, with the same bodies:
# the list of alerts Prometheus POSTs to Alertmanager's /api/v2/alerts,
# every alert new, sent by `herald-load -format alertmanager-api` with 8
# requests in flight. Alertmanager gets them at /api/v2/alerts (kept in
# memory, routed to a receiver that sends nothing); Herald gets them at
# /ingest/load/api/v2/alerts, routed to a component (every alert opens or
# joins an incident), and answers only after the commit.
#
# Each round starts every server on fresh state (a new storage directory,
# a new SQLite file, a new PostgreSQL database) and the servers take turns,
# so that a machine that gets busier during the run slows all of them
# alike. For each round and shape it prints the three rates and Herald's
# ratios to Alertmanager; the ratios are what carries over to another
# machine. Measure on an otherwise idle machine: on a shared one the
# figures mean nothing (each run prints `uptime` first).
#
# Usage, from the repository root:
#
#   docs/bench/ingest-vs-alertmanager.sh                     # 3 rounds of 10 s
#   ROUNDS=1 DURATION=2s docs/bench/ingest-vs-alertmanager.sh  # a quick check
#   STORES=sqlite docs/bench/ingest-vs-alertmanager.sh       # leave PostgreSQL out
#
# Alertmanager is Debian's `prometheus-alertmanager` package, installed
# with apt-get when /usr/bin/prometheus-alertmanager is missing (root or
# sudo needed); ALERTMANAGER names another binary. PGURL picks the
# PostgreSQL server (psql needed). BIN, when set, is a directory holding
# herald and herald-load built already.
set -eu

duration=${DURATION:-10s}
rounds=${ROUNDS:-3}
stores=${STORES:-sqlite postgres}
pgurl=${PGURL:-postgres://postgres@127.0.0.1:5432}
port=$((21000 + $$ % 9000)) # not 8080 or 9093: a shared machine may serve there
herald_addr=127.0.0.1:$port
am_addr=127.0.0.1:$((port + 1))
token=vs-am-token-0123456789
am=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}

if ! [ -x "$am" ]; then
	echo "== installing Debian's prometheus-alertmanager"
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y prometheus-alertmanager >/dev/null
fi

work=$(mktemp -d)
pid=
db=
cleanup() {
	stop
	rm -rf "$work"
}
stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
		pid=
	fi
	if [ -n "$db" ]; then
		psql "$pgurl/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
		db=
	fi
}
trap cleanup EXIT INT TERM

if [ -n "${BIN:-}" ]; then
	cp "$BIN/herald" "$BIN/herald-load" "$work/"
else
	go build -o "$work/herald" ./cmd/herald
	go build -o "$work/herald-load" ./cmd/herald-load
fi

# Alertmanager's configuration: one route to a receiver without
# integrations (alerts are kept and grouped, nothing is sent).
cat >"$work/alertmanager.yml" <<EOF
route:
  receiver: blackhole
  group_by: [alertname]
receivers:
  - name: blackhole
EOF
# Herald's: one alertmanager-api source, every alert routed to a component.
cat >"$work/herald.yml" <<EOF
components: [{name: Load Module}]
sources:
  - {name: load, kind: alertmanager-api, token: $token}
rules:
  - match: {alertname: LoadTest}
    components: [Load Module]
EOF

# wait_ready URL waits up to a minute for URL to answer while $pid lives.
wait_ready() {
	i=0
	until curl -fs "$1" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "$0: $2 did not come up:" >&2
			tail -30 "$work/server.log" >&2
			exit 1
		fi
		sleep 0.2
	done
}

start_alertmanager() {
	rm -rf "$work/am-data"
	"$am" --config.file="$work/alertmanager.yml" --storage.path="$work/am-data" \
		--web.listen-address="$am_addr" --cluster.listen-address= >"$work/server.log" 2>&1 &
	pid=$!
	wait_ready "http://$am_addr/-/ready" alertmanager
}

start_herald() { # sqlite | postgres
	case $1 in
	sqlite)
		rm -f "$work"/herald.db*
		url="sqlite:$work/herald.db"
		;;
	postgres)
		db=herald_vs_am_$$
		psql "$pgurl/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
		url="$pgurl/$db?sslmode=disable"
		;;
	esac
	HERALD_ADDR=$herald_addr HERALD_DATABASE_URL=$url HERALD_ADMIN_TOKEN=vs-am-admin-token-0123456789abcdef \
		HERALD_OUTBOX_DIR=$work/outbox "$work/herald" serve --config "$work/herald.yml" >"$work/server.log" 2>&1 &
	pid=$!
	wait_ready "http://$herald_addr/readyz" "herald serve ($1)"
}

# load TARGET SHAPE-FLAGS… prints the accepted alerts per second.
load() {
	target=$1
	shift
	case $target in
	alertmanager) set -- -url "http://$am_addr" -path /api/v2/alerts "$@" ;;
	*) set -- -url "http://$herald_addr" -source load -token $token "$@" ;;
	esac
	"$work/herald-load" -format alertmanager-api -concurrency 8 -duration "$duration" "$@" >"$work/out"
	if grep -q "^first error" "$work/out"; then
		echo "$0: $target:" >&2
		cat "$work/out" >&2
	fi
	awk '/^accepted/ {print $4}' "$work/out"
}

# measure TARGET SHAPE-FLAGS… starts TARGET on fresh state, loads it and
# stops it.
measure() {
	target=$1
	shift
	case $target in
	alertmanager) start_alertmanager ;;
	*) start_herald "$target" ;;
	esac
	load "$target" "$@"
	stop
}

echo "== $(nproc) cores, $duration per run, $rounds rounds; $("$am" --version 2>&1 | head -1)"
uptime
printf '%-6s %-28s %12s' round shape alertmanager
for s in $stores; do printf ' %12s %7s' "herald-$s" ratio; done
echo
r=1
while [ $r -le "$rounds" ]; do
	for shape in "batches of 100:-batch 100" "single alerts:-batch 1"; do
		name=${shape%%:*}
		flags=${shape#*:}
		# shellcheck disable=SC2086 # flags are words
		base=$(measure alertmanager $flags)
		printf '%-6s %-28s %12s' "$r" "$name" "$base"
		for s in $stores; do
			# shellcheck disable=SC2086
			got=$(measure "$s" $flags)
			printf ' %12s %7s' "$got" "$(awk -v a="$got" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }')"
		done
		echo
	done
	r=$((r + 1))
done
uptime
