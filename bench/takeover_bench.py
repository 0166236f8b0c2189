"""Leader take-over time: N `cariflex vtn` processes on one PostgreSQL database; the leader is SIGKILLed
and the time until another process holds the leader lock is measured (pg_locks polled every 10 ms),
then the killed process is started again. Prints numbers; asserts nothing.

    .venv/bin/python bench/takeover_bench.py [--processes 3] [--rounds 5] [--leader-retry PT2S]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import vtn_cluster

sys.path.insert(0, str(vtn_cluster.REPO_ROOT))
from tests.support.vtn_cluster import leader_pid, start_vtn, stop_vtn, write_config  # noqa: E402


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--processes", type=int, default=3)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--leader-retry", default="PT2S", help="[store] leader_retry of every process")
    p.add_argument("--pg-admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    return p.parse_args()


async def wait_leader(db_url: str, pids: set[int]) -> int:
    """The pid of the process among `pids` that holds the lock, once one does."""
    while (pid := await asyncio.to_thread(leader_pid, db_url)) not in pids:
        await asyncio.sleep(0.01)
    return pid


async def run(args: argparse.Namespace, workdir: Path) -> list[float]:
    """Kill the leader `args.rounds` times; the take-over times in seconds."""
    database = vtn_cluster.BenchDatabase(args.pg_admin_dsn)
    procs = []
    times: list[float] = []
    try:
        config = write_config(workdir / "vtn.toml", database.url, leader_retry=args.leader_retry)
        for index in range(args.processes):
            procs.append(await start_vtn(config, workdir / f"vtn-{index}.log"))
        for round_ in range(args.rounds):
            leader = await wait_leader(database.url, {p.pid for p in procs})
            victim = next(p for p in procs if p.pid == leader)
            killed = time.monotonic()
            victim.kill()
            survivors = {p.pid for p in procs if p is not victim}
            await wait_leader(database.url, survivors)
            times.append(time.monotonic() - killed)
            print(f"round {round_ + 1}: leader {leader} killed, another process led after {times[-1] * 1000:.0f} ms", flush=True)
            procs[procs.index(victim)] = await start_vtn(config, workdir / f"vtn-restart-{round_}.log")
    finally:
        for proc in procs:
            stop_vtn(proc)
        database.close()
    return times


def main() -> None:
    """Run and print the summary."""
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="cariflex-takeover-") as tmp:
        times = asyncio.run(run(args, Path(tmp)))
    print(
        f"take-over after SIGKILL ({args.processes} processes, leader_retry {args.leader_retry}): "
        f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms over {len(times)} rounds",
        flush=True,
    )


if __name__ == "__main__":
    main()
