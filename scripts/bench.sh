#!/usr/bin/env bash
# scripts/bench.sh: the lifecycle figures of issue 3 and the warm start of issue 2, as reported
# in docs/BENCHMARKS.md. `make bench` runs it (then the other sections' targets).
#
# Steps, each bounded in time, all against 127.0.0.1:
#   1. a fresh database carepath_bench, migrated;
#   2. `carepath seed --cases $BENCH_CASES` (1,000,000), timed; then VACUUM ANALYZE, timed apart;
#   3. pgbench TPC-B baseline in its own database carepath_bench_pgbench (pgbench -i -s 16; its
#      runs, -c 16 -j 2 -T $BENCH_SECONDS, alternate with the events' in step 5);
#   4. warm start of `carepath serve` with the data present: exec to the first 200 of /readyz;
#   5. events: POST /cases/{id}/events with If-Match, 16 connections, $BENCH_SECONDS (wrk with
#      scripts/events-wrk.lua, installed when missing; the Go loader where wrk cannot be had),
#      alternating with pgbench in $BENCH_ROUNDS rounds (3), the median round reported;
#   6. list: GET /cases with realistic filters, $BENCH_LIST_CONNS connections, $BENCH_SECONDS.
# Each measured run starts from a CHECKPOINT (bench_settle), so that no run pays for the writes
# of the run before it (pgbench's TPC-B fills max_wal_size within a round, and the checkpoint it
# set off then ran through the events' round).
# Results: bench-results/lifecycle.json and lifecycle.txt (and the logs of each step).
#
# BENCH_CASES=20000 BENCH_SECONDS=5 scripts/bench.sh is a quick smoke run; BENCH_REUSE=1 keeps
# an already generated carepath_bench (skips steps 1-2).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

BENCH_CASES=${BENCH_CASES:-1000000}
BENCH_SECONDS=${BENCH_SECONDS:-30}
BENCH_LIST_CONNS=${BENCH_LIST_CONNS:-4}
DB=carepath_bench
DB_URL=$(bench_db_url $DB)
PGBENCH_DB=carepath_bench_pgbench

[ -x "$CAREPATH" ] || bench_die "$CAREPATH missing: run make build"
go build -o "$CAREPATH_LOAD" ./cmd/carepath-load

trap bench_server_stop EXIT
load_start=$(bench_load)

# 1-2. data
if [ "${BENCH_REUSE:-}" = 1 ]; then
	bench_log "reusing $DB"
	gen_seconds=null
	vacuum_seconds=null
else
	bench_fresh_db $DB
	bench_step 120 migrate env DATABASE_URL="$DB_URL" "$CAREPATH" migrate up
	gen_load=$(bench_load)
	t=$(bench_now)
	bench_step 900 generate env DATABASE_URL="$DB_URL" "$CAREPATH" seed --cases "$BENCH_CASES"
	gen_seconds=$(bench_secs "$t")
	bench_log "generated $BENCH_CASES cases in ${gen_seconds}s"
	t=$(bench_now)
	bench_step 600 vacuum psql "$DB_URL" -qX -v ON_ERROR_STOP=1 -c "VACUUM (ANALYZE) cases, case_history, deadlines, case_names, case_name_keys"
	vacuum_seconds=$(bench_secs "$t")
fi
# the load runs as a specialist (admins do not read cases)
LOAD_TOKEN=$(DATABASE_URL="$DB_URL" "$CAREPATH" users create --name "Нагрузочный тест $(date +%s)" --role specialist 2>/dev/null |
	grep -o 'cpt_[^[:space:]]*' | tail -1)
[ -n "$LOAD_TOKEN" ] || bench_die "could not create the bench specialist (carepath users create)"
cases_in_db=$(psql "$DB_URL" -qXAt -c "SELECT count(*) FROM cases")
history_in_db=$(psql "$DB_URL" -qXAt -c "SELECT count(*) FROM case_history")

# 3. pgbench baseline: its database now, its runs alternating with the events' (5)
bench_fresh_db $PGBENCH_DB
bench_step 300 pgbench-init pgbench -i -s 16 -q "$(bench_db_url $PGBENCH_DB)"

