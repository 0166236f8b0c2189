"""Grid first, then market (pure): the priority bands, the VTN's rule by source, the one proportional split,
and a zone's kW shared by the sites' available flexibility as the sites file describes them."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping.dso.zones import EXPORT, IMPORT, SiteCapability, ZoneSite, delta_shares, flexibility_kw, limit_shares
from mapping.flexready.plans import PRIORITY
from mapping.precedence import GRID_HIGHEST, GRID_LOWEST, MARKET_HIGHEST, grid_priority, market_priority
from mapping.shares import proportional
from vtn.admin.events import ranked
from vtn.site_registry import capabilities_by_ven

ROOT = Path(__file__).resolve().parents[1]
priorities = st.one_of(st.none(), st.integers(min_value=0, max_value=10_000))


@given(priorities, priorities)
def test_every_grid_priority_outranks_every_market_priority(grid, market):
    """Whatever both asked for, the grid's event ranks higher (a lower number that is not 'none')."""
    ranked_grid, ranked_market = grid_priority(grid), market_priority(market)
    assert GRID_HIGHEST <= ranked_grid <= GRID_LOWEST
    assert not ranked_market or ranked_market >= MARKET_HIGHEST > ranked_grid


def test_the_bands():
    assert [grid_priority(p) for p in (None, 0, 1, 4, 9, 10, 500)] == [9, 9, 1, 4, 9, 9, 9]
    assert [market_priority(p) for p in (None, 0, 1, 10, 12)] == [None, 0, 10, 10, 12]
    assert sorted(PRIORITY.values()) == list(range(MARKET_HIGHEST, MARKET_HIGHEST + 4))  # the aggregator's own order kept


def test_the_vtn_ranks_by_source():
    assert ranked("dso:edf-sei", None) == GRID_LOWEST and ranked("dso:edf-sei/local-flex", 1) == 1
    assert ranked("aggregator:flex-co", 1) == MARKET_HIGHEST and ranked("aggregator:flex-co", None) is None
    assert ranked("cli", 1) == 1 and ranked("alice", None) is None  # the operator ranks by hand


@given(st.floats(-1e5, 1e5), st.dictionaries(st.text(min_size=1, max_size=3), st.floats(0, 1e3), min_size=1, max_size=8))
def test_proportional_shares_add_up(total, weights):
    shares = proportional(total, weights)
    assert set(shares) == set(weights) and sum(shares.values()) == pytest.approx(total, abs=1e-6)


def test_proportional_is_equal_when_no_site_weighs_and_empty_for_no_site():
    assert proportional(9.0, {"a": 0.0, "b": 0.0, "c": 0.0}) == {"a": 3.0, "b": 3.0, "c": 3.0}
    assert proportional(9.0, {}) == {}


def site(name: str, kva: float, device: str | None = None, kw: float = 0.0) -> ZoneSite:
    return ZoneSite(name, f"ven-{name}", SiteCapability(kva, device, kw))


def test_flexibility_by_device_and_direction():
    battery, pv, nothing = SiteCapability(36.0, "battery", 50.0), SiteCapability(9.0, "pv", 5.0), SiteCapability(9.0)
    assert flexibility_kw(battery, IMPORT) == flexibility_kw(battery, EXPORT) == 36.0  # at most its subscription
    assert flexibility_kw(SiteCapability(36.0, "evse", 22.0), IMPORT) == 22.0
    assert (flexibility_kw(pv, IMPORT), flexibility_kw(pv, EXPORT)) == (0.0, 5.0)  # PV can only be curtailed
    assert flexibility_kw(nothing, IMPORT) == flexibility_kw(nothing, EXPORT) == 0.0


def test_a_zone_limit_takes_the_reduction_from_the_flexible_sites():
    sites = (site("bat", 36.0, "battery", 50.0), site("pv", 9.0, "pv", 5.0))
    assert limit_shares(30.0, sites, IMPORT) == {"bat": 21.0, "pv": 9.0}  # 15 kW less, all of it the battery's
    # 45 kW less is more than the battery's 36: it goes to 0 kW, and the PV site, which cannot shed, keeps its 9
    assert limit_shares(0.0, sites, IMPORT) == {"bat": 0.0, "pv": 9.0}
    # an export limit: the PV roof can be curtailed too (36 and 5 kW of the 39 kW less)
    assert limit_shares(6.0, sites, EXPORT) == pytest.approx({"bat": 36 - 39 * 36 / 41, "pv": 9 - 39 * 5 / 41})
    plain = (site("a", 9.0), site("b", 27.0))  # no device anywhere: the limit shared by subscription
    assert limit_shares(12.0, plain, IMPORT) == {"a": 3.0, "b": 9.0}


def test_a_zone_change_is_shared_by_flexibility_in_its_direction():
    sites = (site("bat", 36.0, "battery", 50.0), site("evse", 36.0, "evse", 22.0), site("pv", 9.0, "pv", 5.0))
    assert delta_shares(-58.0, sites) == {"bat": -36.0, "evse": -22.0, "pv": 0.0}
    assert delta_shares(63.0, sites) == pytest.approx({"bat": 36.0, "evse": 22.0, "pv": 5.0})
    assert delta_shares(-10.0, (site("a", 9.0), site("b", 9.0))) == {"a": -5.0, "b": -5.0}


def test_capabilities_come_from_the_sites_file(tmp_path):
    shipped = capabilities_by_ven(ROOT / "config" / "sites.toml")
    assert len(shipped) == 40
    assert shipped["site-01"] == SiteCapability(9.0, "pv", 5.0) and shipped["site-11"] == SiteCapability(36.0, "battery", 50.0)
    assert shipped["site-21"] == SiteCapability(36.0, "evse", 22.0) and shipped["site-31"] == SiteCapability(18.0, "v2g", 11.0)
    sites = tmp_path / "sites.toml"
    sites.write_text('[[sites]]\nname = "a"\nven_name = "ven-a"\n[[sites]]\nname = "b"\ncontracted_kva = 12\n')
    assert capabilities_by_ven(sites) == {"ven-a": SiteCapability(9.0), "b": SiteCapability(12.0)}
    assert capabilities_by_ven(tmp_path / "absent.toml") == {}
