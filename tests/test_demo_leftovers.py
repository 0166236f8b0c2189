"""tests/support/demo_run.py's clean-up after a failed demo stop: the FlexMeasures server and RQ worker, which do not
name the demo's data folder on their command line, are found by the pids of its flexmeasures/state.json and killed
(process groups included), and a pid now used by another program is left alone."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.demo_run import process_gone, read_flexmeasures_processes
from tests.support.eventually import eventually_sync

pytestmark = pytest.mark.external  # stand-ins for the demo's FlexMeasures processes


def _wait_gone(pids: list[int], timeout: float = 30) -> None:
    eventually_sync(lambda: all(process_gone(pid) for pid in pids), f"pids {pids} gone", timeout=timeout)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    """Processes to clean up after the test, whatever happens."""
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def _fake(tmp_path: Path, name: str, started: list[subprocess.Popen]) -> subprocess.Popen:
    """A process group led by a command line like FlexMeasures' (`…/flexmeasures …`), with a child of its own."""
    script = tmp_path / name
    script.write_text("sleep 600 &\nwait\n")
    proc = subprocess.Popen(["bash", str(script), "--name", "cariflex-1-abc"], start_new_session=True)
    started.append(proc)
    return proc


def test_the_flexmeasures_server_and_worker_are_killed_by_their_state_json_pids(
    tmp_path: Path, started: list[subprocess.Popen]
) -> None:
    server = _fake(tmp_path, "flexmeasures-run", started)
    worker = _fake(tmp_path, "flexmeasures-worker", started)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # a reused pid
    started.append(stranger)
    run_dir = tmp_path / "data" / "flexmeasures"
    run_dir.mkdir(parents=True)
    pids = {"server": server.pid, "worker": worker.pid, "watchdog": stranger.pid}
    (run_dir / "state.json").write_text(json.dumps({"pids": pids, "worker_name": "cariflex-1-abc"}))

    found = read_flexmeasures_processes(tmp_path / "data")
    assert found.pids == pids and found.worker_name == "cariflex-1-abc"
    assert found.running() == pids
    found.kill()
    for proc in (server, worker):
        proc.wait(timeout=30)
    _wait_gone([server.pid, worker.pid])
    assert found.running() == {"watchdog": stranger.pid}, "a pid not running FlexMeasures is not killed"
    assert subprocess.run(["pgrep", "-f", "cariflex-1-abc"], capture_output=True).stdout == b""


def test_nothing_is_known_without_state_json(tmp_path: Path) -> None:
    assert read_flexmeasures_processes(tmp_path).pids == {}
