"""POST /dso/signals/<kind> on the running VTN: realistic operator messages become events at the sites of
the configured zones (a 2.0b VEN receives them at its next poll), idempotent by the operator's message id;
malformed messages are refused with 400 naming the field, and nothing is stored."""

from collections.abc import AsyncIterator
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mapping.dso.common import AdapterSettings
from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.support.dso import Dso, add_client, token
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from vtn.config import ProgramConfig
from vtn.dso.config import DsoConfig

MARTINIQUE = ZoneInfo("America/Martinique")


@pytest.fixture
async def vtn_dso(db_url: str) -> AsyncIterator[VtnUnderTest]:
    """Our VTN with a zone (poste source) of two sites and every French adapter configured."""
    programs = (ProgramConfig("sei-evening-peak", "http://cariflex.mq/programs/sei-evening-peak", "SEI"),)
    programs += (ProgramConfig("dso-capacity", "http://cariflex.mq/programs/dso-capacity", "capacity"),)
    programs += (ProgramConfig("price", "http://cariflex.mq/programs/price", "price"),)
    lamentin = ("poste-lamentin",)
    signals = {
        "sei-peak": AdapterSettings("sei-evening-peak", lamentin),
        "ecowatt": AdapterSettings("sei-evening-peak", lamentin),
        "local-flex": AdapterSettings("dso-capacity"),
        "nebco": AdapterSettings("dso-capacity", lamentin),
        "tempo": AdapterSettings("price", lamentin, prices={"RED": (0.1568, 0.7562)}, peak_start=time(6), peak_end=time(22)),
    }
    dso = DsoConfig(zones={"poste-lamentin": ("site-01", "site-02")}, signals=signals)
    async with running_vtn(config_for_tests(db_url, programs=programs, dso=dso)) as running:
        yield running


async def signals_client(vtn) -> Dso:
    secret = await add_client(vtn, "edf-sei", scopes="write_events")
    base = f"{vtn.base_url}/dso"
    return Dso(vtn.client.session, base, await token(vtn.client.session, base, "edf-sei", secret))


async def ready(vtn, name: str) -> str:
    reg = await vtn.client.register(name)
    assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
    assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)
    return reg.ven_id


def tonight(vtn) -> str:
    return (vtn.ctx.now().astimezone(MARTINIQUE) + timedelta(days=1)).date().isoformat()


async def test_sei_evening_peak_alert_reaches_the_zone_sites_once(vtn_dso):
    vtn = vtn_dso
    site_01, site_02, outside = [await ready(vtn, n) for n in ("site-01", "site-02", "site-99")]
    dso = await signals_client(vtn)
    alert = {"alert_id": "SEI-ALERT-1", "date": tonight(vtn), "start": "18:00", "end": "21:00", "level": "RED"}
    status, answer = await dso.call("POST", "/signals/sei-peak", alert)
    assert status == 201 and answer["event_ids"] == [f"sei-peak-{alert['date']}"] and not answer["duplicate"]
    for ven_id in (site_01, site_02):
        reply = await vtn.client.poll(ven_id)
        assert isinstance(reply, m.DistributeEvent)
        (event,) = reply.events
        assert event.dtstart.astimezone(MARTINIQUE).hour == 18 and event.duration == timedelta(hours=3)
        assert [i.value for i in event.signals[0].intervals] == [3.0] * 12
        assert all(i.duration == timedelta(minutes=15) for i in event.signals[0].intervals)
    assert isinstance(await vtn.client.poll(outside), m.Response)

    status, again = await dso.call("POST", "/signals/sei-peak", alert)  # the same message twice: one event
    assert status == 200 and again["duplicate"] and again["event_ids"] == answer["event_ids"]
    assert len(vtn.ctx.live.events) == 1

    status, _ = await dso.call("POST", "/signals/sei-peak", {**alert, "alert_id": "SEI-ALERT-2", "level": "ORANGE"})
    assert status == 201  # a newer alert for the same evening modifies its event
    reply = await vtn.client.poll(site_01)
    (event,) = reply.events
    assert event.modification_number == 1 and event.signals[0].intervals[0].value == 2.0