# 4. warm start, three times (data present, migrations applied); the last server stays up
: >"$BENCH_RESULTS/serve.log"
starts=()
for i in 1 2 3; do
	bench_server_start "$DB_URL"
	starts+=("$BENCH_READY_SECONDS")
	[ $i -lt 3 ] && bench_server_stop
done
start_median=$(printf '%s\n' "${starts[@]}" | sort -n | sed -n 2p)
bench_log "warm start to /readyz: ${starts[*]} s"

# 5. pgbench and the events in BENCH_ROUNDS alternating rounds (default 3), the median round
# (by the events' ratio to pgbench) reported: the machine may be shared, and its speed moves by
# more than the figure's margin within minutes, so that one burst does not land on one side only.
# wrk (C) when it is there or can be installed, so that the load takes little of the two cores it
# measures; otherwise the Go loader. Both walk residing cases in and out of leave and hospital.
rounds=${BENCH_ROUNDS:-3}
use_wrk=""
bench_have wrk && use_wrk=1
: >"$BENCH_RESULTS/events-rounds.txt"
for r in $(seq 1 "$rounds"); do
	load=$(bench_load)
	bench_settle "$(bench_db_url $PGBENCH_DB)"
	bench_step $((BENCH_SECONDS + 60)) pgbench-$r pgbench -c 16 -j 2 -T "$BENCH_SECONDS" "$(bench_db_url $PGBENCH_DB)"
	tps=$(awk '/^tps = /{print $3; exit}' "$BENCH_RESULTS/pgbench-$r.log")
	lat=$(awk '/^latency average = /{print $4; exit}' "$BENCH_RESULTS/pgbench-$r.log")
	[ -n "$tps" ] || bench_die "no tps in pgbench output"
	if [ -n "$use_wrk" ]; then
		# before the first round a 3 s warm-up, not counted (pool connections, prepared
		# statements), like the Go loader's; each round reads the cases at their versions
		for step in events-warmup events; do
			bench_event_cases "$DB_URL" >"$BENCH_RESULTS/events-cases.txt"
			[ $step = events ] || [ "$r" -gt 1 ] && break
			bench_step 60 events-warmup wrk -t"$(nproc)" -c16 -d3s -s scripts/events-wrk.lua "http://$BENCH_ADDR" -- \
				"$BENCH_RESULTS/events-cases.txt" "$LOAD_TOKEN" "$(nproc)"
		done
		bench_settle "$DB_URL"
		bench_step $((BENCH_SECONDS + 120)) events-$r env EVENTS_JSON="$BENCH_RESULTS/events-$r.json" wrk -t"$(nproc)" -c16 \
			-d"${BENCH_SECONDS}s" --latency -s scripts/events-wrk.lua "http://$BENCH_ADDR" -- "$BENCH_RESULTS/events-cases.txt" "$LOAD_TOKEN" "$(nproc)"
		jq -e '.errors == 0' "$BENCH_RESULTS/events-$r.json" >/dev/null || bench_die "events: some requests failed (see $BENCH_RESULTS/events-$r.log)"
	else
		bench_settle "$DB_URL"
		bench_step $((BENCH_SECONDS + 120)) events-$r "$CAREPATH_LOAD" -url "http://$BENCH_ADDR" -token "$LOAD_TOKEN" \
			-scenario events -c 16 -d "${BENCH_SECONDS}s" -json "$BENCH_RESULTS/events-$r.json"
	fi
	rps=$(jq .throughput_rps "$BENCH_RESULTS/events-$r.json")
	p99=$(jq .latency.p99_ms "$BENCH_RESULTS/events-$r.json")
	echo "$r $rps $tps $p99 $lat $(echo "$load" | tr -d ' ')" >>"$BENCH_RESULTS/events-rounds.txt"
	bench_log "round $r: pgbench $tps tps, events $rps req/s = $(awk -v a="$rps" -v b="$tps" 'BEGIN{printf "%.1f%%", 100*a/b}'), p99 $p99 ms"
