"""Several real `cariflex vtn` processes on one PostgreSQL database (scale-out tests and benchmarks):
their configuration file, start-up on free loopback ports, SIGKILL, and which one leads."""

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.children import stop_child
from tests.support.vtn_process import wait_base_url
from vtn.store.database import libpq_url

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
[vtn]
vtn_id = "CARIFLEX-VTN"
host = "127.0.0.1"
port = 0
poll_interval = "PT10S"
near_window = "{near_window}"

[store]
url = "{db_url}"
refresh_interval = "{refresh_interval}"
listen = {listen}
leader_retry = "{leader_retry}"

[[programs]]
program_id = "test"
market_context = "http://cariflex.mq/programs/test"
name = "Test program"

[groups]
north = ["site-north"]
"""


def write_config(
    path: Path,
    db_url: str,
    *,
    refresh_interval: str = "PT1S",
    listen: bool = True,
    leader_retry: str = "PT1S",
    near_window: str = "PT1H",
    extra: str = "",
) -> Path:
    """A VTN configuration file for one process of a cluster (plain HTTP on a free port)."""
    path.write_text(
        CONFIG.format(
            db_url=db_url,
            refresh_interval=refresh_interval,
            listen=str(listen).lower(),
            leader_retry=leader_retry,
            near_window=near_window,
        )
        + extra
    )
    return path


@dataclass
class VtnProc:
    """One running `cariflex vtn` process."""

    process: subprocess.Popen
    url: str
    log: Path

    @property
    def pid(self) -> int:
        """Its operating-system process id."""
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no clean-up at all (its database connections drop, its advisory lock is freed)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


async def start_vtn(config: Path, log: Path) -> VtnProc:
    """Start `cariflex vtn --config config`, wait for its "listening on" line; stderr goes to `log`."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "cariflex.cli", "vtn", "--config", str(config)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
    try:
        url = await asyncio.wait_for(asyncio.to_thread(wait_base_url, process), timeout=120)
    except (RuntimeError, TimeoutError) as exc:
        process.kill()
        process.wait(timeout=30)
        raise RuntimeError(f"VTN did not start ({exc!r}); its log:\n{log.read_text()}") from exc
    return VtnProc(process=process, url=url, log=log)


def stop_vtn(vtn: VtnProc) -> None:
    """SIGTERM (clean stop) unless already gone."""
    stop_child(vtn.process)
    if vtn.process.stdout is not None:
        vtn.process.stdout.close()


@asynccontextmanager
async def running_cluster(directory: Path, configs: list[Path]) -> AsyncIterator[list[VtnProc]]:
    """One VTN process per configuration file (started one after the other: the first migrates the store)."""
    directory.mkdir(parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        procs: list[VtnProc] = []
        for index, config in enumerate(configs):
            vtn = await start_vtn(config, directory / f"vtn-{index}.log")
            stack.callback(stop_vtn, vtn)
            procs.append(vtn)
        yield procs


def backend_pids(db_url: str, role: str) -> dict[int, int]:
    """VTN process id → PostgreSQL backend pid of its `role` connection ("leader" or "listen")."""
    prefix = f"cariflex-vtn-{role}-"
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT application_name, pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE %s",
            (prefix + "%",),
        ).fetchall()
    return {int(name[len(prefix) :]): pid for name, pid in rows}


def leader_pid(db_url: str) -> int | None:
    """The process id of the VTN process holding the leader lock, if any."""
    with psycopg.connect(libpq_url(db_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()"
        ).fetchone()
    return int(row[0].rsplit("-", 1)[1]) if row else None


async def wait_for_leader(db_url: str, among: list[VtnProc], timeout: float = 60.0) -> VtnProc:
    """The process among `among` that holds the lock, once one does (fails after `timeout` seconds)."""
    by_pid = {vtn.pid: vtn for vtn in among}
    for _ in range(int(timeout * 10)):
        pid = await asyncio.to_thread(leader_pid, db_url)
        if pid in by_pid:
            return by_pid[pid]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no leader among {sorted(by_pid)} within {timeout} s")
