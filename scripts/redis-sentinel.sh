#!/usr/bin/env bash
# Makes sure Debian's redis-server and redis-sentinel are there for the Sentinel failover test
# (cmd/carepath/sentinel_test.go), which starts its own master, replica and three sentinels on
# free 127.0.0.1 ports. Does nothing when both are found; installs them with apt-get when
# missing and running as root; otherwise says what to do. The package's own service is not used.
set -euo pipefail
if command -v redis-server >/dev/null && command -v redis-sentinel >/dev/null; then
  exit 0
fi
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  echo "redis-sentinel: installing redis-server and redis-sentinel with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # RUNLEVEL=1: invoke-rc.d does not start the package's own sentinel service on 26379
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends redis-server redis-sentinel >/dev/null
  command -v redis-sentinel >/dev/null || { echo "redis-sentinel: installed but not on PATH" >&2; exit 1; }
  exit 0
fi
echo "redis-sentinel: not found; install Debian's redis-sentinel (sudo apt-get install redis-sentinel)" >&2
exit 1