done
# the median round by ratio: its pgbench and events figures are the ones reported
read -r median_round _ pgbench_tps events_p99_round pgbench_lat pgbench_load < <(
	awk '{ printf "%s %.6f %s %s %s %s\n", $1, $2/$3, $3, $4, $5, $6 }' "$BENCH_RESULTS/events-rounds.txt" |
		sort -k2,2g | sed -n "$(( (rounds + 1) / 2 ))p")
events_load=$pgbench_load
cp "$BENCH_RESULTS/events-$median_round.json" "$BENCH_RESULTS/events.json"
cp "$BENCH_RESULTS/pgbench-$median_round.log" "$BENCH_RESULTS/pgbench.log"
bench_log "median round $median_round: pgbench $pgbench_tps tps"

# 6. list. Where the server runs without autovacuum (this workplace's PostgreSQL does), the
# tables the event rounds changed are vacuumed first, as autovacuum would have done within a
# minute on a default server: otherwise the list reads the dead row versions and index entries
# of the newest cases, which the event rounds walked, and the more so on each BENCH_REUSE run.
if [ "$(psql "$DB_URL" -qXAt -c 'SHOW autovacuum')" = off ]; then
	bench_step 600 vacuum-events psql "$DB_URL" -qX -v ON_ERROR_STOP=1 -c "VACUUM (ANALYZE) cases, case_history, deadlines, access_log, notices"
fi
bench_settle "$DB_URL"
list_load=$(bench_load)
bench_step $((BENCH_SECONDS + 120)) list "$CAREPATH_LOAD" -url "http://$BENCH_ADDR" -token "$LOAD_TOKEN" \
	-scenario list -c "$BENCH_LIST_CONNS" -d "${BENCH_SECONDS}s" -json "$BENCH_RESULTS/list.json"
# the same lists apart: the structured filters alone, and the name searches alone
for mix in filters names; do
	bench_step $((BENCH_SECONDS + 120)) list-$mix "$CAREPATH_LOAD" -url "http://$BENCH_ADDR" -token "$LOAD_TOKEN" \
		-scenario list -mix $mix -c "$BENCH_LIST_CONNS" -d "${BENCH_SECONDS}s" -json "$BENCH_RESULTS/list-$mix.json"
done
bench_server_stop

events_rps=$(jq .throughput_rps "$BENCH_RESULTS/events.json")
events_p99=$(jq .latency.p99_ms "$BENCH_RESULTS/events.json")
list_p99=$(jq .latency.p99_ms "$BENCH_RESULTS/list.json")
ratio=$(awk -v a="$events_rps" -v b="$pgbench_tps" 'BEGIN{printf "%.3f", a/b}')

