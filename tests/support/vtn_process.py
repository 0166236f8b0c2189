"""Reading the address of a `cariflex vtn` process from its stdout (the listening banner)."""

import subprocess

from vtn.banner import base_url_in


def wait_base_url(process: subprocess.Popen) -> str:
    """Block until `process` prints its listening banner; return its base URL (scheme://host:port).
    Lines before the banner (logs, when stderr is merged) are skipped. RuntimeError, with the process'
    stderr when it is piped, when it exits first."""
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if isinstance(line, bytes):
            line = line.decode(errors="replace")
        if not line:
            process.wait(timeout=30)
            told = process.stderr.read() if process.stderr is not None else ""
            raise RuntimeError(f"cariflex vtn exited ({process.returncode}) before listening:\n{told}")
        base = base_url_in(line)
        if base is not None:
            return base
