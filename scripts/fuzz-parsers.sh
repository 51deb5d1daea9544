#!/usr/bin/env bash
# Runs every `go test -fuzz` target of the parsers (the Fuzz* functions in domain/, api/, store/,
# migrations/) for FUZZTIME each (default 30s), one after another: Go fuzzes one target per
# package per run. `make test` runs only their seeds. A failure leaves the input that broke it in
# PACKAGE/testdata/fuzz/TARGET/: commit it with the fix, and it stays a seed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-30s}
workers=${FUZZ_WORKERS:-2}
pkgs=(./domain ./api ./store ./migrations)
ran=0
for pkg in "${pkgs[@]}"; do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "fuzz-parsers: $pkg $target for $fuzztime"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -parallel "$workers" "$pkg"
    ran=$((ran + 1))
  done
done
echo "fuzz-parsers: $ran targets fuzzed for $fuzztime each, no failure"
