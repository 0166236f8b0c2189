"""Portfolios over real HTTP against a running VTN, on SQLite and PostgreSQL: an aggregator sees and
addresses only the sites it holds (another's site is a 404 exactly like a site that does not exist); a
dated switch ends the old owner's open orders at the switch and is audited; a newer series replaces an
older one for the same site and item (its remaining intervals end where the newer one begins); operators
manage portfolios in the UI, viewers only read them."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from mapping.flexready.clock import utc_text
from mapping.grid import floor_slot
from tests.support.aggregator import add_client, aggregator_config, connect, hold
from tests.support.ui import add_user, hidden, login
from tests.support.vtn_harness import VtnUnderTest, running_vtn
from vtn.aggregator import portfolio
from vtn.store import portfolio_repository as portfolio_repo
from vtn.store import repository as repo
from vtn.store import ui_repository as ui_repo

Q = timedelta(minutes=15)


@pytest.fixture
async def vtn(db_url: str) -> AsyncIterator[VtnUnderTest]:
    async with running_vtn(aggregator_config(db_url)) as running:
        yield running


def _at(vtn: VtnUnderTest, quarters: int) -> str:
    return utc_text(floor_slot(vtn.ctx.now()) + quarters * Q)


def _order(vtn: VtnUnderTest, order_id: str, site: str | None, start: int = 8, length: int = 4, **more: object) -> dict:
    body = {"client_order_id": order_id, "start": _at(vtn, start), "end": _at(vtn, start + length), "direction": "down"}
    return {**body, "power_kw": 5, **({"site": site} if site else {}), **more}


async def test_an_aggregator_cannot_see_read_or_order_another_s_sites(vtn):
    for name in ("site-a", "site-b"):
        await vtn.client.register(name)
    one = await connect(vtn, "agg-1", sites=["site-a"])
    two = await connect(vtn, "agg-2", sites=["site-b", "site-c"])

    _status, sites = await one.call("GET", "/sites")
    assert [s["site"] for s in sites["sites"]] == ["site-a"] and sites["groups"] == {"ab": ["site-a"]}
    assert sites["sites"][0]["held_since"] == "2000-01-01T00:00:00Z" and sites["sites"][0]["held_until"] is None
    _status, sites = await two.call("GET", "/sites")
    assert [s["site"] for s in sites["sites"]] == ["site-b", "site-c"] and sites["groups"] == {"ab": ["site-b"]}

    # another's site and a site that does not exist get the same answer: 404 naming the field
    for site in ("site-b", "site-zz"):
        status, body = await one.call("POST", "/orders", _order(vtn, f"o-{site}", site))
        assert (status, body["field"]) == (404, "site"), body
        assert body["detail"] == f"site: {site!r} is not a site of this portfolio (GET /flexready/v1/sites lists them)"
        series = {"series_id": f"s-{site}", "site": site, "item": "price", "start": _at(vtn, 8), "values": [0.2]}
        assert (await one.call("POST", "/series", series))[0] == 404
        status, body = await one.call("GET", f"/sites/{site}/measurements", start=_at(vtn, 0), end=_at(vtn, 1))
        assert (status, body["field"]) == (404, "site")
    # a group is only what the aggregator holds of it
    status, body = await one.call("POST", "/orders", _order(vtn, "o-group", None, group="ab", power_kw=6))
    assert status == 201, body
    assert [s["site"] for s in body["sites"]] == ["site-a"]
    # the other aggregator's orders stay its own, even on a site it now gets
    assert (await two.call("GET", "/orders/o-group"))[0] == 404
    assert (await two.call("GET", "/orders"))[1]["items"] == []


async def test_a_dated_switch_ends_the_old_owner_s_open_orders_and_is_audited(vtn):
    await vtn.client.register("site-a")
    one = await connect(vtn, "agg-1", sites=["site-a"])
    two = await connect(vtn, "agg-2", sites=())
    status, across = await one.call("POST", "/orders", _order(vtn, "across", "site-a", start=8, length=4))
    assert status == 201, across
    status, after = await one.call("POST", "/orders", _order(vtn, "after", "site-a", start=16, length=2))
    assert status == 201, after
    switch = floor_slot(vtn.ctx.now()) + 10 * Q  # in the middle of "across", before "after"

    await hold(vtn, "agg-2", ["site-a"], since=switch)

    live, _ = await vtn.ctx.store.call(repo.load_event, across["sites"][0]["event_id"])
    assert live.event.dtstart + live.event.duration == switch and not live.cancelled
    assert len(live.event.signals[0].intervals) == 2 and live.event.modification_number == 1
    live, _ = await vtn.ctx.store.call(repo.load_event, after["sites"][0]["event_id"])
    assert live.cancelled
    # agg-1 still reads its own orders; it may order on site-a up to the switch, not beyond (it knows the date)
    assert (await one.call("GET", "/orders/across"))[0] == 200
    _status, sites = await one.call("GET", "/sites")
    assert sites["sites"][0]["held_until"] == utc_text(switch)
    status, body = await one.call("POST", "/orders", _order(vtn, "late", "site-a", start=9, length=4))
    assert (status, body["field"]) == (400, "end"), body
    # agg-2 does not see site-a before the switch, and may order from the switch on
    assert (await two.call("GET", "/sites"))[1]["sites"] == []
    assert (await two.call("POST", "/orders", _order(vtn, "early", "site-a", start=9, length=2)))[0] == 404
    # a site held from this quarter hour: not for a window before it
    three = await connect(vtn, "agg-3", sites=())
    await hold(vtn, "agg-3", ["site-c"], since=floor_slot(vtn.ctx.now()))
    status, body = await three.call("POST", "/orders", _order(vtn, "c-1", "site-c", start=-4, length=2))
    assert (status, body["field"]) == (400, "start") and "from " + utc_text(floor_slot(vtn.ctx.now())) in body["detail"]

    holdings = await vtn.ctx.store.call(portfolio_repo.holdings, None, "site-a")
    assert [(h.client_id, h.until) for h in holdings] == [("agg-1", switch), ("agg-2", None)]
    log = await vtn.ctx.store.call(ui_repo.audit_log)
    moved = next(e for e in log if e["action"] == "portfolio_assign" and e["detail"]["client_id"] == "agg-2")
    assert moved["username"] == "cli:tests" and moved["target"] == "site site-a"
    assert moved["detail"]["from"] == "agg-1" and moved["detail"]["since"] == switch.isoformat()
    assert sorted(moved["detail"]["events_ended"]) == sorted([across["sites"][0]["event_id"], after["sites"][0]["event_id"]])
    # switches go in date order: an earlier one is refused, and so is a switch off the grid
    with pytest.raises(portfolio_repo.SwitchRefused):
        await vtn.admin(portfolio.assign, "agg-1", "site-a", switch - Q, "cli:tests", vtn.ctx.now(), timedelta(0))
    with pytest.raises(portfolio_repo.SwitchRefused):
        await vtn.admin(portfolio.assign, "agg-1", "site-a", switch + 20 * Q + timedelta(minutes=1), "x", vtn.ctx.now(), Q)


async def test_a_newer_series_replaces_the_older_one_for_the_same_site_and_item(vtn):
    await vtn.client.register("site-a")
    agg = await connect(vtn, "agg-1", sites=["site-a"])
    older = {"series_id": "p-1", "site": "site-a", "item": "price", "start": _at(vtn, 8), "values": [0.1] * 8}
    status, first = await agg.call("POST", "/series", older)
    assert status == 201 and first["sites"][0]["event_id"], first
    carbon = {"series_id": "c-1", "site": "site-a", "item": "carbon", "start": _at(vtn, 8), "values": [0.3] * 8}
    assert (await agg.call("POST", "/series", carbon))[0] == 201
    newer = {"series_id": "p-2", "site": "site-a", "item": "price", "start": _at(vtn, 12), "values": [0.2] * 4}
    status, second = await agg.call("POST", "/series", newer)
    assert status == 201 and second["sites"][0]["ack"]["state"] == "pending", second

    old, _ = await vtn.ctx.store.call(repo.load_event, first["sites"][0]["event_id"])
    assert old.event.dtstart + old.event.duration == floor_slot(vtn.ctx.now()) + 12 * Q  # ends where p-2 begins
    assert [i.value for i in old.event.signals[0].intervals] == [0.1] * 4
    kept, _ = await vtn.ctx.store.call(repo.load_event, (await agg.call("GET", "/series/c-1"))[1]["sites"][0]["event_id"])
    assert kept.event.modification_number == 0  # another item is not replaced
    # a newer series from the very start of the older one cancels it
    again = {**newer, "series_id": "p-3", "start": _at(vtn, 8), "values": [0.3]}
    assert (await agg.call("POST", "/series", again))[0] == 201
    old, _ = await vtn.ctx.store.call(repo.load_event, first["sites"][0]["event_id"])
    assert old.cancelled


async def test_operators_manage_portfolios_in_the_ui_and_viewers_only_read(vtn):
    await add_user(vtn.admin_store, "olga", "operator")
    await add_user(vtn.admin_store, "vic", "viewer")
    operator = await login(vtn.base_url, "olga")
    viewer = await login(vtn.base_url, "vic")
    try:
        async with operator.get(f"{vtn.base_url}/ui/portfolios") as page:
            html = await page.text()
            assert page.status == 200 and "No site in any portfolio yet." in html
        form = {"csrf": hidden(html, "csrf"), "client_id": "agg-9", "site": "site-b", "action": "assign", "at": ""}
        async with operator.post(f"{vtn.base_url}/ui/portfolios", data=form) as reply:
            assert reply.status == 400 and (await reply.text()).startswith("client_id:")  # not a client yet
        await add_client(vtn, "agg-9")
        async with operator.post(f"{vtn.base_url}/ui/portfolios", data=form) as reply:
            assert reply.status == 200 and "site-b given to agg-9" in await reply.text()
        holdings = await vtn.ctx.store.call(portfolio_repo.holdings, "agg-9")
        assert [(h.site, h.since, h.until) for h in holdings] == [("site-b", floor_slot(vtn.ctx.now()), None)]
        entry = (await vtn.ctx.store.call(ui_repo.audit_log))[0]
        assert (entry["username"], entry["action"], entry["detail"]["client_id"]) == ("olga", "portfolio_assign", "agg-9")
        async with operator.post(f"{vtn.base_url}/ui/portfolios", data={**form, "site": "site-zz"}) as reply:
            assert reply.status == 400 and (await reply.text()).startswith("site:")
        async with operator.post(f"{vtn.base_url}/ui/portfolios", data={**form, "at": "tomorrow"}) as reply:
            assert reply.status == 400 and (await reply.text()).startswith("at:")
        async with viewer.get(f"{vtn.base_url}/ui/portfolios") as page:
            html = await page.text()
            assert "agg-9" in html and 'id="portfolio-change"' not in html
        async with viewer.post(f"{vtn.base_url}/ui/portfolios", data={**form, "csrf": hidden(html, "csrf")}) as reply:
            assert reply.status == 403
    finally:
        await operator.close()
        await viewer.close()


async def test_a_supplier_publishes_prices_for_its_portfolio_only(vtn):
    await vtn.client.register("site-a")
    agg = await connect(vtn, "agg-1", sites=["site-a"])
    supplier = await connect(vtn, "sup-1", sites=["site-a"], scopes="supplier")  # beside the aggregator, not instead
    assert [s["site"] for s in (await agg.call("GET", "/sites"))[1]["sites"]] == ["site-a"]
    assert [s["site"] for s in (await supplier.call("GET", "/sites"))[1]["sites"]] == ["site-a"]

    tariff = {"series_id": "t-1", "site": "site-a", "item": "price", "unit": "EUR/MWh", "start": _at(vtn, 8), "values": [150]}
    status, body = await supplier.call("POST", "/series", tariff)
    assert status == 201 and body["sites"][0]["event_id"], body
    live, _ = await vtn.ctx.store.call(repo.load_event, body["sites"][0]["event_id"])
    assert live.event.signals[0].name == "ELECTRICITY_PRICE" and live.source == "aggregator:sup-1"
    assert live.event.priority is not None and live.event.priority >= 10  # the market band: every DSO limit outranks it
    status, body = await supplier.call("POST", "/series", {**tariff, "series_id": "m-1", "item": "max_power", "values": [5]})
    assert (status, body["field"]) == (403, "item")
    assert (await supplier.call("POST", "/orders", _order(vtn, "o-1", "site-a")))[0] == 403
    assert (await supplier.call("GET", "/offers", site="site-a", start=_at(vtn, 8), end=_at(vtn, 9)))[0] == 403
    assert (await supplier.call("POST", "/subscriptions", {"callback_url": "http://127.0.0.1/x"}))[0] == 403
    status, body = await supplier.call("POST", "/series", {**tariff, "series_id": "t-2", "site": "site-b"})
    assert (status, body["field"]) == (404, "site")
    assert (await agg.call("GET", "/series/t-1"))[0] == 404  # the supplier's series are its own
