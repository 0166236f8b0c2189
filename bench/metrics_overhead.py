"""What the metrics add to one oadrPoll, in CPU time: the Tally operations the poll path performs
(message count, poll answer, HTTP request count and latency histogram, two clock reads), timed in a
loop, next to the time one poll takes end to end (from bench/poll_bench.py). Example::

    .venv/bin/python bench/metrics_overhead.py --polls 1000000
"""

import argparse
import time
from time import perf_counter

from cariflex.tally import Tally
from vtn import metrics


def per_poll_bookkeeping(tally: Tally, n: int) -> float:
    """Seconds per poll for the metric work the VTN adds to a poll (same calls, same label tuples)."""
    labels = ("OadrPoll", "oadrPoll", "200")
    started = time.perf_counter()
    for _ in range(n):
        start = perf_counter()  # the middleware's two clock reads
        tally.inc(metrics.OADR_MESSAGES, labels)
        tally.inc(metrics.POLL_ANSWERS, ("oadrResponse",))
        tally.inc(metrics.HTTP_REQUESTS, ("openadr2b", "200"))
        tally.observe(metrics.HTTP_DURATION, ("openadr2b",), perf_counter() - start)
    return (time.perf_counter() - started) / n


def main() -> None:
    """Print the per-poll cost in microseconds (best of 5 runs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=1_000_000)
    args = parser.parse_args()
    best = min(per_poll_bookkeeping(Tally(), args.polls) for _ in range(5))
    print(f"metric bookkeeping per poll: {best * 1e6:.2f} µs (best of 5 × {args.polls:,} polls)")


if __name__ == "__main__":
    main()
