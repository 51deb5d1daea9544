#!/usr/bin/env bash
# Refreshes the vendored axe-core that the browser tests run on every page they visit
# (api/testdata/axe/), from the npm registry. The pages never load it: only the tests inject it.
# Usage: scripts/vendor-axe.sh [version]   (default: the version pinned below)
set -euo pipefail
version=${1:-4.14.1}
dir=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "axe-core@$version" >/dev/null && tar xzf axe-core-*.tgz)
mkdir -p "$dir/api/testdata/axe"
cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$dir/api/testdata/axe/"
echo "$version" > "$dir/api/testdata/axe/VERSION"
echo "vendored axe-core $version into api/testdata/axe/"
