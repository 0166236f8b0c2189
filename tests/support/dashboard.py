"""The Grafana dashboard the project ships (config/grafana/dashboards/) and the queries of its panels."""

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "config" / "grafana" / "dashboards" / "cariflex-dashboard.json"


def load() -> dict[str, Any]:
    """The dashboard's JSON model."""
    return json.loads(DASHBOARD.read_text())


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL expr) of every panel target, in the dashboard's order."""
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]
