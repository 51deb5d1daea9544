#!/usr/bin/env bash
# Makes sure a headless Chromium is there for the pages' browser tests (web/…_test.go, chromedp).
# Does nothing when one is found; installs Debian's `chromium` with apt-get when missing and
# running as root; otherwise says what to do. No browser is ever downloaded from a tool installer.
set -euo pipefail

find_browser() {
  local b
  for b in "${CHROMIUM:-}" chromium chromium-browser google-chrome; do
    [[ -n $b ]] && command -v "$b" >/dev/null && { command -v "$b"; return 0; }
  done
  return 1
}

if path=$(find_browser); then
  exit 0
fi
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "browser: installing chromium with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  path=$(find_browser) || { echo "browser: chromium installed but not on PATH" >&2; exit 1; }
  echo "browser: $path"
  exit 0
fi
echo "browser: no Chromium found; install Debian's chromium (sudo apt-get install chromium) or set CHROMIUM=/path/to/chrome" >&2
exit 1
