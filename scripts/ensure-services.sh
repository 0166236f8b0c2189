#!/usr/bin/env bash
# Make sure the services the tests need answer on loopback; start (or install) what is missing.
# Usage: scripts/ensure-services.sh postgresql [redis] [mosquitto] [influxdb]
# (influxdb: only the `influxd` binary; the tests start their own on ephemeral loopback ports)
set -euo pipefail

say() { echo "==> $*"; }
apt_install() {
  say "installing Debian packages: $*"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  echo "error: nothing answers on 127.0.0.1:$1 after 30 s ($2); see its log under /var/log" >&2; return 1
}

ensure_postgresql() {
  if ! port_open 5432; then
    command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    [ -d "/etc/postgresql/$version/main" ] || pg_createcluster "$version" main
    say "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    wait_port 5432 postgresql
  fi
  # The suite connects as postgres over TCP without a password; a stock cluster wants one.
  if ! PGCONNECT_TIMEOUT=5 psql "host=127.0.0.1 user=postgres dbname=postgres" -Atqc 'select 1' >/dev/null 2>&1; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    say "allowing passwordless loopback connections for the test suite in $hba"
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
}

ensure_redis() {
  port_open 6379 && return 0
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/cariflex.log
  wait_port 6379 redis
}

ensure_mosquitto() {
  port_open 1883 && return 0
  command -v mosquitto >/dev/null 2>&1 || apt_install mosquitto
  say "starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  wait_port 1883 mosquitto
}

# The tests start influxd themselves (tests/support/influxdb.py): only the binary is wanted here, never the
# package's service, which would listen on the fixed ports 8086/8088 of every interface. Its postinst starts
# the service through invoke-rc.d (no systemd in CI, and `|| exit 1`: a start that fails fails the install),
# so a policy-rc.d denies that one start for the time of the install — unless the machine already has a
# policy (a Docker image's denies every start); any other service keeps its usual answer.
ensure_influxdb() {
  command -v influxd >/dev/null 2>&1 && return 0
  local policy=/usr/sbin/policy-rc.d
  if [ -e "$policy" ]; then
    apt_install influxdb
  else
    printf '#!/bin/sh\n# Cariflex, while installing influxdb only: do not start its service\n[ "$1" = influxdb ] && exit 101\nexit 0\n' >"$policy"
    chmod 755 "$policy"
    trap "rm -f $policy" EXIT  # expanded now: a failed install (set -e) still removes it
    apt_install influxdb
    rm -f "$policy"
    trap - EXIT
  fi
  command -v influxd >/dev/null 2>&1 || { echo "error: the influxdb package installed no influxd on PATH" >&2; return 1; }
  if [ -f /var/run/influxdb/influxd.pid ] && kill -0 "$(cat /var/run/influxdb/influxd.pid)" 2>/dev/null; then
    say "stopping the influxdb service the package started (the tests run their own influxd)"
    /etc/init.d/influxdb stop || true
  fi
  say "influxd installed: $(influxd version 2>/dev/null || echo unknown version)"
}

for service in "$@"; do
  case "$service" in
    postgresql) ensure_postgresql ;;
    redis) ensure_redis ;;
    mosquitto) ensure_mosquitto ;;
    influxdb) ensure_influxdb ;;
    *) echo "error: unknown service $service (postgresql, redis, mosquitto, influxdb)" >&2; exit 2 ;;
  esac
done
