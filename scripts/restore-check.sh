#!/usr/bin/env bash
# A tested restore: dumps the database at RESTORE_FROM (default DATABASE_URL) with pg_dump,
# restores the dump into a fresh database on the same server (RESTORE_DB, default
# <name>_restore_check_<time>), and runs `carepath audit verify` on the copy: every hash chain
# of the history and the access log must hold. The copy is dropped afterwards unless KEEP=1;
# the dump is kept in DUMP_DIR (default a temporary directory, removed) when DUMP_DIR is set.
# With EXPECT_DIGEST (the digest audit verify printed for the source) the copy's chain heads
# must match it. Then `carepath beds verify` on the copy: every section's bed counters must agree with
# the beds the restored cases hold. Nothing is run against the source but pg_dump.
set -euo pipefail
cd "$(dirname "$0")/.."

src=${RESTORE_FROM:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/carepath?sslmode=disable}}
bin=${CAREPATH_BIN:-bin/carepath}
[[ -x $bin ]] || { echo "restore-check: $bin is missing; run make build" >&2; exit 1; }

# the database's name and the URL with another name in its place
base=${src%%\?*}; query=""; [[ $src == *\?* ]] && query="?${src#*\?}"
name=${base##*/}; server=${base%/*}
copy=${RESTORE_DB:-${name}_restore_check_$(date -u +%Y%m%d%H%M%S)}
copy_url="$server/$copy$query"
admin_url="$server/postgres$query"

if ! psql "$admin_url" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
  echo "restore-check: the database $name does not exist at $server (set RESTORE_FROM)" >&2; exit 1
fi
dumpdir=${DUMP_DIR:-$(mktemp -d)}
[[ -n ${DUMP_DIR:-} ]] || trap 'rm -rf "$dumpdir"' EXIT
dump=$dumpdir/$name-$(date -u +%Y%m%dT%H%M%SZ).dump

start=$(date +%s%N)
echo "restore-check: pg_dump $name -> $dump"
pg_dump --format=custom --no-owner --file="$dump" "$src"
echo "restore-check: $(du -h "$dump" | cut -f1) dumped; restoring into the fresh database $copy"
psql "$admin_url" -qc "CREATE DATABASE \"$copy\""
if [[ ${KEEP:-} != 1 ]]; then
  trap 'psql "$admin_url" -qc "DROP DATABASE IF EXISTS \"$copy\"" || true; [[ -n ${DUMP_DIR:-} ]] || rm -rf "$dumpdir"' EXIT
fi
pg_restore --no-owner --exit-on-error --dbname="$copy_url" "$dump"
echo "restore-check: restored; carepath audit verify on the copy"
# no bootstrap admin, no data key warning: the copy is only read
if ! report=$(BOOTSTRAP_ADMIN_TOKEN= LOG_LEVEL=error DATABASE_URL="$copy_url" "$bin" audit verify); then
  echo "$report"
  echo "restore-check: FAILED: a hash chain of the restored copy is broken" >&2; exit 1
fi
echo "$report"
# EXPECT_DIGEST: the chain heads' digest `carepath audit verify` printed for the source when the
# backup was taken (kept outside the database, see README "Audit")
if [[ -n ${EXPECT_DIGEST:-} ]] && ! grep -qx "digest of chain heads: $EXPECT_DIGEST" <<<"$report"; then
  echo "restore-check: FAILED: the copy's chain heads differ from EXPECT_DIGEST" >&2; exit 1
fi
echo "restore-check: carepath beds verify on the copy"
if ! beds=$(BOOTSTRAP_ADMIN_TOKEN= LOG_LEVEL=error DATABASE_URL="$copy_url" "$bin" beds verify); then
  echo "$beds"
  echo "restore-check: FAILED: the restored copy's bed counters disagree with its cases" >&2; exit 1
fi
echo "$beds"
printf 'restore-check: OK in %d ms (dump, restore, audit verify, beds verify)%s\n' "$(( ($(date +%s%N) - start) / 1000000 ))" \
  "$([[ ${KEEP:-} == 1 ]] && echo "; the copy is kept: $copy")"
