"""N `cariflex vtn` processes on one fresh PostgreSQL database, for the scale-out benchmarks:
the database (created and dropped), VENs bulk-inserted straight into the store (100,000 registrations
over HTTP would measure registration, not fan-out), the processes, and a DSO client with its token."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from targets import REPO_ROOT, ServerProcess, free_port

from vtn.store import models as db
from vtn.store.database import make_engine, upgrade

CARIFLEX = str(Path(sys.executable).parent / "cariflex")
PROGRAM_ID = "test"
PROGRAM = "http://cariflex.mq/programs/test"  # the program targets.create_cariflex_event uses

CONFIG = """
[vtn]
host = "127.0.0.1"
port = {port}
poll_interval = "PT10S"
[store]
url = "{url}"
[[programs]]
program_id = "{program_id}"
market_context = "{program}"
"""


class BenchDatabase:
    """A fresh PostgreSQL database (dropped on close)."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.name = f"cariflex_scale_{uuid.uuid4().hex[:12]}"
        parts = urlsplit(admin_dsn)
        self.url = urlunsplit(("postgresql+psycopg", parts.netloc, f"/{self.name}", "", ""))
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        upgrade(self.url)

    def close(self) -> None:
        """Drop the database (even with connections left)."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def ven_id(index: int) -> str:
    """The venID of bulk VEN `index`."""
    return f"ven-bulk-{index:06d}"


def ven_name(index: int) -> str:
    """The oadrVenName of bulk VEN `index`."""
    return f"site-bulk-{index:06d}"


def insert_vens(db_url: str, count: int, groups: dict[str, range], chunk: int = 10_000) -> float:
    """Insert `count` registered pull VENs and the group memberships `groups` (group → VEN indexes) in
    chunks of `chunk` rows (executemany); returns the seconds it took."""
    started = time.monotonic()
    now = datetime.now(UTC)
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for first in range(0, count, chunk):
                rows = [
                    {
                        "ven_id": ven_id(i),
                        "ven_name": ven_name(i),
                        "registration_id": f"reg-bulk-{i:06d}",
                        "profile_name": "2.0b",
                        "transport_name": "simpleHttp",
                        "http_pull_model": True,
                        "report_only": False,
                        "xml_signature": False,
                        "registered_at": now,
                        "updated_at": now,
                    }
                    for i in range(first, min(first + chunk, count))
                ]
                conn.execute(db.Ven.__table__.insert(), rows)
            for group_id, members in groups.items():
                rows = [{"group_id": group_id, "ven_name": ven_name(i)} for i in members]
                for first in range(0, len(rows), chunk):
                    conn.execute(db.GroupMember.__table__.insert(), rows[first : first + chunk])
    finally:
        engine.dispose()
    return time.monotonic() - started


def start_processes(db_url: str, count: int, workdir: Path, ready_timeout: float, log_level: str) -> list[ServerProcess]:
    """Start `count` VTN processes on free ports (one after the other: each loads the whole store)."""
    servers = []
    for index in range(count):
        port = free_port()
        config = workdir / f"vtn-{index}.toml"
        config.write_text(CONFIG.format(port=port, url=db_url, program_id=PROGRAM_ID, program=PROGRAM))
        server = ServerProcess(
            [CARIFLEX, "--log-level", log_level, "vtn", "--config", str(config)], port, workdir / f"vtn-{index}.log"
        )
        try:
            server.start(ready_timeout)
        except RuntimeError:
            stop_processes(servers)
            raise
        servers.append(server)
    return servers


def stop_processes(servers: list[ServerProcess]) -> None:
    """SIGTERM every process (SIGKILL after a grace period)."""
    for server in servers:
        server.stop()


def dso_token(config: Path, base_url: str, client_id: str = "bench-dso") -> str:
    """Add a DSO client with `cariflex dso client add` and take a token from `base_url` (…/openadr3/3.1.0)."""
    added = subprocess.run(
        [CARIFLEX, "dso", "client", "add", client_id, "--config", str(config)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = re.search(r"client_secret=(\S+)", added.stdout)
    assert found, added.stdout
    request = urllib.request.Request(
        f"{base_url}/auth/token",
        data=f"grant_type=client_credentials&client_id={client_id}&client_secret={found.group(1)}".encode(),
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["access_token"]
