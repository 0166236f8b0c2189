"""The `[aggregator]` configuration section: sites with subscribed power and objective, checked at start-up."""

from pathlib import Path

import pytest

from mapping.settings import ConfigError
from vtn.config import parse_config


def parse(section: dict) -> object:
    return parse_config({"aggregator": section}, Path("."), {}).aggregator


def test_the_section_gives_sites_groups_and_the_kw_cap():
    sites = {"s1": {"subscribed_kva": 10}, "s2": {"subscribed_kva": 6, "objective": "co2"}}
    config = parse({"program": "p", "power_factor": 0.9, "sites": sites})
    portfolio = config.portfolio({"g": ("s1", "s2", "other"), "none": ("other",)})
    assert portfolio.groups == {"g": ("s1", "s2")} and portfolio.max_kw("s1") == pytest.approx(9.0)
    assert config.sites["s2"].objective == "co2" and not config.accept_past_windows
    assert parse({}).program_id is None  # absent: the API is not mounted


@pytest.mark.parametrize(
    ("section", "where"),
    [
        ({"program": "p", "sites": {"s1": {}}}, "aggregator.sites.s1.subscribed_kva"),
        ({"program": "p", "sites": {"s1": {"subscribed_kva": -1}}}, "aggregator.sites.s1.subscribed_kva"),
        ({"program": "p", "sites": {"s1": {"subscribed_kva": 9, "objective": "fun"}}}, "aggregator.sites.s1.objective"),
        ({"program": "p", "power_factor": 1.5}, "aggregator.power_factor"),
        ({"program": "p", "colour": "red"}, "aggregator.colour"),
        ({"sites": {}}, "aggregator.program"),
    ],
)
def test_mistakes_name_the_key(section, where):
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        parse(section)