jq -n \
	--arg at "$(date -u +%FT%TZ)" --arg rev "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	--argjson cpus "$(nproc)" --arg pg "$(psql "$DB_URL" -qXAt -c 'SHOW server_version')" \
	--arg go "$(go env GOVERSION)" --argjson load_start "$load_start" \
	--argjson cases "$BENCH_CASES" --argjson cases_in_db "$cases_in_db" --argjson history_in_db "$history_in_db" \
	--argjson gen_seconds "$gen_seconds" --argjson vacuum_seconds "$vacuum_seconds" --argjson gen_load "${gen_load:-null}" \
	--argjson pgbench_tps "$pgbench_tps" --argjson pgbench_lat "$pgbench_lat" --argjson pgbench_load "$pgbench_load" \
	--argjson starts "[$(IFS=,; echo "${starts[*]}")]" --argjson start_median "$start_median" \
	--argjson events_load "$events_load" --argjson list_load "$list_load" \
	--argjson ratio "$ratio" --argjson seconds "$BENCH_SECONDS" --argjson list_conns "$BENCH_LIST_CONNS" \
	--slurpfile events "$BENCH_RESULTS/events.json" --slurpfile list "$BENCH_RESULTS/list.json" \
	--slurpfile list_filters "$BENCH_RESULTS/list-filters.json" --slurpfile list_names "$BENCH_RESULTS/list-names.json" \
	--argjson gen_ok "$( [ "$gen_seconds" = null ] && echo null || bench_pass "$gen_seconds" '<' 180)" \
	--argjson ratio_ok "$(bench_pass "$ratio" '>=' 0.5)" --argjson events_p99_ok "$(bench_pass "$events_p99" '<' 25)" \
	--argjson list_ok "$(bench_pass "$list_p99" '<' 20)" --argjson start_ok "$(bench_pass "$start_median" '<' 2)" \
	'{section: "lifecycle", at: $at, revision: $rev,
	  machine: {cpus: $cpus, postgres: $pg, go: $go, load_at_start: $load_start},
	  generator: {cases: $cases, cases_in_db: $cases_in_db, history_lines: $history_in_db, seconds: $gen_seconds,
	              vacuum_analyze_seconds: $vacuum_seconds, load: $gen_load, target_seconds: 180, pass: $gen_ok},
	  pgbench: {scale: 16, clients: 16, threads: 2, seconds: $seconds, tps: $pgbench_tps, latency_avg_ms: $pgbench_lat, load: $pgbench_load},
	  warm_start: {seconds: $starts, median_seconds: $start_median, target_seconds: 2, pass: $start_ok},
	  events: ($events[0] + {load: $events_load, ratio_to_pgbench: $ratio, target_ratio: 0.5, target_p99_ms: 25,
	           pass: ($ratio_ok and $events_p99_ok)}),
	  list: ($list[0] + {load: $list_load, target_p99_ms: 20, pass: $list_ok}),
	  list_filters_only: $list_filters[0], list_names_only: $list_names[0]}' >"$BENCH_RESULTS/lifecycle.json"

{
	echo "carepath lifecycle benchmark, $(date -u +%FT%TZ), revision $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "machine: $(nproc) cores (shared), PostgreSQL $(psql "$DB_URL" -qXAt -c 'SHOW server_version'), load at start $load_start"
	if [ "$gen_seconds" != null ]; then
		echo "generator:  $BENCH_CASES cases in ${gen_seconds}s (target < 180s; load then $gen_load); VACUUM ANALYZE ${vacuum_seconds}s"
	fi
	echo "data:       $cases_in_db cases, $history_in_db history lines"
	echo "rounds:     pgbench and events alternating, $rounds rounds (round, events req/s, pgbench tps, events p99 ms, pgbench latency ms, load):"
	sed 's/^/            /' "$BENCH_RESULTS/events-rounds.txt"
	echo "pgbench:    $pgbench_tps tps in the median round $median_round (TPC-B, scale 16, -c 16 -j 2 -T $BENCH_SECONDS; load $pgbench_load)"
	echo "warm start: ${starts[*]} s to /readyz 200 (median $start_median; target < 2s)"
	echo "events:     $events_rps req/s = $ratio of pgbench in the median round (target >= 0.5), p99 ${events_p99} ms (target < 25)"
	jq -r '"            p50 \(.latency.p50_ms)  p95 \(.latency.p95_ms)  p99 \(.latency.p99_ms)  max \(.latency.max_ms) ms, errors \(.errors) \(.errors_by_status)"' "$BENCH_RESULTS/events.json"
	echo "list:       $(jq .throughput_rps "$BENCH_RESULTS/list.json") req/s with $BENCH_LIST_CONNS connections, p99 ${list_p99} ms (target < 20); load $list_load"
	jq -r '.by_kind | to_entries[] | "            \(.key): n=\(.value.requests) p50 \(.value.p50_ms) p99 \(.value.p99_ms) max \(.value.max_ms)"' "$BENCH_RESULTS/list.json"
	for mix in filters names; do
		jq -r --arg mix "$mix" '"list, \($mix) only: \(.throughput_rps) req/s, p50 \(.latency.p50_ms)  p95 \(.latency.p95_ms)  p99 \(.latency.p99_ms)  max \(.latency.max_ms) ms"' "$BENCH_RESULTS/list-$mix.json"
	done
	jq -r '"targets:    generator \(.generator.pass)  warm start \(.warm_start.pass)  events \(.events.pass)  list \(.list.pass)"' "$BENCH_RESULTS/lifecycle.json"
} | tee "$BENCH_RESULTS/lifecycle.txt"
