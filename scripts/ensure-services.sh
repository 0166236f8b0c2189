#!/usr/bin/env bash
# Make sure the services the tests need answer on loopback; start (or install) what is missing.
# Usage: scripts/ensure-services.sh postgresql [redis] [mosquitto] [prometheus] [influxdb]
# `prometheus` and `influxdb` only install the binaries (prometheus, promtool, influxd): the tests start their own
# on free loopback ports.
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

# Debian's prometheus and influxdb packages start a system service from their postinst (invoke-rc.d, or systemd),
# listening on fixed ports of every interface (9090; 8086/8088): the tests need only the binaries. A policy-rc.d
# of ours (exit 101, "action forbidden": the documented way) keeps that one service from starting for the time of
# the install — unless the machine has a policy already (a Docker image's denies every start) — and the service is
# left stopped and disabled at boot.
install_binaries_only() {  # package binary...
  local package=$1 binary missing=""
  shift
  for binary in "$@"; do command -v "$binary" >/dev/null 2>&1 || missing="$missing $binary"; done
  [ -n "$missing" ] || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "error:$missing missing; install Debian's package (sudo apt-get install --no-install-recommends $package)" >&2
    return 1
  fi
  local policy=/usr/sbin/policy-rc.d ours=""
  if [ ! -e "$policy" ]; then
    ours=$policy
    trap "rm -f '$policy'" EXIT # never left behind, even when the install fails (set -e)
    printf '#!/bin/sh\n# scripts/ensure-services.sh, while installing %s: its service must not start\n[ "$1" = %s ] && exit 101\nexit 0\n' \
      "$package" "$package" >"$policy"
    chmod 755 "$policy"
  fi
  say "installing Debian package: $package (binaries only; no system service is started)"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$package" >/dev/null
  [ -z "$ours" ] || { rm -f "$ours"; trap - EXIT; }
  if [ -d /run/systemd/system ]; then
    systemctl disable --now "$package.service" >/dev/null 2>&1 || true
  else
    [ ! -x "/etc/init.d/$package" ] || "/etc/init.d/$package" stop >/dev/null 2>&1 || true
    update-rc.d "$package" disable >/dev/null 2>&1 || true
  fi
  for binary in "$@"; do
    command -v "$binary" >/dev/null 2>&1 || { echo "error: the $package package installed no $binary on PATH" >&2; return 1; }
  done
}

for service in "$@"; do
  case "$service" in
    postgresql) ensure_postgresql ;;
    redis) ensure_redis ;;
    mosquitto) ensure_mosquitto ;;
    prometheus) install_binaries_only prometheus prometheus promtool ;;
    influxdb) install_binaries_only influxdb influxd ;;
    *) echo "error: unknown service $service (postgresql, redis, mosquitto, prometheus, influxdb)" >&2; exit 2 ;;
  esac
done
