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
echo "vendored redoc $version into web/static/"
