#!/usr/bin/env bash
# Lints openapi.yaml with Redocly's CLI under scripts/redocly/redocly.yaml's rules (`make test` runs it). The
# CLI's version is pinned in scripts/redocly/package.json and package-lock.json; `npm ci`
# installs it into scripts/redocly/node_modules (git-ignored) on first use and whenever the
# lock changes. Without npm the lint is skipped locally and fails in CI (CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=scripts/redocly
bin=$dir/node_modules/.bin/redocly
if ! command -v npm >/dev/null; then
	if [ "${CI:-}" = true ]; then
		echo "lint-openapi: npm is required (Node.js 20.19+ or 22.12+)" >&2
		exit 1
	fi
	echo "lint-openapi: npm not found, openapi.yaml not linted (install Node.js 20.19+ or 22.12+ with npm)" >&2
	exit 0
fi
if [ ! -x "$bin" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
"$bin" lint --config scripts/redocly/redocly.yaml --format=stylish openapi.yaml
