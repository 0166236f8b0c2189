"""Cheap in-process counters and histograms, turned into Prometheus metric families at scrape time.

The hot paths (a VTN poll, a VEN poll cycle) only add to plain dicts: no locks, no label objects.
`Tally` is written from one thread (the event loop of its process) and read by the collector on the
same loop when /metrics is scraped, so it needs no synchronisation. One `Tally` per process, held by
the process context (never a module-level global).
"""

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

#: latency buckets (seconds): a poll answered from memory takes well under a millisecond, a store call a few
LATENCY_BUCKETS: tuple[float, ...] = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Spec:
    """What a tallied metric is called and means. `kind` is "counter" or "histogram"."""

    name: str
    kind: str
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = LATENCY_BUCKETS


@dataclass
class _Histogram:
    counts: list[int]
    total: float = 0.0


@dataclass
class Tally:
    """Counts keyed by metric name and label values; histograms with fixed buckets."""

    counts: dict[str, dict[tuple[str, ...], float]] = field(default_factory=dict)
    histograms: dict[str, dict[tuple[str, ...], _Histogram]] = field(default_factory=dict)
    buckets: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def inc(self, name: str, labels: tuple[str, ...] = (), by: float = 1) -> None:
        """Add `by` to the counter `name` with these label values."""
        series = self.counts.get(name)
        if series is None:
            series = self.counts[name] = {}
        series[labels] = series.get(labels, 0) + by

    def observe(self, name: str, labels: tuple[str, ...], value: float) -> None:
        """Record one observation (e.g. a duration in seconds) in the histogram `name`."""
        series = self.histograms.get(name)
        if series is None:
            series = self.histograms[name] = {}
        hist = series.get(labels)
        if hist is None:
            bounds = self.buckets.get(name, LATENCY_BUCKETS)
            hist = series[labels] = _Histogram([0] * (len(bounds) + 1))
        hist.counts[bisect_left(self.buckets.get(name, LATENCY_BUCKETS), value)] += 1
        hist.total += value

    def value(self, name: str, labels: tuple[str, ...] = ()) -> float:
        """The current count of a counter series (0 when never incremented)."""
        return self.counts.get(name, {}).get(labels, 0)


def families(tally: Tally, specs: Iterable[Spec]) -> Iterator[Metric]:
    """The Prometheus families of `specs`, with what `tally` holds (declared metrics appear even at zero)."""
    for spec in specs:
        if spec.kind == "counter":
            counter = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
            for labels, count in list(tally.counts.get(spec.name, {}).items()):
                counter.add_metric(list(labels), count)
            yield counter
        else:
            hist_family = HistogramMetricFamily(spec.name, spec.help, labels=spec.labels)
            for labels, hist in list(tally.histograms.get(spec.name, {}).items()):
                hist_family.add_metric(list(labels), _cumulative(spec.buckets, hist.counts), hist.total)
            yield hist_family


def _cumulative(bounds: Sequence[float], counts: Sequence[int]) -> list[tuple[str, float]]:
    running, out = 0, []
    for bound, count in zip(bounds, counts, strict=False):
        running += count
        out.append((_bound(bound), running))
    out.append(("+Inf", running + counts[-1]))
    return out


def _bound(value: float) -> str:
    return repr(float(value))


def gauge(name: str, help_text: str, value: float | None = None, labels: Sequence[str] = ()) -> GaugeMetricFamily:
    """A gauge family (with one unlabelled value when `value` is given)."""
    return GaugeMetricFamily(name, help_text, value=value, labels=None if value is not None else list(labels))


class TallyCollector(Collector):
    """Exposes a Tally's declared metrics on a CollectorRegistry."""

    def __init__(self, tally: Tally, specs: Sequence[Spec]) -> None:
        self.tally = tally
        self.specs = tuple(specs)
        for spec in self.specs:
            if spec.kind == "histogram":
                tally.buckets[spec.name] = spec.buckets

    def collect(self) -> Iterator[Metric]:
        """Called by the registry at every scrape."""
        yield from families(self.tally, self.specs)

    def describe(self) -> Iterator[Metric]:
        """The families without values (lets the registry check for duplicate names at registration)."""
        yield from families(Tally(), self.specs)
