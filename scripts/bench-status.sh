#!/usr/bin/env bash
# The relatives' status lookup against pgbench -S on the same machine, with the same number of
# clients: `make bench-status`. Needs a benchmark database with cases (BENCH_CASES, default
# 1,000,000; generated with `carepath seed --cases N` when that command is available and the
# database has fewer). Writes bench-results/status-*.json and prints the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."

db_url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/carepath_status_bench?sslmode=disable}
pg_url=${BENCH_PGBENCH_URL:-postgres://postgres@127.0.0.1:5432/carepath_status_pgbench?sslmode=disable}
addr=${BENCH_ADDR:-127.0.0.1:18097}
clients=${BENCH_CLIENTS:-32}
duration=${BENCH_SECONDS:-30}
want_cases=${BENCH_CASES:-1000000}
sample=${BENCH_SAMPLE:-20000}
out=bench-results
mkdir -p "$out" bin

go build -o bin/carepath ./cmd/carepath
go build -o bin/carepath-status-load ./cmd/carepath-status-load

# GOGC: the server keeps a small live heap, so the default collects very often; 400 trades a
# few MB for CPU (a deployment setting, see docs/BENCHMARKS.md).
export GOGC=${GOGC:-400}
export DATABASE_URL=$db_url LOG_LEVEL=${LOG_LEVEL:-warn} HTTP_ADDR=$addr DB_MAX_CONNS=${DB_MAX_CONNS:-$clients}
bin/carepath migrate up >/dev/null
have=$(psql "$db_url" -Atc "SELECT count(*) FROM cases")
if (( have < want_cases )); then
  if bin/carepath seed --cases $((want_cases - have)); then
    have=$(psql "$db_url" -Atc "SELECT count(*) FROM cases")
  else
    echo "bench-status: cannot generate cases here; measuring at the $have cases the database has" >&2
  fi
fi
psql "$db_url" -qc "VACUUM ANALYZE cases, deadlines, status_failures, case_history, placements" >/dev/null  # what autovacuum keeps up on a production server (it is off here)

# pgbench -S: the primary-key SELECT, scale 10 = 1,000,000 accounts, the same clients.
if ! psql "$pg_url" -Atc "SELECT 1 FROM pgbench_accounts LIMIT 1" >/dev/null 2>&1; then
  pg_name=${pg_url##*/}; pg_name=${pg_name%%\?*}
  psql "${pg_url%/*}/postgres" -qc "CREATE DATABASE $pg_name" 2>/dev/null || true
  pgbench -i -q -s 10 "$pg_url" >/dev/null 2>&1
fi

# The server runs with Go's default GOMAXPROCS (every core), as `carepath serve` does.
# BENCH_STATUS_GOMAXPROCS=1 measures a lookup-tier instance with one Go P instead. Which is better
# depends on the machine (docs/BENCHMARKS.md, "Status lookup", sessions 6 and 7): on session 6's
# machine one P served 1.15-1.2 times the lookups; on session 7's, where system calls cost three
# times as much, the one P was saturated: median-round p99 12.8-17.7 ms in four runs with one P,
# 8.3-9.7 ms in four with two.
status_procs=${BENCH_STATUS_GOMAXPROCS:-} # empty: Go's default
GOMAXPROCS=$status_procs bin/carepath serve 2> "$out/status-server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://$addr/healthz" >/dev/null && break; sleep 0.1; done
kill -0 "$server" 2>/dev/null || { echo "bench-status: carepath serve did not start:" >&2; cat "$out/status-server.log" >&2; exit 1; }

# The load: wrk (C, light on the shared CPU) when installed, with bodies for $sample real cases;
# otherwise the Go loader, which also checks every answer. On a machine shared with other work
# the two measurements alternate in rounds, and the median round is reported, so that a burst of
# someone else's load does not land on one side only.
use_wrk=""
source scripts/bench-lib.sh # bench_have: installs wrk with apt-get when missing and root
if bench_have wrk; then
  use_wrk=1
  bin/carepath-status-load -db "$db_url" -set-codes -cases "$sample" -pairs-out "$out/status-pairs.txt"
  # Setting the sample's codes updated $sample case rows. This workplace's PostgreSQL runs
  # without autovacuum, which would have cleaned them within a minute: left dead, they cost
  # the lookups about a tenth (every number then has a dead index entry and row to step over).
  psql "$db_url" -qc "VACUUM ANALYZE cases" >/dev/null
  # warm up, not counted (as the Go loader does with -warmup): the first waiting-list snapshot,
  # the statements prepared on every pooled connection, the cases' pages in the caches
  wrk -t"$(nproc)" -c"$clients" -d3s -s scripts/status-wrk.lua "http://$addr" -- "$out/status-pairs.txt" >/dev/null
fi
rounds=${BENCH_ROUNDS:-3}
: > "$out/status-rounds.txt"
for r in $(seq 1 "$rounds"); do
  # a shared server may be out of connections for a moment: try again rather than give up
  for try in 1 2 3 4 5; do
    pgbench -S -M prepared -n -c "$clients" -j "$(nproc)" -T "$duration" "$pg_url" > "$out/status-pgbench-$r.txt" 2>&1 && break
    echo "bench-status: pgbench failed (try $try): $(grep -m1 error "$out/status-pgbench-$r.txt")" >&2
    [[ $try == 5 ]] && exit 1
    sleep 5
  done
  pg_tps=$(awk -F'= ' '/^tps/ {split($2, a, " "); print a[1]; exit}' "$out/status-pgbench-$r.txt")
  if [[ -n $use_wrk ]]; then
    wrk -t"$(nproc)" -c"$clients" -d"${duration}s" --latency -s scripts/status-wrk.lua "http://$addr" -- "$out/status-pairs.txt" \
      > "$out/status-wrk-$r.txt"
    if grep -q "Non-2xx" "$out/status-wrk-$r.txt"; then cat "$out/status-wrk-$r.txt"; echo "bench-status: some lookups failed" >&2; exit 1; fi
    tps=$(awk '/^Requests\/sec:/ {print $2}' "$out/status-wrk-$r.txt")
    p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)} else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; print v}' "$out/status-wrk-$r.txt")
  else
    bin/carepath-status-load -url "http://$addr" -db "$db_url" -set-codes -cases "$sample" -c "$clients" \
      -d "${duration}s" -json "$out/status-load-$r.json" > "$out/status-load-$r.txt"
    tps=$(sed -n 's/.*"tps": \([0-9.]*\).*/\1/p' "$out/status-load-$r.json")
    p99=$(sed -n 's/.*"p99_ms": \([0-9.]*\).*/\1/p' "$out/status-load-$r.json")
  fi
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "$tps $pg_tps $p99 $load" >> "$out/status-rounds.txt"
  awk -v r="$r" -v t="$tps" -v p="$pg_tps" -v q="$p99" -v l="$load" 'BEGIN {
    printf "round %d: status lookup %.0f tps, pgbench -S %.0f tps = %.0f%%, p99 %.2f ms (load average %s)\n", r, t, p, 100*t/p, q, l }'
done
tool=carepath-status-load; [[ -n $use_wrk ]] && tool=wrk
echo "$(nproc) cores; $have cases; $clients clients; $tool; ${duration}s per side per round; server GOMAXPROCS=${status_procs:-default}"
m=$(( (rounds + 1) / 2 ))
ratio=$(awk '{ printf "%.1f\n", 100 * $1 / $2 }' "$out/status-rounds.txt" | sort -n | sed -n "${m}p")
p99=$(awk '{ print $3 }' "$out/status-rounds.txt" | sort -n | sed -n "${m}p")
echo "median round: status lookup = ${ratio}% of pgbench -S (target >= 80%); p99 ${p99} ms (target < 10 ms)"
if awk -v r="$ratio" -v q="$p99" 'BEGIN { exit !(r >= 80 && q < 10) }'; then
  echo "bench-status: target met"
else
  echo "bench-status: target NOT met"; exit 1
fi
