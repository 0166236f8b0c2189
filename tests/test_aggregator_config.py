"""The `[aggregator]` configuration section: sites from the sites file or configured, with subscribed
power and objective, checked at start-up."""

from pathlib import Path

import pytest

from mapping.settings import ConfigError
from vtn.config import parse_config
from vtn.site_registry import contracted_kw_by_ven
from vtn.ui.settings import DEFAULT_SITES


def parse(section: dict) -> object:
    return parse_config({"aggregator": section}, Path("."), {}).aggregator


def test_sites_come_from_the_sites_file_and_the_section_overrides_them():
    sites = {"site-07": {"objective": "co2"}, "extra": {"subscribed_kva": 6}}
    config = parse({"program": "p", "power_factor": 0.9, "sites": sites})
    portfolio = config.portfolio({"g": ("site-07", "extra", "other"), "none": ("other",)}, contracted_kw_by_ven(DEFAULT_SITES))
    assert len(portfolio.sites) == 41 and portfolio.groups == {"g": ("site-07", "extra")}
    assert portfolio.sites["site-07"].objective == "co2" and portfolio.sites["site-07"].subscribed_kva == 9.0
    assert portfolio.max_kw("extra") == pytest.approx(5.4) and portfolio.max_kw("site-11") == pytest.approx(32.4)
    assert not config.accept_past_windows
    assert parse({}).program_id is None  # absent: the API is not mounted


def test_without_the_sites_file_every_site_needs_its_subscribed_power():
    config = parse({"program": "p", "use_sites_file": False, "sites": {"site-07": {"objective": "co2"}}})
    with pytest.raises(ConfigError, match=r"aggregator\.sites\.site-07\.subscribed_kva"):
        config.portfolio({}, {"site-07": 36.0})
    config = parse({"program": "p", "use_sites_file": False, "sites": {"s1": {"subscribed_kva": 10}}})
    assert list(config.portfolio({}, {"site-07": 36.0}).sites) == ["s1"]


@pytest.mark.parametrize(
    ("section", "where"),
    [
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
