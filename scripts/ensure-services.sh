#!/usr/bin/env bash
# Make sure the services the tests need answer on loopback; start (or install) what is missing.
# Usage: scripts/ensure-services.sh postgresql [redis] [mosquitto] [prometheus]
# `prometheus` only installs the binaries (prometheus, promtool): the tests start their own on free ports.
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

# Debian's package would start a system Prometheus on 0.0.0.0:9090 from its postinst (systemd or the init
# script): the tests need only the binaries, so a policy-rc.d of ours (exit 101: "action forbidden", the
# documented way) keeps the service from starting, and on a systemd machine the unit is left disabled.
ensure_prometheus() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "error: prometheus/promtool are missing; install Debian's package (sudo apt-get install --no-install-recommends prometheus)" >&2
    return 1
  fi
  local policy=/usr/sbin/policy-rc.d ours=""
  if [ ! -e "$policy" ]; then
    ours=$policy
    trap "rm -f '$policy'" EXIT # never leave it behind: it would keep every later package's service from starting
    printf '#!/bin/sh\n# scripts/ensure-services.sh: no service starts while prometheus is installed\nexit 101\n' >"$policy"
    chmod 755 "$policy"
  fi
  say "installing Debian package: prometheus (binaries only; no system service is started)"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus >/dev/null
  [ -z "$ours" ] || { rm -f "$ours"; trap - EXIT; }
  # nor at the next boot
  if [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  else
    update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
}

for service in "$@"; do
  case "$service" in
    postgresql) ensure_postgresql ;;
    redis) ensure_redis ;;
    mosquitto) ensure_mosquitto ;;
    prometheus) ensure_prometheus ;;
    *) echo "error: unknown service $service (postgresql, redis, mosquitto, prometheus)" >&2; exit 2 ;;
  esac
done
