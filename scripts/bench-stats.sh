#!/usr/bin/env bash
# scripts/bench-stats.sh: the center's figures over 1,000,000 cases (issue 19).
#
# On its own database (carepath_bench_stats; filled by `carepath seed --cases $STATS_CASES`,
# 1,000,000 by default, when it holds fewer cases; STATS_FRESH=1 fills it anew) it starts
# `carepath serve` and, as a supervisor, asks for:
#   - GET /api/v1/stats for the last year, first after a cold start of the server (target < 2 s);
#   - the same again, nothing changed since (target < 300 ms);
#   - GET /api/v1/stats/export.xlsx for the year after another cold start (target < 5 s).
# Each is asked $STATS_RUNS times (3); the figure is the median. The server's cache of the
# figures (STATS_CACHE_TTL) is on, as in production.
#
# Results: bench-results/stats.json and stats.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

CASES=${STATS_CASES:-1000000}
RUNS=${STATS_RUNS:-3}
DB=carepath_bench_stats
DB_URL=$(bench_db_url "$DB")

[ -x "$CAREPATH" ] || bench_die "$CAREPATH missing: run make build"
bench_have jq || bench_die "needs jq"

have=$(psql "$DB_URL" -qXAt -c "SELECT count(*) FROM cases" 2>/dev/null || echo 0)
if [ "${STATS_FRESH:-0}" = 1 ] || [ "${have:-0}" -lt "$CASES" ]; then
	bench_log "filling $DB with $CASES cases"
	bench_fresh_db "$DB"
	DATABASE_URL=$DB_URL "$CAREPATH" migrate up >/dev/null
	start=$(bench_now)
	DATABASE_URL=$DB_URL "$CAREPATH" seed --cases "$CASES" >&2
	bench_log "filled in $(bench_secs "$start") s"
else
	DATABASE_URL=$DB_URL "$CAREPATH" migrate up >/dev/null
fi
cases=$(psql "$DB_URL" -qXAt -c "SELECT count(*) FROM cases")
history=$(psql "$DB_URL" -qXAt -c "SELECT count(*) FROM case_history")
psql "$DB_URL" -qX -c "VACUUM ANALYZE" >/dev/null
token=$(DATABASE_URL="$DB_URL" "$CAREPATH" users create --name "Показатели $(date +%s)" --role supervisor 2>/dev/null |
	grep -o 'cpt_[^[:space:]]*' | tail -1)
[ -n "$token" ] || bench_die "could not create a supervisor in $DB"

to=$(date -u +%F)
from=$(date -u -d "$to -1 year +1 day" +%F)
trap bench_server_stop EXIT

# fetch PATH: seconds to the last byte of a 200
fetch() {
	local out code
	out=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $token" "http://$BENCH_ADDR$1")
	code=${out% *}
	[ "$code" = 200 ] || bench_die "GET $1 answered $code"
	echo "${out#* }"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

cold=() warm=() xlsx=()
for i in $(seq 1 "$RUNS"); do
	bench_settle "$DB_URL"
	bench_server_start "$DB_URL" "$BENCH_RESULTS/stats-serve.log"
	cold+=("$(fetch "/api/v1/stats?from=$from&to=$to")")
	load_cold=$(bench_load)
	warm+=("$(fetch "/api/v1/stats?from=$from&to=$to")")
	bench_server_stop
	bench_server_start "$DB_URL" "$BENCH_RESULTS/stats-serve.log"
	xlsx+=("$(fetch "/api/v1/stats/export.xlsx?from=$from&to=$to")")
	bench_server_stop
	bench_log "run $i: cold ${cold[-1]} s, unchanged ${warm[-1]} s, xlsx ${xlsx[-1]} s, load $load_cold"
done
c=$(printf '%s\n' "${cold[@]}" | median)
w=$(printf '%s\n' "${warm[@]}" | median)
x=$(printf '%s\n' "${xlsx[@]}" | median)
load=$(bench_load)
jq -n --argjson cases "$cases" --argjson history "$history" --arg from "$from" --arg to "$to" \
	--argjson cold "$c" --argjson warm "$w" --argjson xlsx "$x" --arg load "$load" \
	--argjson cold_ok "$(bench_pass "$c" '<' 2)" --argjson warm_ok "$(bench_pass "$w" '<' 0.3)" --argjson xlsx_ok "$(bench_pass "$x" '<' 5)" \
	'{cases: $cases, history_lines: $history, period: {from: $from, to: $to},
	  stats_cold_seconds: $cold, stats_cold_met: $cold_ok, stats_unchanged_seconds: $warm, stats_unchanged_met: $warm_ok,
	  xlsx_cold_seconds: $xlsx, xlsx_met: $xlsx_ok, loadavg: $load}' >"$BENCH_RESULTS/stats.json"
{
	echo "The center's figures over $cases cases ($history history lines), period $from..$to, median of $RUNS:"
	echo "  GET /api/v1/stats, cold server:        $c s (target < 2 s: $(bench_pass "$c" '<' 2))"
	echo "  GET /api/v1/stats, nothing changed:    $w s (target < 0.3 s: $(bench_pass "$w" '<' 0.3))"
	echo "  GET /api/v1/stats/export.xlsx, cold:   $x s (target < 5 s: $(bench_pass "$x" '<' 5))"
	echo "  load average: $load"
} | tee "$BENCH_RESULTS/stats.txt"
