"""Webhook notifications of OpenADR 3 subscriptions: when a client's program or event changes, each of
its subscriptions that asked for it gets the object POSTed to its callback URL (in the subscription's
API version). Best effort: one attempt with a 5-second timeout; failures are logged, never retried."""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from mapping.openadr3.subscriptions import callbacks, notification
from vtn.store import dso_repository as dso_repo
from vtn.store.worker import StoreWorker

log = logging.getLogger("cariflex.vtn.openadr3.notify")

TIMEOUT = aiohttp.ClientTimeout(total=5)


class Notifier:
    """Sends notifications in the background (keeps its tasks so none is lost to garbage collection)."""

    def __init__(self, store: StoreWorker) -> None:
        self.store = store
        self.tasks: set[asyncio.Task[None]] = set()

    def notify(
        self, client_id: str, object_type: str, operation: str, program_id: str | None, render: Callable[[str], dict[str, Any]]
    ) -> None:
        """Schedule the notifications of one change; `render(version)` gives the object in that version."""
        task = asyncio.get_running_loop().create_task(self._send(client_id, object_type, operation, program_id, render))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(
        self, client_id: str, object_type: str, operation: str, program_id: str | None, render: Callable[[str], dict[str, Any]]
    ) -> None:
        targets = []
        for row in await self.store.call(dso_repo.list_subscriptions, client_id):
            for url, token in callbacks(row.body, object_type, operation, program_id):
                targets.append((url, token, notification(object_type, operation, render(row.api_version), row.api_version)))
        if not targets:
            return
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            for url, token, body in targets:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                try:
                    async with session.post(url, json=body, headers=headers) as response:
                        if response.status >= 300:
                            log.warning("notification to %s answered HTTP %d", url, response.status)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.warning("notification to %s failed: %s", url, exc)

    async def drain(self) -> None:
        """Wait for the notifications under way (tests, shutdown)."""
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
