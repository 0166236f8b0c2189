"""The 3.1 MQTT notifier binding's publisher: each program or event change made through the 3.x API is
published, as the 3.1 notification JSON ({objectType, operation, object}), on the topics of
`mapping.openadr3.mqtt_topics.change_topics`, to the broker of `[dso.mqtt]`.

One connection, kept up for as long as the VTN runs (reconnected with capped back-off after a broker
restart). Changes wait in a bounded in-memory queue while the broker is away; they go out in the order
they were made. Beyond `queue_limit` the oldest are dropped and logged: MQTT notifications are a hint
to read the object, the REST API stays the source of truth (the spec: clients filter and re-read).
"""

import asyncio
import json
import logging
import random
from collections import deque
from typing import Any

import aiomqtt

from mapping.openadr3.mqtt_topics import change_topics
from mapping.openadr3.subscriptions import notification
from vtn.dso.config import MqttNotifierConfig

log = logging.getLogger("cariflex.vtn.openadr3.mqtt")

#: back-off between connection attempts (seconds): the first, and the cap
MIN_BACKOFF, MAX_BACKOFF = 0.5, 30.0


class MqttPublisher:
    """Publishes change notifications on the broker of `config` from a background task."""

    def __init__(self, config: MqttNotifierConfig) -> None:
        self.config = config
        self._queue: deque[tuple[str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: set while connected (tests wait on it)
        self.connected = asyncio.Event()
        self.published = 0
        self.dropped = 0

    def start(self) -> None:
        """Start the connection loop (from the running event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="openadr3-mqtt-notifier")

    async def close(self) -> None:
        """Stop publishing; what is still queued is logged and dropped."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._queue:
            log.warning("stopping: %d MQTT notification(s) not yet published dropped", len(self._queue))
            self._queue.clear()

    def publish_change(
        self, object_type: str, operation: str, object_id: str, program_id: str | None, obj: dict[str, Any]
    ) -> None:
        """Queue the notification of one change (`obj` rendered in 3.1) on each of its topics."""
        payload = json.dumps(notification(object_type, operation, obj, "3.1.0"), separators=(",", ":")).encode()
        for topic in change_topics(self.config.topic_prefix, object_type, operation, object_id, program_id):
            if len(self._queue) >= self.config.queue_limit:
                self._queue.popleft()
                self.dropped += 1
                log.error(
                    "MQTT notification queue full (%d, [dso.mqtt] queue_limit): the oldest dropped; is the broker %s:%d up?",
                    self.config.queue_limit,
                    self.config.host,
                    self.config.port,
                )
            self._queue.append((topic, payload))
        self._wake.set()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until everything queued has been published (tests)."""
        async with asyncio.timeout(timeout):
            while self._queue:
                await asyncio.sleep(0.01)

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                async with aiomqtt.Client(
                    self.config.host or "127.0.0.1",
                    self.config.port,
                    username=self.config.username,
                    password=self.config.password,
                    clean_session=True,
                    keepalive=30,
                    timeout=10,
                ) as client:
                    attempt = 0
                    self.connected.set()
                    await self._publish_queued(client)
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                attempt += 1
                # full jitter: several VTN processes do not all reconnect to a restarted broker at once
                delay = random.uniform(MIN_BACKOFF / 2, min(MAX_BACKOFF, MIN_BACKOFF * 2**attempt))
                log.warning(
                    "MQTT notifier: broker %s:%d: %s; %d notification(s) waiting; connecting again in %.1f s",
                    self.config.host,
                    self.config.port,
                    exc,
                    len(self._queue),
                    delay,
                )
                await asyncio.sleep(delay)

    async def _publish_queued(self, client: aiomqtt.Client) -> None:
        while True:
            while self._queue:
                topic, payload = self._queue[0]
                await client.publish(topic, payload, qos=self.config.qos)
                self._queue.popleft()  # only once the broker took it: a cut connection re-sends it
                self.published += 1
            self._wake.clear()
            await self._wake.wait()
