"""Grid first, then market, on the running VTN: a DSO's 5 kW cap and an aggregator's conflicting 30 kW
order on one site become events whose priorities make the cap win at the VEN (`mapping.flex.combine`),
whatever priority the DSO asked for and through either door (the OpenADR 3 API, the French signals)."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from mapping.dso.common import AdapterSettings
from mapping.flex.combine import combine
from mapping.flex.constraints import IMPORT_LIMIT, SiteFacts, event_constraints
from mapping.flexready.clock import utc_text
from mapping.grid import floor_slot
from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.precedence import GRID_LOWEST, MARKET_HIGHEST
from tests.support.aggregator import aggregator_config
from tests.support.aggregator import connect as connect_aggregator
from tests.support.api_clients import BearerClient, token
from tests.support.dso import add_client as add_dso_client
from tests.support.dso import connect as connect_dso
from tests.support.vtn_harness import VtnUnderTest, running_vtn
from vtn.config import ProgramConfig
from vtn.dso.config import DsoConfig
from vtn.store import repository as repo

Q = timedelta(minutes=15)
CAPACITY = ProgramConfig("dso-capacity", "http://cariflex.mq/programs/dso-capacity", "DSO capacity limits")


@pytest.fixture
async def vtn(db_url: str) -> AsyncIterator[VtnUnderTest]:
    """The aggregator API (program `test`, site-a of 36 kVA) and the DSO doors (program dso-capacity, zone of site-a)."""
    config = aggregator_config(db_url)
    dso = DsoConfig(zones={"poste-a": ("site-a",)}, signals={"local-flex": AdapterSettings("dso-capacity")})
    async with running_vtn(replace(config, programs=(*config.programs, CAPACITY), dso=dso)) as running:
        yield running


async def _ready(vtn: VtnUnderTest, name: str) -> str:
    reg = await vtn.client.register(name)
    assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
    assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)
    return reg.ven_id


async def _dso_cap(vtn: VtnUnderTest, door: str, start: str, end: str, priority: int | None) -> None:
    """A 5 kW import cap on site-a from `start` to `end`, through the OpenADR 3 API or the local-flex signal."""
    if door == "openadr3":
        body = {
            "programID": "dso-capacity",
            "intervalPeriod": {"start": start, "duration": "PT15M"},
            "payloadDescriptors": [{"payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"}],
            "intervals": [{"id": i, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [5.0]}]} for i in range(4)],
            "targets": [{"type": "VEN_NAME", "values": ["site-a"]}],
            **({} if priority is None else {"priority": priority}),
        }
        status, answer = await (await connect_dso(vtn, "edf-sei")).call("POST", "/events", body)
    else:
        base = f"{vtn.base_url}/dso"
        secret = await add_dso_client(vtn, "edf-sei", scopes="write_events")
        signals = BearerClient(vtn.client.session, base, await token(vtn.client.session, base, "edf-sei", secret))
        flex = {"activation_id": "E-5", "zone": "poste-a", "start": start, "end": end, "power_kw": 5, "direction": "IMPORT"}
        status, answer = await signals.call("POST", "/signals/local-flex", flex)
    assert status == 201, answer


@pytest.mark.parametrize(("door", "priority"), [("openadr3", None), ("openadr3", 40), ("local-flex", None)])
async def test_a_dso_cap_outranks_a_conflicting_aggregator_order(vtn, door, priority):
    ven_id = await _ready(vtn, "site-a")
    first = floor_slot(vtn.ctx.now()) + 8 * Q
    start, end = utc_text(first), utc_text(first + 4 * Q)
    await _dso_cap(vtn, door, start, end, priority)
    agg = await connect_aggregator(vtn, "agg-1")
    order = {"client_order_id": "o-30", "site": "site-a", "start": start, "end": end, "direction": "down", "power_kw": 30}
    status, placed = await agg.call("POST", "/orders", order)
    assert status == 201 and placed["sites"][0]["event_id"], placed  # a separate event, not refused

    reply = await vtn.client.poll(ven_id)
    assert isinstance(reply, m.DistributeEvent)
    by_source = {}
    for event in reply.events:
        live, _closed = await vtn.ctx.store.call(repo.load_event, event.event_id)
        by_source[live.source.partition(":")[0]] = event
    cap, bid = by_source["dso"], by_source["aggregator"]
    assert 1 <= cap.priority <= GRID_LOWEST < MARKET_HIGHEST == bid.priority  # the grid band, then the market band
    assert reply.events[0] is cap  # delivered first: the higher priority

    # the VEN's rule: at any instant the highest priority wins — the DSO's 5 kW, not the aggregator's 30 kW
    site = SiteFacts(contracted_kw=36.0)
    (segment,) = combine(c for e in reply.events for c in event_constraints(e, site))[IMPORT_LIMIT]
    assert (segment.start, segment.end, segment.value) == (first, first + 4 * Q, 5.0)
