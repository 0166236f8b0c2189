"""The bound on what one RM connection may send: a token bucket of messages per second."""

import time
from collections.abc import Callable


class RateLimit:
    """`rate` messages per second on average, bursts of `burst`; `allow()` says whether one more may pass."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._tokens = burst
        self._last = clock()

    def allow(self) -> bool:
        """Take one token when there is one."""
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
