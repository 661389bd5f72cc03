# common.sh is sourced by the scripts in docs/bench: a work directory, the
# binaries, a fresh database, and the clean-up of all three.
#
# bench_setup STORE NAME sets $work (a temporary directory holding herald
# and herald-load, built from this tree or copied from $BIN) and, for
# STORE postgres, creates the database NAME_PID on $PGURL and sets $pgdb to
# its URL. The clean-up on exit kills $pid and $sinkpid when set, drops
# that database and removes $work.
pgurl=${PGURL:-postgres://postgres@127.0.0.1:5432}

bench_setup() {
	store=$1
	work=$(mktemp -d)
	db=$2_$$
	trap bench_cleanup EXIT INT TERM
	if [ -n "${BIN:-}" ]; then
		cp "$BIN/herald" "$BIN/herald-load" "$work/"
	else
		go build -o "$work/herald" ./cmd/herald
		go build -o "$work/herald-load" ./cmd/herald-load
	fi
	case $store in
	sqlite) ;;
	postgres)
		psql "$pgurl/postgres" -qc "CREATE DATABASE $db" >/dev/null
		pgdb="$pgurl/$db?sslmode=disable"
		;;
	*) echo "$0: store is sqlite or postgres" >&2; exit 2 ;;
	esac
}

bench_cleanup() {
	for p in ${pid:-} ${sinkpid:-}; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	[ "$store" = postgres ] && psql "$pgurl/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	rm -rf "$work"
}

# bench_wait LOG CMD… runs CMD until it succeeds, for up to a minute while
# $pid lives; else it prints LOG and exits.
bench_wait() {
	log=$1
	shift
	i=0
	until "$@"; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "$0: herald did not come up:" >&2
			tail -30 "$log" >&2
			exit 1
		fi
		sleep 0.2
	done
}
