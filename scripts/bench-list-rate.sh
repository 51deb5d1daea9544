#!/usr/bin/env bash
# scripts/bench-list-rate.sh: the list page at a fixed offered rate (issue 21), not at saturation.
#
# GET /api/v1/cases?state=waiting_list&limit=50 (the first page many specialists open; every
# case on it is logged in the access log) offered at $RATE_RPS requests a second (100) for
# $RATE_SECONDS (60) by vegeta (github.com/tsenart/vegeta, installed into GOPATH/bin with
# `go install` on first use), against `carepath serve` on the database `make bench` leaves
# (carepath_bench, 1,000,000 cases). Targets: p99 under 50 ms, and no second in which a request
# took over 200 ms.
#
# Then 32 readers of one case at once, as fast as they go, for $RATE_SECONDS/4: a read waits for
# no other read's lock (the access log takes none), only for its own batch's commit.
#
# Results: bench-results/list-rate.json and list-rate.txt. Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

RATE_RPS=${RATE_RPS:-100}
RATE_SECONDS=${RATE_SECONDS:-60}
DB=${RATE_DB:-carepath_bench}
DB_URL=$(bench_db_url "$DB")
VEGETA_VERSION=v12.12.0

[ -x "$CAREPATH" ] || bench_die "$CAREPATH missing: run make build"
bench_have jq || bench_die "needs jq"
VEGETA=$(go env GOPATH)/bin/vegeta
if [ ! -x "$VEGETA" ]; then
	bench_log "installing vegeta $VEGETA_VERSION"
	go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
fi
psql "$DB_URL" -qXAt -c "SELECT 1" >/dev/null 2>&1 || bench_die "no database $DB: run make bench first"

trap bench_server_stop EXIT
token=$(DATABASE_URL="$DB_URL" "$CAREPATH" users create --name "Ровный поток $(date +%s)" --role specialist 2>/dev/null |
	grep -o 'cpt_[^[:space:]]*' | tail -1)
[ -n "$token" ] || bench_die "could not create a specialist in $DB"
cases=$(psql "$DB_URL" -qXAt -c "SELECT count(*) FROM cases")
one=$(psql "$DB_URL" -qXAt -c "SELECT id FROM cases WHERE state = 'waiting_list' ORDER BY seq DESC LIMIT 1")
bench_settle "$DB_URL"
bench_server_start "$DB_URL"

# attack NAME URL SECONDS VEGETA-ARGS...: vegeta; writes NAME.bin and prints its JSON summary
# with the worst second (the highest latency of any request that started in it).
attack() {
	local name=$1 url=$2 secs=$3 out=$BENCH_RESULTS/$1
	shift 3
	printf 'GET %s\nAuthorization: Bearer %s\n' "$url" "$token" |
		"$VEGETA" attack -duration="${secs}s" -timeout=10s "$@" >"$out.bin"
	"$VEGETA" report -type=json <"$out.bin" >"$out.report.json"
	"$VEGETA" encode -to=json <"$out.bin" |
		jq -s '{worst_second_ms: ((group_by(.timestamp[0:19]) | map(map(.latency) | max) | max) / 1e6),
			seconds_over_200ms: (group_by(.timestamp[0:19]) | map(select((map(.latency) | max) > 2e8)) | length),
			errors: (map(select(.code != 200)) | length)}' >"$out.seconds.json"
	jq -s --arg name "$name" '.[0] as $r | .[1] as $s | {name: $name, requests: $r.requests, rate: $r.rate,
		p50_ms: ($r.latencies["50th"] / 1e6), p99_ms: ($r.latencies["99th"] / 1e6), max_ms: ($r.latencies.max / 1e6),
		success: $r.success} + $s' "$out.report.json" "$out.seconds.json"
}

load_start=$(bench_load)
bench_log "list page at $RATE_RPS/s for ${RATE_SECONDS}s on $cases cases"
list=$(attack list-rate "http://$BENCH_ADDR/api/v1/cases?state=waiting_list&limit=50" "$RATE_SECONDS" \
	-rate="$RATE_RPS/s" -max-workers=256)
bench_log "32 readers of one case for $((RATE_SECONDS / 4))s"
one_case=$(attack one-case-32 "http://$BENCH_ADDR/api/v1/cases/$one" $((RATE_SECONDS / 4)) -rate=0 -workers=32 -max-workers=32)
bench_server_stop

jq -n --argjson list "$list" --argjson one "$one_case" --argjson cases "$cases" --argjson rate "$RATE_RPS" \
	--argjson load_start "$load_start" --argjson load_end "$(bench_load)" \
	'{cases: $cases, offered_rps: $rate, list: $list, one_case: $one, load_start: $load_start, load_end: $load_end,
	  pass: ($list.p99_ms < 50 and $list.seconds_over_200ms == 0 and $list.errors == 0)}' >"$BENCH_RESULTS/list-rate.json"
jq -r '"list page at \(.offered_rps)/s on \(.cases) cases: p50 \(.list.p50_ms) ms, p99 \(.list.p99_ms) ms, max \(.list.max_ms) ms, " +
	"seconds with a request over 200 ms: \(.list.seconds_over_200ms), errors \(.list.errors)\n" +
	"32 readers of one case: \(.one_case.rate | floor) reads/s, p50 \(.one_case.p50_ms) ms, p99 \(.one_case.p99_ms) ms, max \(.one_case.max_ms) ms\n" +
	"target (p99 < 50 ms, no second over 200 ms): \(if .pass then "met" else "NOT met" end); load \(.load_start) -> \(.load_end)"' \
	"$BENCH_RESULTS/list-rate.json" | tee "$BENCH_RESULTS/list-rate.txt"
