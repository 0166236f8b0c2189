"""Our VTN served from a background thread with its own event loop, for synchronous callers
(hypothesis properties cannot be coroutines)."""

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.tls_harness import served_vtn
from tests.support.vtn_harness import VtnUnderTest
from vtn.config import VtnConfig


@contextmanager
def vtn_in_thread(config: VtnConfig, prepare: Callable[[VtnUnderTest], Any]) -> Iterator[tuple[VtnUnderTest, Any]]:
    """Serve `config` until the block ends; `prepare(vtn)` (a coroutine function) runs first and its
    result is handed over with the VTN."""
    ready: dict[str, Any] = {}
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        try:
            async with served_vtn(config) as vtn:
                ready["vtn"], ready["prepared"] = vtn, await prepare(vtn)
                started.set()
                await stop.wait()
        except BaseException as exc:  # reported to the test thread
            ready["error"] = exc
            started.set()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), name="vtn", daemon=True)
    thread.start()
    started.wait(timeout=120)
    if "error" in ready or "vtn" not in ready:
        raise RuntimeError(f"the VTN did not start: {ready.get('error')!r}")
    try:
        yield ready["vtn"], ready["prepared"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=60)
        loop.close()
