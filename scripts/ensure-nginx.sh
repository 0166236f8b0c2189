#!/usr/bin/env bash
# Install Debian's nginx binary when it is missing (the reverse-proxy tests run it as a subprocess
# with their own configuration on ephemeral ports; no nginx service is started). Idempotent.
set -euo pipefail
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "nginx is missing and this is not root: the reverse-proxy tests will be skipped (apt-get install nginx)" >&2
  exit 0
fi
echo "==> installing Debian package: nginx"
apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nginx >/dev/null
