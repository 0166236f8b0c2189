"""Grafana's provisioning files (config/grafana/provisioning/) parse, point at the dashboards folder the project
ships, and provide the data source uid the dashboard's panels use."""

import json
from pathlib import Path
from typing import Any

import yaml

from tests.support.dashboard import DASHBOARD, load

ROOT = Path(__file__).resolve().parents[1]
PROVISIONING = ROOT / "config" / "grafana" / "provisioning"
#: what docs/observability.md tells to set in Grafana's environment: the Cariflex checkout
HOME_VARIABLE = "${CARIFLEX_HOME}"


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert data["apiVersion"] == 1, path
    return data


def _datasource_uids(dashboard: dict[str, Any]) -> set[str]:
    """Every data source uid the panels and their targets name, variables resolved to their default."""
    defaults = {
        f"${{{variable['name']}}}": variable["current"]["value"]
        for variable in dashboard["templating"]["list"]
        if variable["type"] == "datasource"
    }
    uids = set()
    for panel in dashboard["panels"]:
        for holder in (panel, *panel.get("targets", [])):
            source = holder.get("datasource")
            if source is not None:
                uids.add(defaults.get(source["uid"], source["uid"]))
    return uids


def test_the_provisioned_datasource_is_the_one_the_dashboard_uses() -> None:
    (source,) = _yaml(PROVISIONING / "datasources" / "prometheus.yml")["datasources"]
    assert source["type"] == "prometheus" and source["url"].startswith("http")
    dashboard = load()
    assert _datasource_uids(dashboard) == {source["uid"]}
    (variable,) = (v for v in dashboard["templating"]["list"] if v["type"] == "datasource")
    assert variable["query"] == source["type"]


def test_the_dashboard_provider_points_at_the_shipped_dashboards() -> None:
    (provider,) = _yaml(PROVISIONING / "dashboards" / "cariflex.yml")["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    assert path.startswith(HOME_VARIABLE + "/"), path
    folder = ROOT / path.removeprefix(HOME_VARIABLE + "/")
    assert DASHBOARD.parent == folder
    dashboards = sorted(folder.glob("*.json"))
    assert DASHBOARD in dashboards
    uids = [json.loads(file.read_text())["uid"] for file in dashboards]
    assert len(set(uids)) == len(uids), uids