async def test_local_flex_targets_its_zone_and_nebco_follows_the_profile(vtn_dso):
    vtn = vtn_dso
    site_01 = await ready(vtn, "site-01")
    dso = await signals_client(vtn)
    start = (vtn.ctx.now() + timedelta(hours=2)).astimezone(MARTINIQUE).replace(minute=0, second=0, microsecond=0)
    flex = {
        "activation_id": "ENEDIS-42",
        "zone": "poste-lamentin",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "power_kw": 35,
        "direction": "IMPORT",
        "mode": "LIMIT",
    }
    status, answer = await dso.call("POST", "/signals/local-flex", flex)
    assert status == 201, answer
    (event,) = (await vtn.client.poll(site_01)).events
    assert event.signals[0].name == "x-IMPORT_CAPACITY_LIMIT" and [i.value for i in event.signals[0].intervals] == [35.0] * 4
    await vtn.client.ack(site_01, (event,))

    order = {
        "order_id": "NEBCO-9",
        "start": (start + timedelta(hours=3)).isoformat(),
        "end": (start + timedelta(hours=3, minutes=30)).isoformat(),
        "delta_kw": [-50, -25],
    }
    assert (await dso.call("POST", "/signals/nebco", order))[0] == 201
    reply = await vtn.client.poll(site_01)
    nebco = next(e for e in reply.events if e.event_id == "nebco-NEBCO-9")
    assert (nebco.signals[0].name, nebco.signals[0].type) == ("LOAD_DISPATCH", "delta")
    assert [i.value for i in nebco.signals[0].intervals] == [-50.0, -25.0]


async def test_ecowatt_and_tempo_days(vtn_dso):
    vtn = vtn_dso
    dso = await signals_client(vtn)
    day = (vtn.ctx.now() + timedelta(days=2)).date()
    levels = [1] * 24
    levels[19] = 3
    ecowatt = {
        "signals": [
            {
                "GenerationFichier": f"{day.isoformat()}T00:00:00+01:00",
                "jour": f"{day.isoformat()}T00:00:00+01:00",
                "dvalue": 3,
                "values": [{"pas": h, "hvalue": v} for h, v in enumerate(levels)],
            }
        ]
    }
    status, answer = await dso.call("POST", "/signals/ecowatt", ecowatt)
    assert status == 201 and answer["event_ids"] == [f"ecowatt-{day.isoformat()}"]
    tempo = {
        "tempo_like_calendars": {
            "values": [
                {"start_date": f"{day}T00:00:00-04:00", "end_date": f"{day + timedelta(days=1)}T00:00:00-04:00", "value": "RED"}
            ]
        },
        "message_id": "tempo-1",
    }
    status, answer = await dso.call("POST", "/signals/tempo", tempo)
    assert status == 201
    event = vtn.ctx.live.events[answer["event_ids"][0]].event
    assert event.signals[0].name == "ELECTRICITY_PRICE" and len(event.signals[0].intervals) == 96


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("sei-peak", {"alert_id": "x", "date": "2026-12-01", "start": "18:07", "end": "21:00", "level": "RED"}, "start"),
        ("local-flex", {"activation_id": "x", "zone": "atlantis"}, "zone"),
        ("nebco", {"order_id": "x", "start": "2026-12-01T22:00:00Z", "end": "2026-12-01T23:00:00Z"}, "delta_kw"),
        ("tempo", {"tempo_like_calendars": {"values": []}, "message_id": "t"}, "tempo_like_calendars.values"),
        ("ecowatt", [1, 2, 3], "body"),
    ],
)
async def test_malformed_messages_are_400_naming_the_field(vtn_dso, kind, body, field):
    dso = await signals_client(vtn_dso)
    status, problem = await dso.call("POST", f"/signals/{kind}", body)
    assert status == 400 and problem["field"] == field, problem
    assert not vtn_dso.ctx.live.events


async def test_unknown_kind_and_missing_token(vtn_dso):
    dso = await signals_client(vtn_dso)
    assert (await dso.call("POST", "/signals/weather", {}))[0] == 404
    async with vtn_dso.client.session.post(f"{vtn_dso.base_url}/dso/signals/sei-peak", json={}) as response:
        assert response.status == 401
