#!/usr/bin/env bash
# Refreshes the vendored Redoc bundle that /docs serves, from the npm registry.
# Usage: scripts/vendor-redoc.sh [version]   (default: the version pinned below)
set -euo pipefail
version=${1:-2.5.4}
dir=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "redoc@$version" >/dev/null && tar xzf redoc-*.tgz)
cp "$tmp/package/bundles/redoc.standalone.js" "$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" "$dir/web/static/"
# Redoc's attribution shows a logo from its CDN; the docs page loads nothing from another host
# (its CSP refuses it), so the bundle gets an empty image instead, which Redoc then hides.
sed -i 's|src:"https://cdn.redoc.ly/redoc/logo-mini.svg"|src:"data:,"|' "$dir/web/static/redoc.standalone.js"
echo "vendored redoc $version into web/static/"
