"""The demo's child processes: `cariflex vtn`, `cariflex ven` and one-shot `cariflex` commands.

Every child is started in its own process group with its output in a log file of the demo's data
folder, and stopped with SIGTERM (SIGKILL after a grace period) — so Ctrl-C leaves nothing running.
"""

import ctypes
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: the `cariflex` command of the running interpreter's environment
CARIFLEX = str(Path(sys.executable).parent / "cariflex")
STOP_GRACE_S = 15.0


class DemoError(RuntimeError):
    """A step of the demo failed; the message says which and where its log is."""


def cariflex(args: list[str], env: dict[str, str] | None = None, timeout: float = 120.0) -> str:
    """Run a one-shot `cariflex` command and return its standard output; raise DemoError on failure."""
    done = subprocess.run([CARIFLEX, *args], capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise DemoError(
            f"`cariflex {' '.join(args)}` failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
        )
    return done.stdout


@dataclass
class Child:
    """A long-running child process and its log."""

    name: str
    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        """Whether it still runs."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of its log (for error messages)."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM its process group, SIGKILL after STOP_GRACE_S; reaps it."""
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


#: prctl(2) option: the signal a process gets when its parent dies
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Run in the child before exec: SIGTERM it when the demo dies, even by SIGKILL (Linux)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_child(name: str, args: list[str], log: Path, env: dict[str, str] | None = None) -> Child:
    """Start `cariflex ARGS` in a process group of its own (Ctrl-C reaches the demo alone, which stops its
    children in order), output appended to `log`; the child is stopped if the demo dies without doing so."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [CARIFLEX, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    return Child(name, process, log)


def wait_for_line(child: Child, pattern: str, timeout: float) -> re.Match[str]:
    """Wait until `child`'s log has a line matching `pattern`; DemoError if it dies or the time runs out."""
    compiled = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = compiled.search(child.log.read_text(errors="replace")) if child.log.exists() else None
        if found:
            return found
        if not child.alive():
            raise DemoError(
                f"the {child.name} stopped at start-up (exit {child.process.returncode}); "
                f"its log {child.log} ends:\n{child.log_tail()}"
            )
        time.sleep(0.2)
    raise DemoError(f"the {child.name} did not start within {timeout:.0f} s; see {child.log}:\n{child.log_tail()}")
