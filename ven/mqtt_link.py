"""One MQTT broker connection, kept up for as long as the VEN runs: the telemetry intake and the setpoint
dispatch each hold one (ven/telemetry_mqtt.py, ven/dispatch_mqtt.py)."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import aiomqtt

from ven.config import MqttSettings

log = logging.getLogger("cariflex.ven.mqtt")


class MqttLink:
    """Connects to the broker of `settings` and runs `session(client)` while connected; after a broker restart or
    a network cut it connects again with back-off (clean session: the session subscribes again)."""

    def __init__(self, settings: MqttSettings, name: str, session: Callable[[aiomqtt.Client], Awaitable[None]]) -> None:
        self.settings = settings
        self.name = name
        self.session = session
        #: sessions that got as far as running `session` (a reconnection makes it 2)
        self.connections = 0
        self.connected = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Start the connection loop in the background (it never gives up while the VEN runs)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Disconnect and end the loop."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.connected.clear()

    async def _run(self) -> None:
        attempt = 0
        while True:
            up_before = self.connections
            try:
                await self._connected_session()
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                attempt = 0 if self.connections > up_before else attempt + 1  # a session that worked resets the back-off
                delay = self._backoff(attempt)
                log.warning(
                    "%s: MQTT broker %s:%d: %s; connecting again in %.1f s",
                    self.name,
                    self.settings.host,
                    self.settings.port,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential with full jitter, capped: VEN processes do not all hit a restarted broker at once."""
        base, cap = self.settings.min_backoff.total_seconds(), self.settings.max_backoff.total_seconds()
        return random.uniform(base / 2, min(cap, base * 2**attempt))

    async def _connected_session(self) -> None:
        client = aiomqtt.Client(
            self.settings.host,
            self.settings.port,
            username=self.settings.username,
            password=self.settings.password,
            identifier=f"{self.settings.client_id}-{self.name}" if self.settings.client_id else None,
            clean_session=True,
            keepalive=self.settings.keepalive,
            timeout=10,
        )
        try:
            async with client:
                self.connections += 1
                self.connected.set()
                await self.session(client)
        finally:
            _read_disconnection(client)


def _read_disconnection(client: aiomqtt.Client) -> None:
    """Mark an unexpected disconnection as seen. aiomqtt keeps it as a future's exception that only its message
    iterator reads; when the session ended elsewhere (a publish, a cancellation) asyncio would later log 'Future
    exception was never retrieved' at ERROR, while the loop above already logged the loss and reconnects."""
    disconnected = getattr(client, "_disconnected", None)
    if isinstance(disconnected, asyncio.Future) and disconnected.done() and not disconnected.cancelled():
        disconnected.exception()
