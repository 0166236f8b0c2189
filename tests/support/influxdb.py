"""A real InfluxDB 1.x (Debian's `influxd`) for tests: its own configuration and data under a temporary directory,
HTTP and RPC bound to free ephemeral loopback ports, usage reporting off; started and stopped by the test.

`influxdb` (session fixture, one per pytest worker): authentication on, with an admin user the fixture creates;
each test makes a database of its own (`new_database`), so tests neither see nor disturb each other. A test that
stops and restarts InfluxDB starts its own with `InfluxServer(...)`. When `influxd` is missing, it is installed
the way `make test` does (scripts/ensure-services.sh influxdb).
"""

import base64
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.children import stop_child
from tests.support.mqtt import ROOT, free_port

ADMIN = "cariflex-admin"
#: a throw-away password for a throw-away server on loopback
ADMIN_PASSWORD = "test-only-" + uuid.uuid4().hex

CONFIG = """\
reporting-enabled = false
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{dir}/meta"

[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  bind-address = "127.0.0.1:{port}"
  auth-enabled = {auth}
  log-enabled = false

[logging]
  level = "warn"
"""


def influxd_binary() -> str:
    """The path of `influxd`, installed first if missing (Debian's influxdb package)."""
    found = shutil.which("influxd")
    if found is None:
        subprocess.run(["bash", str(ROOT / "scripts/ensure-services.sh"), "influxdb"], check=True, timeout=600)
        found = shutil.which("influxd")
    assert found, "scripts/ensure-services.sh influxdb installed no influxd"
    return found


@dataclass
class InfluxServer:
    """One `influxd` under `directory`; `start()` on fresh free ports, `stop()`, `start()` again on the same ports
    and data (a restart)."""

    directory: Path
    auth: bool = False
    port: int = 0
    rpc_port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The base URL the sink is given."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """influxd's own output (shown when it does not come up)."""
        return self.directory / "influxd.log"

    def start(self) -> None:
        """Start influxd and wait until it answers /ping (ports chosen on the first start, kept for restarts)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        first = self.port == 0
        for attempt in range(3):
            if first:
                self.port, self.rpc_port = free_port(), free_port()
            conf = self.directory / "influxdb.conf"
            conf.write_text(
                CONFIG.format(dir=self.directory, port=self.port, rpc_port=self.rpc_port, auth=str(self.auth).lower())
            )
            with self.log.open("ab") as out:
                self.process = subprocess.Popen(
                    [influxd_binary(), "run", "-config", str(conf)], stdin=subprocess.DEVNULL, stdout=out, stderr=out
                )
            if self._answers():
                return
            self.stop()
            if not first or attempt == 2:  # a restart keeps its port: the sink under test is pointed at it
                break
        raise RuntimeError(f"influxd did not answer on 127.0.0.1:{self.port}: {self.log.read_text()[-3000:]}")

    def _answers(self) -> bool:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as answer:
                    if answer.status == 204:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop influxd (SIGTERM, then SIGKILL) and reap it; its data stays for a restart."""
        if self.process is None:
            return
        stop_child(self.process)
        self.process = None

    def query(self, q: str, database: str | None = None, username: str | None = ADMIN, password: str = ADMIN_PASSWORD) -> Any:
        """Run an InfluxQL statement over /query (POST, times as RFC 3339); the JSON answer, checked for errors."""
        body = urllib.parse.urlencode({"q": q, **({"db": database} if database else {})}).encode()
        request = urllib.request.Request(f"{self.url}/query", data=body)
        if self.auth and username:
            request.add_header("Authorization", "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode())
        with urllib.request.urlopen(request, timeout=30) as answer:
            result = json.loads(answer.read())
        errors = [r["error"] for r in result.get("results", []) if "error" in r]
        assert not errors and "error" not in result, f"{q}: {errors or result}"
        return result

    def rows(self, q: str, database: str) -> list[dict[str, Any]]:
        """The rows a SELECT returns, each as {column: value} (every series together)."""
        rows = []
        for result in self.query(q, database)["results"]:
            for series in result.get("series", []):
                rows += [dict(zip(series["columns"], values, strict=True)) for values in series["values"]]
        return rows

    def new_database(self) -> str:
        """A database no other test uses."""
        name = f"cfx_{uuid.uuid4().hex[:12]}"
        self.query(f'CREATE DATABASE "{name}"')
        return name


def running_influxd(directory: Path, auth: bool = False) -> InfluxServer:
    """A started `InfluxServer`, with the admin user when `auth` (InfluxDB lets the first admin be created
    without credentials)."""
    server = InfluxServer(directory, auth=auth)
    server.start()
    if auth:
        server.query(f"CREATE USER \"{ADMIN}\" WITH PASSWORD '{ADMIN_PASSWORD}' WITH ALL PRIVILEGES", username=None)
    return server


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """One InfluxDB 1.x per pytest worker, authentication on (user ADMIN); stopped at the end of the session."""
    server = running_influxd(tmp_path_factory.mktemp("influxdb"), auth=True)
    yield server
    server.stop()
