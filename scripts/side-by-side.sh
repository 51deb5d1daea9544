#!/usr/bin/env bash
# Two builds of carepath compared under one load at the same moment: each serves half of it,
# on the same database, so that a machine whose speed moves from one minute to the next (a
# shared VM) cannot favour the one that ran at the better minute. Then the sides are swapped.
#
#   scripts/side-by-side.sh events BIN_A BIN_B   # POST /cases/{id}/events, wrk -c8 on each
#   scripts/side-by-side.sh status BIN_A BIN_B   # POST /api/v1/status, wrk -c16 on each
#
# BIN_A, BIN_B: carepath binaries (say, `git worktree add /tmp/old REV && go build -o
# /tmp/carepath-old ./cmd/carepath` in it). Needs the databases `make bench` leaves:
# carepath_bench for the events, carepath_status_bench and bench-results/status-pairs.txt for
# the lookups. SIDE_SECONDS (15) per measurement. Prints each side's requests a second and
# B's over A's, once each way round.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

section=${1:?usage: scripts/side-by-side.sh events|status BIN_A BIN_B}
bins=("${2:?BIN_A}" "${3:?BIN_B}")
secs=${SIDE_SECONDS:-15}
out=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$out"' EXIT
bench_have wrk || bench_die "side-by-side needs wrk"

case $section in
events)
	db=$(bench_db_url carepath_bench)
	token=$(DATABASE_URL=$db "${bins[0]}" users create --name "Side by side $(date +%s)" --role specialist 2>/dev/null |
		grep -o 'cpt_[^[:space:]]*' | tail -1)
	[ -n "$token" ] || bench_die "could not create a specialist in carepath_bench (run make bench first)"
	conns=8 ;;
status)
	db=${BENCH_DATABASE_URL:-$BENCH_PG/carepath_status_bench?sslmode=disable} # scripts/bench-status.sh's
	[ -s bench-results/status-pairs.txt ] || bench_die "bench-results/status-pairs.txt missing (run make bench-status first)"
	conns=16 ;;
*) bench_die "section: events or status" ;;
esac

# load PORT SECONDS NAME: one side's wrk
load() {
	if [ "$section" = events ]; then
		EVENTS_JSON="$out/$3.json" wrk -t1 -c$conns -d"$2s" --latency -s scripts/events-wrk.lua "http://127.0.0.1:$1" -- \
			"$out/cases-$1.txt" "$token" 1 >"$out/$3.txt"
	else
		wrk -t1 -c$conns -d"$2s" --latency -s scripts/status-wrk.lua "http://127.0.0.1:$1" -- \
			bench-results/status-pairs.txt >"$out/$3.txt"
	fi
}

# cases: the newest residing cases at their versions, split between the two sides
cases() {
	bench_event_cases "$db" >"$out/all.txt"
	awk 'NR % 2 == 0' "$out/all.txt" >"$out/cases-18181.txt"
	awk 'NR % 2 == 1' "$out/all.txt" >"$out/cases-18182.txt"
}

for order in "0 1" "1 0"; do
	read -r a b <<<"$order"
	pids=()
	DATABASE_URL=$db HTTP_ADDR=127.0.0.1:18181 LOG_LEVEL=warn GOGC=400 "${bins[$a]}" serve 2>>"$out/a.log" & pids+=($!)
	DATABASE_URL=$db HTTP_ADDR=127.0.0.1:18182 LOG_LEVEL=warn GOGC=400 "${bins[$b]}" serve 2>>"$out/b.log" & pids+=($!)
	for _ in $(seq 1 100); do
		curl -fs http://127.0.0.1:18181/healthz >/dev/null 2>&1 && curl -fs http://127.0.0.1:18182/healthz >/dev/null 2>&1 && break
		sleep 0.1
	done
	cases
	load 18181 3 warm-a & lp=$!
	load 18182 3 warm-b
	wait $lp # a warm-up, not counted
	cases
	load 18181 "$secs" a & lp=$!
	load 18182 "$secs" b
	wait $lp
	ra=$(awk '/^Requests\/sec:/ {print $2}' "$out/a.txt")
	rb=$(awk '/^Requests\/sec:/ {print $2}' "$out/b.txt")
	grep -q "Non-2xx" "$out/a.txt" "$out/b.txt" && bench_die "some requests failed: $(grep -h Non-2xx "$out/a.txt" "$out/b.txt")"
	printf '%s %s: %s req/s (p99 %s) | %s: %s req/s (p99 %s) | second/first %s\n' "$section" \
		"$(basename "${bins[$a]}")" "$ra" "$(awk '$1 == "99%" {print $2}' "$out/a.txt")" \
		"$(basename "${bins[$b]}")" "$rb" "$(awk '$1 == "99%" {print $2}' "$out/b.txt")" \
		"$(awk -v x="$ra" -v y="$rb" 'BEGIN {printf "%.3f", y / x}')"
	kill "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null || true
done
