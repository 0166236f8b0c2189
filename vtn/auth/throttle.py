"""Pausing a guesser: failed credential checks (UI passwords, API client secrets) counted per (name, client address),
with a wider cap per address, and the address itself — the TCP peer's, or what a trusted proxy forwarded.

An attempt is counted when it is reserved, before its credential is checked, and taken back when it was right:
concurrent attempts cannot all pass the check before any failure is counted (issue 22: 40 at once were
40 × 401, none throttled)."""

import contextlib
import time
from dataclasses import dataclass

from aiohttp import web

from vtn.oadr.security_config import ProxyTrust


class Throttled(Exception):
    """Too many recent failures: try again in `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"try again in {wait:.0f} s")
        self.wait = wait


@dataclass(frozen=True)
class Attempt:
    """An attempt counted before its credential is checked (`FailureThrottle.reserve`)."""

    keys: tuple[tuple[str, str], ...]
    at: float


class FailureThrottle:
    """At most `max_failures` failures of one name from one address within `window_s`, and
    `max_failures × ADDRESS_FACTOR` over all names from one address (trying one secret on many names is
    bounded too); then a pause until the oldest counted failure leaves the window."""

    #: how many more failures one address may have, over every name, than one name from it
    ADDRESS_FACTOR = 4
    #: past this many keys, expired ones are dropped (names an attacker makes up must not grow memory for ever)
    MAX_KEYS = 10_000

    def __init__(self, max_failures: int = 5, window_s: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[tuple[str, str], list[float]] = {}

    def reserve(self, name: str, client: str) -> Attempt:
        """Count an attempt of `name` from `client` now, or raise Throttled (counting nothing)."""
        now = time.monotonic()
        keys = ((name[:128], client), ("", client))
        limits = (self.max_failures, self.max_failures * self.ADDRESS_FACTOR)
        wait = max(self._wait(key, limit, now) for key, limit in zip(keys, limits, strict=True))
        if wait > 0:
            raise Throttled(wait)
        if len(self._failures) > self.MAX_KEYS:
            self._drop_expired(now)
        for key in keys:
            self._failures.setdefault(key, []).append(now)
        return Attempt(keys, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The credential was right: take the attempt back and clear its name's failures from that address."""
        self._failures.pop(attempt.keys[0], None)
        with contextlib.suppress(ValueError):
            self._failures.get(attempt.keys[1], []).remove(attempt.at)

    def _wait(self, key: tuple[str, str], limit: int, now: float) -> float:
        cutoff = now - self.window_s
        recent = [t for t in self._failures.get(key, []) if t > cutoff]
        self._failures[key] = recent
        return self.window_s - (now - recent[-limit]) if len(recent) >= limit else 0.0

    def _drop_expired(self, now: float) -> None:
        cutoff = now - self.window_s
        for key in [k for k, times in self._failures.items() if not times or times[-1] <= cutoff]:
            del self._failures[key]


def client_address(request: web.Request, proxy: ProxyTrust | None) -> str:
    """The client's address: the TCP peer's, or — when the peer is a configured trusted proxy ([proxy]) — the last
    address of X-Forwarded-For (the one that proxy appended; whatever a client wrote before it is not believed)."""
    peer = request.remote or "unknown"
    forwarded = request.headers.get("X-Forwarded-For", "")
    if proxy is not None and forwarded and proxy.trusts(peer):
        return forwarded.rsplit(",", 1)[-1].strip() or peer
    return peer
