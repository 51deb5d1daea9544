# scripts/bench-lib.sh: helpers shared by the benchmark scripts (source it; bash).
#
# Every benchmark section (scripts/bench.sh for the lifecycle, the notices and status sections
# behind `make bench-notices` / `make bench-status`) uses these so that all of them:
#   - talk only to 127.0.0.1 and to databases whose names start with carepath_bench;
#   - bound each step in time (bench_step);
#   - record the machine's load with every figure (the machine is shared);
#   - write bench-results/<section>.json (machine-readable) and <section>.txt (for people).
#
# Environment: BENCH_PG (server URL without database, default postgres://postgres@127.0.0.1:5432),
# BENCH_RESULTS (default bench-results), CAREPATH (the binary, default bin/carepath),
# CAREPATH_LOAD (default bin/carepath-load), BENCH_ADDR (default 127.0.0.1:18080),
# BENCH_TOKEN (bearer token of the bench server).

BENCH_PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
BENCH_RESULTS=${BENCH_RESULTS:-bench-results}
CAREPATH=${CAREPATH:-bin/carepath}
CAREPATH_LOAD=${CAREPATH_LOAD:-bin/carepath-load}
BENCH_ADDR=${BENCH_ADDR:-127.0.0.1:18080}
BENCH_TOKEN=${BENCH_TOKEN:-carepath-bench-token-$$}
export BENCH_TOKEN

mkdir -p "$BENCH_RESULTS"

bench_log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "FAILED: $*"; exit 1; }

# bench_db_url NAME: the URL of a bench database (the name must start with carepath_bench).
bench_db_url() {
	case $1 in carepath_bench*) ;; *) bench_die "refusing database $1: bench databases are named carepath_bench*" ;; esac
	printf '%s/%s?sslmode=disable' "$BENCH_PG" "$1"
}

# bench_fresh_db NAME: drop and create a bench database.
bench_fresh_db() {
	bench_db_url "$1" >/dev/null
	PGOPTIONS=--client-min-messages=warning psql "$BENCH_PG/postgres?sslmode=disable" -qX -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}

# bench_have CMD: whether CMD is there, installing the Debian package of that name with apt-get
# when it is missing and we are root.
bench_have() {
	command -v "$1" >/dev/null && return 0
	[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
	bench_log "installing $1 with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1 ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1; }
	command -v "$1" >/dev/null
}

# bench_event_cases URL: the cases the events load walks, "id version" a line: the 1,600
# newest residing cases at their current versions (scripts/events-wrk.lua reads them).
bench_event_cases() {
	psql "$1" -qXAt -F' ' -c "SELECT id, version FROM cases WHERE state = 'residing' ORDER BY seq DESC LIMIT 1600"
}

# bench_settle URL: a CHECKPOINT before a measured run, so that it does not inherit the dirty
# buffers and the WAL-triggered checkpoint of the run before it (needs a superuser; skipped
# with a note where the user is not one).
bench_settle() {
	psql "$1" -qX -c CHECKPOINT >/dev/null 2>&1 || bench_log "no CHECKPOINT before the run (not a superuser?)"
}

# bench_load: the machine's load averages (1, 5, 15 min) as a JSON array.
bench_load() { awk '{printf "[%s, %s, %s]", $1, $2, $3}' /proc/loadavg; }

# bench_now: seconds since the epoch with milliseconds.
bench_now() { date +%s.%3N; }

# bench_secs START: seconds since START (from bench_now), three decimals.
bench_secs() { awk -v s="$1" -v e="$(bench_now)" 'BEGIN{printf "%.3f", e-s}'; }

# bench_step SECONDS NAME CMD...: run a step with a time limit, logging it; its output goes to
# $BENCH_RESULTS/NAME.log.
bench_step() {
	local limit=$1 name=$2
	shift 2
	bench_log "$name (at most ${limit}s, load $(bench_load))"
	if ! timeout --signal=TERM --kill-after=10 "$limit" "$@" >"$BENCH_RESULTS/$name.log" 2>&1; then
		tail -20 "$BENCH_RESULTS/$name.log" >&2
		bench_die "$name (see $BENCH_RESULTS/$name.log)"
	fi
}

# bench_server_start DATABASE_URL [LOGFILE]: start `carepath serve` on BENCH_ADDR and wait for
# /readyz; sets BENCH_SERVER_PID and BENCH_READY_SECONDS (exec to the first 200 of /readyz).
bench_server_start() {
	local url=$1 log=${2:-$BENCH_RESULTS/serve.log} start
	start=$(bench_now)
	DATABASE_URL=$url HTTP_ADDR=$BENCH_ADDR BOOTSTRAP_ADMIN_TOKEN=$BENCH_TOKEN LOG_LEVEL=${BENCH_LOG_LEVEL:-info} \
		"$CAREPATH" serve >>"$log" 2>&1 &
	BENCH_SERVER_PID=$!
	local i
	for i in $(seq 1 1000); do
		if curl -fsS -o /dev/null --max-time 1 "http://$BENCH_ADDR/readyz" 2>/dev/null; then
			BENCH_READY_SECONDS=$(bench_secs "$start")
			return 0
		fi
		kill -0 "$BENCH_SERVER_PID" 2>/dev/null || bench_die "carepath serve exited (see $log)"
		sleep 0.01
	done
	bench_server_stop
	bench_die "carepath serve not ready after 10s (see $log)"
}

# bench_server_stop: SIGTERM the server started by bench_server_start and wait for it.
bench_server_stop() {
	[ -n "${BENCH_SERVER_PID:-}" ] || return 0
	kill -TERM "$BENCH_SERVER_PID" 2>/dev/null || true
	wait "$BENCH_SERVER_PID" 2>/dev/null || true
	BENCH_SERVER_PID=
}

# bench_pass VALUE OP TARGET: "true" when VALUE OP TARGET holds (OP is < or >=).
bench_pass() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN{ok = (op == "<") ? (v < t) : (v >= t); print ok ? "true" : "false"}'; }
