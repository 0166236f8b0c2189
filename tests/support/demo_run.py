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

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.mqtt import free_port, private_broker_conf, start_broker

DEMO_TESTS = "test_demo.py"
KEY = pytest.StashKey["BackgroundDemo"]()
#: why the demo could not be started (reported by its tests rather than breaking the session)
FAILED_KEY = pytest.StashKey[str]()


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

    def text(self) -> str:
        """Everything the demo printed so far."""
        return self.output.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the demo (as Ctrl-C would) and the broker, if still running."""
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
        """SIGKILL whatever the demo left running (its processes all name its data folder on their command line)."""
        subprocess.run(["pkill", "-KILL", "-f", str(self.data_dir)], check=False)


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
