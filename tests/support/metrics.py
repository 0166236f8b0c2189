"""Scraping /metrics in tests: the real endpoint, parsed with prometheus_client's own parser."""

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

#: (sample name, sorted label pairs) → value
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(session: aiohttp.ClientSession, url: str, token: str | None = None) -> Samples:
    """GET `url` (…/metrics), check it answers 200 in the Prometheus text format, and parse it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.get(url, headers=headers) as response:
        text = await response.text()
        assert response.status == 200, text
        assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is absent (a counter never incremented)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, pairs), v in samples.items() if n == name and wanted <= set(pairs))


def families(text: str) -> set[str]:
    """The metric family names in an exposition (as Prometheus queries name them, e.g. with `_total`)."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.update(sample.name for sample in family.samples)
        names.add(family.name + ("_total" if family.type == "counter" else ""))
    return names
