"""`run_script` (the demo's and the tests' runner of scripts/flexmeasures.sh): progress echoed line by
line, failures and timeouts raised with the script's last output, a silent stuck step stopped too, and the
script stopped with its caller (Ctrl-C, SIGTERM)."""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from demo.flexmeasures_server import run_script
from tests.support.demo_run import process_gone, start_time
from tests.support.eventually import eventually_sync

pytestmark = pytest.mark.external  # the scripts the demo runs


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "step.sh"
    path.write_text(body)
    return path


def test_progress_is_echoed_as_it_comes(tmp_path: Path) -> None:
    seen: list[str] = []
    run_script(["a", "b"], seen.append, 30, script=_script(tmp_path, 'echo "==> step $1"\necho "==> step $2"\n'))
    assert seen == ["==> step a", "==> step b"]


def test_a_failing_step_raises_with_its_exit_code_and_output(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"failed \(exit 3\):\nno database"):
        run_script([], lambda _line: None, 30, script=_script(tmp_path, "echo 'no database'\nexit 3\n"))


def test_a_silent_stuck_step_is_stopped_at_its_timeout_children_included(tmp_path: Path) -> None:
    # the child (sleep) holds the output pipe: killing bash alone would leave the reader waiting; were the
    # timeout not to work, the script would end normally after 600 s and pytest.raises would fail
    script = _script(tmp_path, "echo '==> downloading'\nsleep 600 &\nwait\n")
    with pytest.raises(RuntimeError, match=r"did not finish within 1 s and was stopped; its output ends:\n==> downloading"):
        run_script([], lambda _line: None, 1, script=script)


#: run_script in a child Python that stops on SIGTERM the way the demo does (demo/run.py:_interrupt)
INTERRUPTIBLE = """
import signal, sys
from pathlib import Path
import demo.flexmeasures_server as fs

def interrupt(_signum, _frame):
    raise KeyboardInterrupt

signal.signal(signal.SIGTERM, interrupt)
fs.INTERRUPT_GRACE_S = float(sys.argv[2])
try:
    fs.run_script([sys.argv[3]], lambda line: print(line, flush=True), 600, script=Path(sys.argv[1]))
except KeyboardInterrupt:
    sys.exit(130)
"""


def _interrupt_in_child(tmp_path: Path, body: str, grace: float) -> tuple[int, int | None]:
    """Start run_script on `body` (which writes its child's pid to the file named by $1) in a child Python,
    SIGTERM that Python once the script's child runs, wait for it to exit as interrupted; returns the child's pid
    and start time (which tell it from a later process under the same pid)."""
    pid_file = tmp_path / "child.pid"
    python = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTIBLE, str(_script(tmp_path, body)), str(grace), str(pid_file)],
        stdin=subprocess.DEVNULL,
    )
    try:
        eventually_sync(
            lambda: pid_file.exists() and pid_file.read_text().strip() != "", "the script's child started", timeout=60
        )
        child = int(pid_file.read_text())
        started = start_time(child)
        python.send_signal(signal.SIGTERM)
        assert python.wait(timeout=60) == 130
    finally:
        if python.poll() is None:
            python.kill()
            python.wait()
    return child, started


def _kill(pid: int, started: int | None) -> None:
    if started is None or process_gone(pid, started):
        return  # gone, or its pid now another process's
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("body", "grace", "what"),
    [
        # Ctrl-C / SIGTERM of the demo during a step (pip, apt-get, `flexmeasures.sh start`): the script runs in a
        # session of its own, so only run_script can stop it; it sends SIGINT, which the sleep dies of
        ('echo "==> working"\nsh -c \'echo $$ > "$1"; exec sleep 600\' _ "$1"\n', 30, "stopped"),
        # a script that ignores SIGINT is killed after the grace period
        ("trap '' INT\nsh -c 'echo $$ > \"$1\"; exec sleep 600' _ \"$1\" &\nwait\n", 1, "killed"),
    ],
    ids=["interrupted", "ignores-sigint"],
)
def test_an_interrupted_caller_stops_the_script_and_its_children(tmp_path: Path, body: str, grace: float, what: str) -> None:
    child, started = _interrupt_in_child(tmp_path, body, grace)
    try:
        # started None: the child had already ended when its pid was read
        gone = lambda: started is None or process_gone(child, started)  # noqa: E731
        eventually_sync(gone, f"the script's child (pid {child}) {what}", timeout=30)
    finally:
        _kill(child, started)
