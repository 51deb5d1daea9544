#!/usr/bin/env bash
# The relatives' status lookup against pgbench -S on the same machine, with the same number of
# clients: `make bench-status`. Needs a benchmark database with cases (BENCH_CASES, default
# 1,000,000; generated with `carepath seed --cases N` when that command is available and the
# database has fewer). Writes bench-results/status-*.json and prints the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."

db_url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/carepath_status_bench?sslmode=disable}
pg_url=${BENCH_PGBENCH_URL:-postgres://postgres@127.0.0.1:5432/carepath_pgbench?sslmode=disable}
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
psql "$db_url" -qc "VACUUM ANALYZE cases, deadlines, status_failures" >/dev/null

# pgbench -S: the primary-key SELECT, scale 10 = 1,000,000 accounts, the same clients.
if ! psql "$pg_url" -Atc "SELECT 1 FROM pgbench_accounts LIMIT 1" >/dev/null 2>&1; then
  pg_name=${pg_url##*/}; pg_name=${pg_name%%\?*}
  psql "${pg_url%/*}/postgres" -qc "CREATE DATABASE $pg_name" 2>/dev/null || true
  pgbench -i -q -s 10 "$pg_url" >/dev/null 2>&1
fi
pgbench -S -M prepared -n -c "$clients" -j "$(nproc)" -T "$duration" "$pg_url" > "$out/status-pgbench.txt" 2>&1
pg_tps=$(awk -F'= ' '/^tps/ {split($2, a, " "); print a[1]; exit}' "$out/status-pgbench.txt")

bin/carepath serve 2> "$out/status-server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://$addr/healthz" >/dev/null && break; sleep 0.1; done
kill -0 "$server" 2>/dev/null || { echo "bench-status: carepath serve did not start:" >&2; cat "$out/status-server.log" >&2; exit 1; }

# The load: wrk (C, light on the shared CPU) when installed, with bodies for $sample real cases;
# otherwise the Go loader, which also checks every answer.
if command -v wrk >/dev/null; then
  bin/carepath-status-load -db "$db_url" -set-codes -cases "$sample" -pairs-out "$out/status-pairs.txt"
  wrk -t"$(nproc)" -c"$clients" -d"${duration}s" --latency -s scripts/status-wrk.lua "http://$addr" -- "$out/status-pairs.txt" \
    | tee "$out/status-wrk.txt"
  if grep -q "Non-2xx" "$out/status-wrk.txt"; then echo "bench-status: some lookups failed" >&2; exit 1; fi
  tps=$(awk '/^Requests\/sec:/ {print $2}' "$out/status-wrk.txt")
  p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)} else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; print v}' "$out/status-wrk.txt")
  tool=wrk
else
  bin/carepath-status-load -url "http://$addr" -db "$db_url" -set-codes -cases "$sample" -c "$clients" \
    -d "${duration}s" -json "$out/status-load.json" | tee "$out/status-load.txt"
  tps=$(sed -n 's/.*"tps": \([0-9.]*\).*/\1/p' "$out/status-load.json")
  p99=$(sed -n 's/.*"p99_ms": \([0-9.]*\).*/\1/p' "$out/status-load.json")
  tool=carepath-status-load
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
awk -v t="$tps" -v p="$pg_tps" -v q="$p99" -v n="$have" -v c="$clients" -v tool="$tool" 'BEGIN {
  r = 100 * t / p
  printf "cases %d, clients %d (%s): status lookup %.0f tps, pgbench -S %.0f tps = %.0f%% (target >= 50%%); p99 %.2f ms (target < 10 ms)\n", n, c, tool, t, p, r, q
  if (r < 50 || q >= 10) { print "bench-status: target NOT met"; exit 1 }
  print "bench-status: target met"
}'
