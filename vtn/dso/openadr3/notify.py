"""Webhook notifications of OpenADR 3 subscriptions: when a client's program or event changes, each of
its subscriptions that asked for it gets the object POSTed to its callback URL (in the subscription's
API version).

A callback that cannot be reached, times out (5 s), or answers 5xx, 408, 425 or 429 is tried again after
1, 5 and 25 s; after the fourth failure, or at once on any other 4xx (the receiver refuses it for good),
the notification is given up and logged as an error naming the URL and the change. Until that URL takes
a notification again, each one to it gets a single attempt. Notifications to one
callback URL go out in the order of the changes (a retried one holds back those behind it), so a receiver
never sees an update before the creation it follows. Kept in memory: a VTN that stops gives the ones
still waiting `SHUTDOWN_GRACE` to go out, then logs those it drops."""

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from mapping.openadr3.subscriptions import callbacks, notification
from vtn.dso.openadr3.mqtt_notify import MqttPublisher
from vtn.store import dso_repository as dso_repo
from vtn.store.worker import StoreWorker

log = logging.getLogger("cariflex.vtn.openadr3.notify")

TIMEOUT = aiohttp.ClientTimeout(total=5)
#: the waits (seconds) before the second, third and fourth attempt
RETRY_DELAYS = (1.0, 5.0, 25.0)
#: the 4xx answers that mean "later", not "never"
TRANSIENT_4XX = frozenset({408, 425, 429})
#: how long a stopping VTN waits for the notifications still under way (seconds)
SHUTDOWN_GRACE = 5.0


class Notifier:
    """Sends notifications in the background (keeps its tasks so none is lost to garbage collection)."""

    def __init__(
        self, store: StoreWorker, retry_delays: tuple[float, ...] = RETRY_DELAYS, mqtt: MqttPublisher | None = None
    ) -> None:
        self.store = store
        #: the 3.1 MQTT binding's publisher, when `[dso.mqtt]` offers it: every change goes there too
        self.mqtt = mqtt
        self.retry_delays = retry_delays
        self.tasks: set[asyncio.Task[None]] = set()
        #: one lock per callback URL, held through a notification's attempts: the URL's order is kept
        self._lanes: dict[str, asyncio.Lock] = {}
        self._lane_users: dict[str, int] = {}
        #: callback URLs whose last notification was given up
        self._down: set[str] = set()

    def notify(
        self,
        client_id: str,
        object_type: str,
        operation: str,
        program_id: str | None,
        render: Callable[[str], dict[str, Any]],
        object_id: str,
    ) -> None:
        """Schedule the notifications of one change; `render(version)` gives the object in that version."""
        if self.mqtt is not None:
            # MQTT has no per-client filter (the spec: clients filter); the broker's ACL decides who reads
            self.mqtt.publish_change(object_type, operation, object_id, program_id, render("3.1.0"))
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
        change = f"{object_type} {operation}"
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            await asyncio.gather(*(self._deliver(session, url, token, body, change) for url, token, body in targets))

    async def _deliver(
        self, session: aiohttp.ClientSession, url: str, token: str | None, body: dict[str, Any], change: str
    ) -> None:
        """POST one notification, in its URL's order, with the retries above."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        await self.deliver(url, lambda: headers, body, change, session)

    def push(self, url: str, headers: Callable[[], dict[str, str]], body: dict[str, Any] | bytes, change: str) -> None:
        """Schedule one POST of `body` to `url` behind those already scheduled for that URL (its order is
        kept), with the retries above; `headers()` is called for each attempt (e.g. a fresh signature)."""
        task = asyncio.get_running_loop().create_task(self.deliver(url, headers, body, change))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def deliver(
        self,
        url: str,
        headers: Callable[[], dict[str, str]],
        body: dict[str, Any] | bytes,
        change: str,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """POST one notification, in its URL's order, with the retries above (a session of its own when none
        is given). Nothing is awaited before the URL's lane is joined: notifications scheduled one after the
        other for a URL go out in that order."""
        lane = self._lanes.setdefault(url, asyncio.Lock())
        self._lane_users[url] = self._lane_users.get(url, 0) + 1
        try:
            async with lane:
                if session is None:
                    async with aiohttp.ClientSession(timeout=TIMEOUT) as own:
                        await self._attempts(own, url, headers, body, change)
                else:
                    await self._attempts(session, url, headers, body, change)
        finally:
            self._lane_users[url] -= 1
            if not self._lane_users[url]:
                del self._lane_users[url], self._lanes[url]

    async def _attempts(
        self,
        session: aiohttp.ClientSession,
        url: str,
        headers: Callable[[], dict[str, str]],
        body: dict[str, Any] | bytes,
        change: str,
    ) -> None:
        # a URL that has just failed a notification's every attempt gets one attempt per notification
        # until it takes one again: a dead receiver must not queue up ≈50 s per change behind it
        retries = 0 if url in self._down else len(self.retry_delays)
        for attempt in range(retries + 1):
            if attempt:
                await asyncio.sleep(self.retry_delays[attempt - 1])
            why, final = await _post(session, url, headers(), body)
            if why is None:
                self._down.discard(url)
                return
            if final or attempt == retries:
                self._down.add(url)
                log.error(
                    "notification of %s to %s given up after %d attempt(s): %s. Check that the subscriber's "
                    "callback is up and accepts it; it gets the next change, or can read the object with GET",
                    change,
                    url,
                    attempt + 1,
                    why,
                )
                return
            log.warning(
                "notification of %s to %s failed (%s); attempt %d of %d next",
                change,
                url,
                why,
                attempt + 2,
                retries + 1,
            )

    async def drain(self) -> None:
        """Wait for the notifications under way, retries included (tests)."""
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self, grace: float = SHUTDOWN_GRACE) -> None:
        """On shutdown: give the notifications under way `grace` seconds, then drop the rest (logged)."""
        if not self.tasks:
            return
        _done, waiting = await asyncio.wait(list(self.tasks), timeout=grace)
        if waiting:
            log.error("stopping: %d webhook notification(s) still waiting for their callback dropped", len(waiting))
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)


async def _post(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: dict[str, Any] | bytes
) -> tuple[str | None, bool]:
    """One attempt: (None, _) when the callback took it, else (what went wrong, whether it is final). The body
    is JSON, or bytes of JSON sent as they are (what a signature was computed over)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        async with session.post(url, data=data, headers={"Content-Type": "application/json", **headers}) as response:
            if response.status < 300:
                return None, False
            final = 400 <= response.status < 500 and response.status not in TRANSIENT_4XX
            return f"HTTP {response.status}", final
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return f"{exc.__class__.__name__}: {exc}", False
