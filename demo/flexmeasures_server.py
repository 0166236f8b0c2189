"""A real FlexMeasures 1.0.1 server, run by `scripts/flexmeasures.sh`: installed if needed, a fresh
database, stopped (and the database dropped) afterwards. Used by the demo and the test suite.

Bring-up: its own venv (1 to 5 min the first time, then reused), a new PostgreSQL database, a Redis
database number of its own, migrations, account, user, ``flexmeasures run`` on a free loopback port
and one RQ worker on the ``scheduling`` queue. About 25 s on a 2-core machine. If the process that
started it dies first, a watchdog stops it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flexmeasures_client import FlexMeasuresClient

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "flexmeasures.sh"
ENSURE_SERVICES = REPO / "scripts" / "ensure-services.sh"
#: The PostgreSQL server the suite uses, as a URL (the suite's CARIFLEX_TEST_PG is a libpq DSN).
PG_ADMIN_URL = os.environ.get("CARIFLEX_FM_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
INSTALL_TIMEOUT_S = 1200
START_TIMEOUT_S = 300
#: how long an interrupted script may take to clean up after SIGINT before it is killed
INTERRUPT_GRACE_S = 30.0


@dataclass(frozen=True)
class FlexMeasuresServer:
    """A running FlexMeasures: where it answers and who may log in."""

    base_url: str
    port: int
    email: str
    password: str
    account_id: int
    database: str
    database_url: str
    run_dir: Path
    #: seconds: install check, and start (database, provisioning, server, worker) as measured here,
    #: plus the per-step timings the start script recorded.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def host(self) -> str:
        """``host:port`` as FlexMeasuresClient wants it (no scheme)."""
        return f"127.0.0.1:{self.port}"

    def client(self, **kwargs: Any) -> FlexMeasuresClient:
        """A FlexMeasuresClient logged in as the test user; call inside a running event loop, close it after."""
        from flexmeasures_client import FlexMeasuresClient

        return FlexMeasuresClient(host=self.host, email=self.email, password=self.password, ssl=False, **kwargs)


def run_script(
    args: list[str], echo: Callable[[str], None], timeout: float, env: dict[str, str] | None = None, script: Path = SCRIPT
) -> None:
    """Run `script` (scripts/flexmeasures.sh), echoing its progress lines as they come; raise with its output
    on failure, or when it has not finished within `timeout` seconds (then it and its children are killed)."""
    proc = subprocess.Popen(
        ["bash", str(script), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
        start_new_session=True,  # its own process group: a timeout kills pip or apt-get too, which hold the pipe
    )
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    # a timer, not a check per line: a step that prints nothing (a stuck download) must time out too
    watchdog = threading.Timer(timeout, expire)
    lines: list[str] = []
    # everything after the start inside the try: a Ctrl-C or SIGTERM that lands while the timer starts must stop
    # the script's group too (it has a session of its own, so nothing else would)
    try:
        watchdog.start()
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            echo(line.rstrip("\n"))
        code = proc.wait()
    except BaseException:
        # Ctrl-C or SIGTERM of the caller (KeyboardInterrupt), or a failing echo: the script has a session of its
        # own, so no terminal signal reaches it; stop it here rather than leave pip, apt-get or a half-started
        # FlexMeasures running beside the caller's clean-up
        stop_group(proc)
        raise
    finally:
        watchdog.cancel()
    tail = "\n".join(lines[-40:])
    command = f"{script.relative_to(REPO) if script.is_relative_to(REPO) else script} {' '.join(args)}"
    if expired.is_set():
        raise RuntimeError(f"{command} did not finish within {timeout:.0f} s and was stopped; its output ends:\n{tail}")
    if code != 0:
        raise RuntimeError(f"{command} failed (exit {code}):\n{tail}")


def stop_group(proc: subprocess.Popen) -> None:
    """SIGINT `proc`'s process group (`flexmeasures.sh start` cleans up what it started on KeyboardInterrupt),
    SIGKILL what is left of the group after INTERRUPT_GRACE_S seconds; reaps `proc`."""
    deadline = time.monotonic() + INTERRUPT_GRACE_S
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=INTERRUPT_GRACE_S)
        # the script may be gone while a background job of it (which ignores SIGINT) is not
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def flexmeasures_server(
    run_dir: Path | None = None, echo: Callable[[str], None] = print, email: str = "cariflex-test@example.com"
) -> Iterator[FlexMeasuresServer]:
    """Install if needed, start FlexMeasures on a fresh database, yield it, stop it and drop the database.

    `run_dir` (default: a new temporary folder) receives state.json and the server, worker and
    provisioning logs; it is kept afterwards for post-mortems.
    """
    run_dir = Path(run_dir) if run_dir is not None else Path(tempfile.mkdtemp(prefix="cariflex-flexmeasures-"))
    timings: dict[str, float] = {}
    t = time.monotonic()
    # PostgreSQL and Redis answer on loopback, started (or installed) when missing.
    run_script(["postgresql", "redis"], echo, INSTALL_TIMEOUT_S, script=ENSURE_SERVICES)
    run_script(["install"], echo, INSTALL_TIMEOUT_S)
    timings["install_check_s"] = round(time.monotonic() - t, 2)

    database = f"cfx_fm_{uuid.uuid4().hex[:12]}"
    # The password goes through the environment, not argv (visible in ps); the script pipes it on.
    env = {**os.environ, "CARIFLEX_FM_PASSWORD": secrets.token_urlsafe(16)}
    start_args = [
        "start",
        "--run-dir", str(run_dir),
        "--database", database,
        "--pg-admin", PG_ADMIN_URL,
        "--email", email,
        "--watch-pid", str(os.getpid()),
        "--drop-database-on-exit",
    ]  # fmt: skip
    t = time.monotonic()
    try:
        run_script(start_args, echo, START_TIMEOUT_S, env=env)
        timings["start_s"] = round(time.monotonic() - t, 2)
        state: dict[str, Any] = json.loads((run_dir / "state.json").read_text())
        timings.update(state.get("timings", {}))
        server = FlexMeasuresServer(
            base_url=state["base_url"],
            port=state["port"],
            email=state["email"],
            password=state["password"],
            account_id=state["account_id"],
            database=database,
            database_url=state["database_url"],
            run_dir=run_dir,
            timings=timings,
        )
        echo(
            f"FlexMeasures ready at {server.base_url} in {timings['start_s']} s "
            f"(provisioning {timings.get('provision_s')} s, server {timings.get('server_ready_s')} s, "
            f"worker {timings.get('worker_ready_s')} s; logs in {run_dir})"
        )
        yield server
    finally:
        # Also after a failed start: whatever state.json names is stopped, the database dropped.
        run_script(["stop", "--run-dir", str(run_dir), "--drop-database"], echo, 120)
