#!/usr/bin/env bash
# Installs the Standard Webhooks reference verifier (package.json, package-lock.json beside this
# script) into scripts/webhookverify/node_modules (git-ignored) for jobs' webhook test. Does
# nothing when it is there; installs Debian's nodejs and npm with apt-get when missing and
# running as root; otherwise says what to do.
set -euo pipefail
cd "$(dirname "$0")"

# the stamp is the lock file npm ci last installed from
if [[ -f node_modules/standardwebhooks/package.json ]] && cmp -s package-lock.json node_modules/.carepath-lock 2>/dev/null; then
  exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "webhookverify: installing nodejs and npm with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  else
    echo "webhookverify: node and npm are missing; install them (sudo apt-get install nodejs npm)" >&2
    exit 1
  fi
fi
echo "webhookverify: npm ci (standardwebhooks)"
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json node_modules/.carepath-lock
