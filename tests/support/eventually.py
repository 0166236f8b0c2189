"""Waiting, in tests, for something that happens in another task, thread or process: one helper for all.

A condition is polled every 50 ms until it holds; past `timeout` the test fails saying what it waited
for. Bounded always: a test never hangs on a condition that will not come.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

#: how often a condition is polled (seconds)
PERIOD = 0.05


async def eventually(
    condition: Callable[[], object | Awaitable[object]], what: str = "condition", *, timeout: float = 10.0
) -> None:
    """Poll `condition` (sync or async) until it is true; fail naming `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(PERIOD)


def eventually_sync(condition: Callable[[], object], what: str = "condition", *, timeout: float = 10.0) -> None:
    """The same from synchronous code (a test that drives processes, not an event loop)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(PERIOD)
