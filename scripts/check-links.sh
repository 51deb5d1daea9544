#!/usr/bin/env bash
# Checks that every relative link and image in README.md and docs/*.md points at a file in the
# repository, and that the README uses no macOS-only command (links_test.go; also in make test).
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -count=1 -run '^TestDocsLinksResolve$' .
