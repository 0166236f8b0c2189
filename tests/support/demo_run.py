"""`cariflex demo --fast` in the background of the test session.

The demo's event lasts one real quarter hour (achieved curtailment is settled per 15-minute interval,
so it cannot be shorter) and falls in the current quarter hour when 5 minutes of it remain, else the
next: from the start, the demo needs 9 to 25 minutes, which a test waiting for it would add to the
suite. So when tests/test_demo.py is selected, the demo starts as soon as
the tests are collected, runs beside the rest of the suite (its own FlexMeasures database, its own
Mosquitto on a free port, its VTN on a free port, its data in a temporary folder), and the demo's
tests, moved to the end of the run, check what it did.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.mqtt import free_port, private_broker_conf, start_broker

DEMO_TESTS = "test_demo.py"
KEY = pytest.StashKey["BackgroundDemo"]()
#: why the demo could not be started (reported by its tests rather than breaking the session)
FAILED_KEY = pytest.StashKey[str]()


def start_time(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot), None when there is none: with the pid, what names one
    process (pids wrap at 32768 here, and a busy suite reuses one within seconds)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def process_gone(pid: int, started: int | None = None) -> bool:
    """No process `pid` any more, or only its zombie (PID 1 here may not reap orphans), or — given when it
    `started` — another process under a reused pid."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return fields[0] in ("Z", "X") or (started is not None and int(fields[19]) != started)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class FlexMeasuresProcesses:
    """The demo's FlexMeasures server, RQ worker and watchdog, as its state.json names them. None of them names the
    demo's data folder on its command line (the folder is only their working directory), so `pgrep -f` misses them."""

    #: "server", "worker", "watchdog" → pid (each leads a process group of its own: the worker's work-horses too)
    pids: dict[str, int] = field(default_factory=dict)
    #: the worker's RQ name (on its command line)
    worker_name: str | None = None

    def running(self) -> dict[str, int]:
        """Those still running (zombies do not count)."""
        return {name: pid for name, pid in self.pids.items() if not process_gone(pid)}

    def kill(self) -> None:
        """SIGKILL their process groups, where still there and still theirs (a pid not reused by another program)."""
        for pid in self.pids.values():
            alive = not process_gone(pid)
            if alive and "flexmeasures" not in _cmdline(pid):
                continue  # the pid was reused by something else
            if alive or _group_alive(pid):  # a group outliving its leader keeps its id: it is still ours
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        if self.worker_name:
            subprocess.run(["pkill", "-KILL", "-f", self.worker_name], check=False)


def read_flexmeasures_processes(data_dir: Path) -> FlexMeasuresProcesses:
    """What `data_dir/flexmeasures/state.json` names; empty before FlexMeasures started and after it stopped
    (`stop` removes the file)."""
    try:
        state = json.loads((data_dir / "flexmeasures" / "state.json").read_text())
    except (OSError, ValueError):
        return FlexMeasuresProcesses()
    pids = {name: int(pid) for name, pid in (state.get("pids") or {}).items() if pid}
    return FlexMeasuresProcesses(pids, state.get("worker_name"))


@dataclass
class BackgroundDemo:
    """The demo process, its output file, data folder and broker."""

    process: subprocess.Popen
    output: Path
    data_dir: Path
    broker: subprocess.Popen
    mqtt_port: int
    #: time.monotonic() at the start (the tests' deadlines count from it)
    started: float
    #: its FlexMeasures processes, read from state.json before the demo is stopped (stopping removes the file)
    flexmeasures: FlexMeasuresProcesses = field(default_factory=FlexMeasuresProcesses)

    def text(self) -> str:
        """Everything the demo printed so far."""
        return self.output.read_text(errors="replace")

    def remember_flexmeasures(self) -> FlexMeasuresProcesses:
        """Read (and keep) the FlexMeasures processes' pids from its state.json, while it runs."""
        found = read_flexmeasures_processes(self.data_dir)
        if found.pids:
            self.flexmeasures = found
        return self.flexmeasures

    def stop(self) -> None:
        """Stop the demo (as Ctrl-C would) and the broker, if still running."""
        self.remember_flexmeasures()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.broker.poll() is None:
            self.broker.kill()
            self.broker.wait(timeout=10)

    def kill_leftovers(self) -> None:
        """SIGKILL whatever the demo left running: the VTN, the VENs and the FlexMeasures watchdog name its data
        folder on their command line; the FlexMeasures server and worker are known by their pids."""
        subprocess.run(["pkill", "-KILL", "-f", str(self.data_dir)], check=False)
        self.flexmeasures.kill()


def start(directory: Path) -> BackgroundDemo:
    """`cariflex demo --fast --port 0` (serving its UI until stopped) on a broker of its own."""
    mqtt_port = free_port()
    broker = start_broker(private_broker_conf(directory, mqtt_port))
    output = directory / "demo-output.txt"
    data_dir = directory / "data"
    cariflex = str(Path(sys.executable).parent / "cariflex")
    with output.open("wb") as out:
        process = subprocess.Popen(
            [cariflex, "demo", "--fast", "--port", "0", "--mqtt-port", str(mqtt_port), "--data-dir", str(data_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: SIGINT reaches it alone, like Ctrl-C in its terminal
        )
    return BackgroundDemo(process, output, data_dir, broker, mqtt_port, time.monotonic())


def _is_demo_test(item: pytest.Item) -> bool:
    return item.path.name == DEMO_TESTS


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The demo's tests run last: the demo needs the time the rest of the suite takes."""
    items.sort(key=_is_demo_test)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the demo once the tests are known, if its tests are among them."""
    if any(_is_demo_test(item) for item in session.items) and not session.config.option.collectonly:
        if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: every worker would start a demo
            session.config.stash[FAILED_KEY] = "its tests need a pytest process of their own, not -n (run as `make test` does)"
            return
        try:
            session.config.stash[KEY] = start(Path(tempfile.mkdtemp(prefix="cariflex-demo-test-")))
        except OSError as exc:  # e.g. mosquitto missing: the demo's tests fail with this, the others run
            session.config.stash[FAILED_KEY] = f"could not start the demo: {exc}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Never leave the demo running (a failed or interrupted session)."""
    demo = session.config.stash.get(KEY, None)
    if demo is not None:
        demo.stop()
        demo.kill_leftovers()  # after the tests: test_demo.py checks that a plain stop leaves nothing


@pytest.fixture(scope="session")
def background_demo(pytestconfig: pytest.Config) -> BackgroundDemo:
    """The demo started at collection time."""
    demo = pytestconfig.stash.get(KEY, None)
    if demo is None:
        why = pytestconfig.stash.get(FAILED_KEY, "tests/support/demo_run.py is not registered in tests/conftest.py")
        pytest.fail(f"the background demo was not started: {why}")
    return demo
