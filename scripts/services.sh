#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer at DATABASE_URL and REDIS_URL (defaults: the local
# servers). Does nothing when they answer; starts the local servers when installed but stopped;
# installs them with apt-get when missing and running as root; otherwise says what to do.
set -euo pipefail

db_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/carepath?sslmode=disable}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/0}

hostport() { # url default_port -> "host port"
  local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}; rest=${rest%%\?*}
  local host=${rest%%:*} port=$2
  [[ $rest == *:* ]] && port=${rest##*:}
  echo "${host:-127.0.0.1} $port"
}
read -r pg_host pg_port < <(hostport "$db_url" 5432)
read -r redis_host redis_port < <(hostport "$redis_url" 6379)

is_local() { [[ $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }
pg_up() {
  if command -v pg_isready >/dev/null; then pg_isready -q -h "$pg_host" -p "$pg_port"; else (exec 3<>"/dev/tcp/$pg_host/$pg_port") 2>/dev/null; fi
}
redis_up() {
  if command -v redis-cli >/dev/null; then [[ $(redis-cli -h "$redis_host" -p "$redis_port" ping 2>/dev/null) == PONG ]]; else (exec 3<>"/dev/tcp/$redis_host/$redis_port") 2>/dev/null; fi
}
wait_for() { # name check
  for _ in $(seq 1 60); do "$2" && return 0; sleep 0.5; done
  echo "services: $1 did not come up within 30 s" >&2; return 1
}
as_root() { [[ $(id -u) == 0 ]]; }
apt_install() {
  if ! as_root || ! command -v apt-get >/dev/null; then return 1; fi
  echo "services: installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  pg_up && return 0
  if ! is_local "$pg_host"; then
    echo "services: PostgreSQL at $pg_host:$pg_port does not answer; start it or fix DATABASE_URL" >&2; return 1
  fi
  if ! command -v pg_ctlcluster >/dev/null && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    apt_install postgresql postgresql-contrib || {
      echo "services: PostgreSQL is not installed. Install it (e.g. sudo apt-get install postgresql) and run make again." >&2; return 1; }
  fi
  if command -v pg_lsclusters >/dev/null; then
    if [[ -z $(pg_lsclusters -h 2>/dev/null) ]]; then
      ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
      echo "services: creating PostgreSQL cluster $ver/main on port $pg_port"
      pg_createcluster "$ver" main -p "$pg_port" >/dev/null
      hba=/etc/postgresql/$ver/main/pg_hba.conf
      # a development cluster: local connections are trusted, as the defaults assume
      sed -i -E 's/^(local|host)(\s+all\s+all\s+.*)\s(peer|scram-sha-256|md5)$/\1\2 trust/' "$hba"
      sed -i -E 's/^(local\s+all\s+postgres\s+)peer$/\1trust/' "$hba"
    fi
    while read -r ver name port status _; do
      if [[ $port == "$pg_port" && $status != online ]]; then
        echo "services: starting PostgreSQL $ver/$name"
        if as_root; then pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start
        else echo "services: run as root: pg_ctlcluster $ver $name start" >&2; return 1; fi
      fi
    done < <(pg_lsclusters -h)
  fi
  wait_for PostgreSQL pg_up
}

ensure_redis() {
  redis_up && return 0
  if ! is_local "$redis_host"; then
    echo "services: Redis at $redis_host:$redis_port does not answer; start it or fix REDIS_URL" >&2; return 1
  fi
  if ! command -v redis-server >/dev/null; then
    apt_install redis-server || {
      echo "services: Redis is not installed. Install it (e.g. sudo apt-get install redis-server) and run make again." >&2; return 1; }
    redis_up && return 0
  fi
  echo "services: starting Redis on port $redis_port"
  mkdir -p /tmp/carepath-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --dir /tmp/carepath-redis --logfile /tmp/carepath-redis/redis.log
  wait_for Redis redis_up
}

ensure_postgres
ensure_redis
echo "services: PostgreSQL $pg_host:$pg_port and Redis $redis_host:$redis_port answer"
