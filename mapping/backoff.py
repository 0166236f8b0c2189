"""Exponential back-off with jitter: how long to wait after the n-th failure in a row. Pure: the draw is passed in."""

import random
from collections.abc import Callable

#: past this many failures the doubling stops growing the exponent (the cap holds long before)
_MAX_DOUBLINGS = 30


def backoff_delay(failures: int, base: float, cap: float, draw: Callable[[float, float], float] = random.uniform) -> float:
    """Seconds to wait after `failures` failures in a row (1 for the first): a ceiling of `base` doubled per failure,
    at most `cap`, and a draw between half that ceiling and the ceiling — so the wait grows after each failure and
    many clients that failed together do not all come back at once."""
    ceiling = min(cap, base * 2 ** min(max(failures, 0), _MAX_DOUBLINGS))
    return draw(ceiling / 2, ceiling)
