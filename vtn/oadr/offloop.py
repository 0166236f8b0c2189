"""Big request bodies are parsed, schema-checked, signature-checked and decoded off the event loop.

A 2 MB oadrRegisterReport costs the loop hundreds of milliseconds of lxml work; done inline, every
other VEN's poll waits behind it (issue 22, finding 2). Bodies of at least `CARIFLEX_OFFLOOP_BYTES`
bytes (default 64 KiB; 0 = everything inline, the old behaviour) have that work done in a small thread
pool instead. Polls and other small messages stay inline: they cost tens of microseconds, less than a
hop to a thread.

Why threads (and why few): lxml releases the GIL while it parses and while libxml2 validates against the
schema, so a worker thread leaves the loop free for most of the job; decoding into dataclasses is Python
and still takes the GIL, but in the switch interval's slices (5 ms), not in one block. A process pool
would free the loop entirely but would have to pickle element trees (impossible) or parse twice. One
worker per job slot: with 2 shared cores, more threads would only contend for the GIL with the loop.
A semaphore bounds how many big bodies are in work at once, so a flood of them queues (costing memory
for the bodies already read, which `max_body_bytes` and aiohttp's connection limit bound) instead of
taking every core; small bodies never wait on it.
"""

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

DEFAULT_THRESHOLD = 64 * 1024
#: how many big bodies may be in work at once (and the pool's threads)
DEFAULT_JOBS = 1
ENV_THRESHOLD = "CARIFLEX_OFFLOOP_BYTES"


def threshold_from_env() -> int:
    """The body size from which work goes off the loop; 0 keeps everything inline."""
    text = os.environ.get(ENV_THRESHOLD, "").strip()
    if not text:
        return DEFAULT_THRESHOLD
    value = int(text)
    if value < 0:
        raise ValueError(f"{ENV_THRESHOLD} must be 0 (inline) or a byte count, not {text!r}")
    return value


class OffLoop:
    """Runs a body's CPU work inline (small body, or threshold 0) or in the pool (big body), one job slot
    per worker. `run` gives the same result, or raises the same exception, either way."""

    def __init__(self, threshold: int = DEFAULT_THRESHOLD, jobs: int = DEFAULT_JOBS) -> None:
        self.threshold = threshold
        self._jobs = jobs
        self._pool: ThreadPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None

    def is_big(self, size: int) -> bool:
        return self.threshold > 0 and size >= self.threshold

    async def run(self, size: int, fn: Callable[..., T], *args: object) -> T:
        """fn(*args), off the loop when a body of `size` bytes counts as big."""
        if not self.is_big(size):
            return fn(*args)
        if self._pool is None or self._slots is None:  # made lazily, on the loop that serves
            self._pool = ThreadPoolExecutor(max_workers=self._jobs, thread_name_prefix="cariflex-body")
            self._slots = asyncio.Semaphore(self._jobs)
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            self._slots = None


#: the instance for paths that never see big bodies on purpose (and the default of helpers)
INLINE = OffLoop(threshold=0)
