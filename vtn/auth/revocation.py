"""Disabled clients, re-read from the store at most every `refresh` (tokens they hold stop working then)."""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta


class DisabledClients:
    """The set of disabled client ids, cached so a request costs no store call most of the time."""

    def __init__(
        self,
        load: Callable[[], Awaitable[frozenset[str]]],
        clock: Callable[[], datetime],
        refresh: timedelta = timedelta(seconds=10),
    ) -> None:
        self.load = load
        self.clock = clock
        self.refresh = refresh
        self._ids: frozenset[str] = frozenset()
        self._loaded_at: datetime | None = None

    async def contains(self, client_id: str) -> bool:
        """True when the client is disabled (as of at most `refresh` ago)."""
        now = self.clock()
        if self._loaded_at is None or now - self._loaded_at >= self.refresh:
            self._ids = await self.load()
            self._loaded_at = now
        return client_id in self._ids
