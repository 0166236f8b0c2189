"""A real Debian nginx terminating mutual TLS in front of our VTN: its own configuration and
folders in a temporary directory, run as a child process on a free loopback port."""

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.children import stop_child
from tests.support.pki import TestPki

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

#: what every configuration starts with: its own pid, log and temporary folders in `dir`
PROLOGUE = """
daemon off;
master_process {master};
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
"""

CONFIG = """
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_protocols TLSv1.2;
    ssl_ciphers ECDHE-ECDSA-AES128-SHA256:AES128-SHA256;
    ssl_certificate {pki}/vtn-rsa.crt;
    ssl_certificate_key {pki}/vtn-rsa.key;
    ssl_certificate {pki}/vtn-ecdsa.crt;
    ssl_certificate_key {pki}/vtn-ecdsa.key;
    ssl_client_certificate {pki}/ca.crt;
    ssl_crl {pki}/ca.crl;
    ssl_verify_client on;
    location / {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_set_header {header} $ssl_client_escaped_cert;
    }}
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _wait_port(port: int, process: subprocess.Popen, log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}: {log.read_text() if log.exists() else ''}")
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise RuntimeError(f"nginx did not listen on {port} within 30 s: {log.read_text() if log.exists() else ''}")


@asynccontextmanager
async def _running(directory: Path, render: Callable[[int], str]) -> AsyncIterator[int]:
    """nginx with the configuration `render(port)` on a free port; yields the port."""
    assert NGINX is not None, "nginx is not installed (scripts/ensure-nginx.sh installs it)"
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()  # nginx cannot report a port it chose itself; the tiny race is retried below
    for attempt in range(3):
        conf = directory / "nginx.conf"
        conf.write_text(render(port))
        log = directory / "error.log"
        process = subprocess.Popen([NGINX, "-p", str(directory), "-c", str(conf), "-e", str(log)], stdin=subprocess.DEVNULL)
        try:
            await _wait_port(port, process, log)
            break
        except RuntimeError:
            process.kill()
            process.wait(timeout=30)
            if attempt == 2:
                raise
            port = _free_port()
    try:
        yield port
    finally:
        stop_child(process)


@asynccontextmanager
async def running_nginx(directory: Path, pki: TestPki, upstream_port: int, header: str) -> AsyncIterator[str]:
    """nginx verifying client certificates against the test CA and CRL, forwarding the certificate
    in `header` to 127.0.0.1:`upstream_port`; yields its https base URL."""

    def render(port: int) -> str:
        prologue = PROLOGUE.format(dir=directory, master="off", workers=1, connections=128)
        return prologue + CONFIG.format(port=port, pki=pki.root, upstream=upstream_port, header=header)

    async with _running(directory, render) as port:
        yield f"https://127.0.0.1:{port}"


BALANCER = """
  upstream vtn {{
{servers}
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://vtn;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
    }}
  }}
}}
"""


@asynccontextmanager
async def running_balancer(directory: Path, upstream_ports: list[int], workers: int = 1) -> AsyncIterator[str]:
    """Plain-HTTP nginx spreading requests round-robin over VTN processes on 127.0.0.1:`upstream_ports`
    (the upstream block of docs/deployment.md) with `workers` worker processes; yields its http base URL."""
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstream_ports)

    def render(port: int) -> str:
        master = "on" if workers > 1 else "off"  # several workers need the master process
        prologue = PROLOGUE.format(dir=directory, master=master, workers=workers, connections=1024)
        return prologue + BALANCER.format(port=port, servers=servers)

    async with _running(directory, render) as port:
        yield f"http://127.0.0.1:{port}"
