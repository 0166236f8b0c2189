"""VTN processes under test: our Cariflex VTN and the openleadr reference.

A target knows how to start its server on a given port, how to put one
24-interval event in place for every registered VEN, and how to clean up.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
REFERENCE_SCRIPT = BENCH_DIR / "openleadr_reference_vtn.py"
SERVICE_PREFIX = "/OpenADR2/Simple/2.0b"
HOST = "127.0.0.1"
_PR_SET_PDEATHSIG = 1


def free_port(host: str = HOST) -> int:
    """Return a currently free ephemeral TCP port (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Child pre-exec hook: get SIGTERM if the bench itself dies (Linux)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class ServerProcess:
    """A server in its own session/process group, logging to a file."""

    def __init__(self, cmd: list[str], port: int, log_path: Path) -> None:
        self.cmd = cmd
        self.cwd = REPO_ROOT
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float) -> None:
        """Spawn the server and wait until its port accepts connections."""
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(  # our own command line
            self.cmd,
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # single-threaded here
        )
        log.close()
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex((HOST, self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server not ready in {ready_timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """Last lines of the server log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def rss_mb(self) -> float | None:
        """Resident set size of the server and its children, in MiB."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
            total = sum(p.memory_info().rss for p in procs)
        except psutil.Error:
            return None
        return total / (1024 * 1024)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace`` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue


class Target:
    """Base class: one VTN implementation plus its storage."""

    name = "target"

    def __init__(self, vtn_id: str, workdir: Path, ready_timeout: float) -> None:
        self.vtn_id = vtn_id
        self.workdir = workdir
        self.ready_timeout = ready_timeout
        self.server: ServerProcess | None = None

    def command(self, port: int) -> list[str]:
        """Command line that serves the VTN on ``port``."""
        raise NotImplementedError

    def create_events(self) -> None:
        """Give every registered VEN one 24 x 15 min SIMPLE level event."""
        raise NotImplementedError

    def setup(self) -> None:
        """Prepare storage before the server starts."""

    def teardown(self) -> None:
        """Remove storage after the server stopped."""

    @property
    def port(self) -> int:
        """Port the server listens on."""
        assert self.server is not None
        return self.server.port

    def url(self, service: str) -> str:
        """Full URL of an OpenADR service endpoint."""
        return f"http://{HOST}:{self.port}{SERVICE_PREFIX}/{service}"

    def start(self) -> None:
        """Prepare storage and start the server on a free port."""
        self.setup()
        port = free_port()
        log_path = self.workdir / f"{self.name}.log"
        self.server = ServerProcess(self.command(port), port, log_path)
        self.server.start(self.ready_timeout)

    def stop(self) -> None:
        """Stop the server and remove storage; safe to call twice."""
        try:
            if self.server is not None:
                self.server.stop()
        finally:
            self.teardown()


class OpenLeadrTarget(Target):
    """Stock openleadr OpenADRServer (bench/openleadr_reference_vtn.py)."""

    name = "openleadr"

    def command(self, port: int) -> list[str]:
        """Run the reference script with this interpreter."""
        return [
            sys.executable,
            str(REFERENCE_SCRIPT),
            "--host",
            HOST,
            "--port",
            str(port),
            "--vtn-id",
            self.vtn_id,
        ]

    def create_events(self) -> None:
        """Ask the reference server to queue one event per registered VEN."""
        req = urllib.request.Request(f"http://{HOST}:{self.port}/bench/add-events", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=300) as resp:
            print(f"  openleadr: {json.load(resp)['events_added']} events added")


def create_cariflex_event(cariflex: str, db_url: str) -> None:
    """Create one event for all VENs through our CLI (the one assumed CLI call)."""
    event_args = ["--program", "http://cariflex.mq/programs/test", "--signal", "SIMPLE:level", "--intervals", "24"]
    event_args += ["--interval-duration", "PT15M", "--value", "1", "--start-in", "PT1H"]
    cmd = [cariflex, "event", "create", "--db", db_url, *event_args]
    proc = subprocess.run(  # our own command line
        cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")


class CariflexTarget(Target):
    """Our VTN (``cariflex vtn``) on SQLite or PostgreSQL."""

    def __init__(
        self,
        backend: str,
        cariflex: str,
        log_level: str,
        pg_admin_dsn: str,
        vtn_id: str,
        workdir: Path,
        ready_timeout: float,
    ) -> None:
        super().__init__(vtn_id, workdir, ready_timeout)
        self.backend = backend
        self.name = f"ours-{backend}"
        self.cariflex = cariflex
        self.log_level = log_level
        self.pg_admin_dsn = pg_admin_dsn
        self.db_name = f"cariflex_bench_{uuid.uuid4().hex[:12]}"
        self.db_url = self._db_url()

    def _db_url(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.workdir / 'cariflex-bench.db'}"
        parts = urlsplit(self.pg_admin_dsn)
        return urlunsplit(("postgresql+psycopg", parts.netloc, f"/{self.db_name}", "", ""))

    def command(self, port: int) -> list[str]:
        """``cariflex --log-level L vtn --host --port --db``."""
        return [self.cariflex, "--log-level", self.log_level, "vtn", "--host", HOST, "--port", str(port), "--db", self.db_url]

    def setup(self) -> None:
        """Create a fresh PostgreSQL database (SQLite needs nothing)."""
        if self.backend == "postgresql":
            self._pg_execute(f'CREATE DATABASE "{self.db_name}"')

    def teardown(self) -> None:
        """Drop the PostgreSQL database."""
        if self.backend == "postgresql":
            self._pg_execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def _pg_execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_admin_dsn, autocommit=True) as conn:
            conn.execute(sql)

    def create_events(self) -> None:
        """One event for all VENs via ``cariflex event create``."""
        create_cariflex_event(self.cariflex, self.db_url)
