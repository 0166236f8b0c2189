"""The Grafana dashboard, the Prometheus alert rules and docs/observability.md name only metrics that a running VTN
and a running VEN process expose on /metrics, and the documentation lists every metric they expose."""

import re
from dataclasses import replace
from pathlib import Path

import aiohttp

from observability.http import MetricsSettings
from tests.support.dashboard import load, panel_queries
from tests.support.eventually import eventually
from tests.support.metrics import families
from tests.support.ven_harness import running_ven, ven_config
from tests.support.vtn_harness import config_for_tests, running_vtn

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "observability.md"
RULES = ROOT / "config" / "prometheus" / "cariflex-rules.yml"
NAME = re.compile(r"\bcariflex_[a-z0-9_]+")
HISTOGRAM_PARTS = ("_bucket", "_count", "_sum")


async def _exposed(sqlite_url: str, tmp_path: Path) -> set[str]:
    """Every metric name a VTN and a VEN process expose, after one VEN registered and polled."""
    public = MetricsSettings(public=True)
    async with running_vtn(config_for_tests(sqlite_url, metrics=public)) as vtn, aiohttp.ClientSession() as http:
        config = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-a")
        async with running_ven(replace(config, metrics=MetricsSettings(public=True, port=0))) as ven:
            await eventually(lambda: ven.vens["site-a"].site.registration is not None, what="registration")
            await eventually(lambda: vtn.ctx.seen, what="a poll")
            await vtn.process.sync.flush_seen()  # the last-seen age gauge appears once a VEN was seen
            texts = []
            for url in (f"{vtn.base_url}/metrics", f"http://127.0.0.1:{ven.ops_port}/metrics"):
                async with http.get(url) as response:
                    assert response.status == 200
                    texts.append(await response.text())
    return set().union(*(families(text) for text in texts))


def _known(name: str, exposed: set[str]) -> bool:
    return name in exposed or any(name.endswith(part) and name.removesuffix(part) in exposed for part in HISTOGRAM_PARTS)


async def test_dashboard_rules_and_docs_use_only_exposed_metrics(sqlite_url, tmp_path):
    exposed = await _exposed(sqlite_url, tmp_path)
    queries = [expr for _title, expr in panel_queries(load())]
    assert len(queries) >= 20
    used = {name for query in queries for name in NAME.findall(query)}
    assert used and not {name for name in used if not _known(name, exposed)}
    in_rules = set(NAME.findall(RULES.read_text()))
    assert len(in_rules) >= 8 and not {name for name in in_rules if not _known(name, exposed)}
    documented = set(NAME.findall(DOC.read_text()))
    assert not {name for name in documented if not _known(name, exposed)}
    # and every exposed family is documented (histogram parts and counter base names aside)
    families_exposed = {n for n in exposed if not n.endswith(HISTOGRAM_PARTS) and (n + "_total") not in exposed}
    assert not families_exposed - documented
