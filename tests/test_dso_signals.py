"""POST /dso/signals/<kind> on the running VTN: realistic operator messages become events at the sites of
the configured zones (a 2.0b VEN receives them at its next poll), idempotent by the operator's message id;
a zone's kW shared among its registered sites by flexibility (the sites file's devices); two mechanisms
overlapping on one program coexist; malformed messages are refused with 400 naming the field, and nothing
is stored."""

from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
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
PARIS = ZoneInfo("Europe/Paris")
Q = timedelta(minutes=15)


@pytest.fixture
async def vtn_dso(db_url: str) -> AsyncIterator[VtnUnderTest]:
    """Our VTN with zones (poste source) and every French adapter configured: EDF SEI's alert on Martinique's
    program, the mainland's kinds on mainland programs (as config/vtn.example.toml shows them)."""
    programs = (ProgramConfig("sei-evening-peak", "http://cariflex.mq/programs/sei-evening-peak", "SEI"),)
    programs += tuple(ProgramConfig(p, f"http://cariflex.fr/programs/{p}", p) for p in ("mainland-ecowatt", "mainland-tempo"))
    programs += (ProgramConfig("mainland-flex", "http://cariflex.fr/programs/mainland-flex", "local flexibility and NEBCO"),)
    lamentin = ("poste-lamentin",)
    prices = {"RED": (0.1568, 0.7562)}
    signals = {
        "sei-peak": AdapterSettings("sei-evening-peak", lamentin),
        "ecowatt": AdapterSettings("mainland-ecowatt", lamentin),
        "local-flex": AdapterSettings("mainland-flex"),
        "nebco": AdapterSettings("mainland-flex", lamentin),
        "tempo": AdapterSettings("mainland-tempo", lamentin, prices=prices, peak_start=time(6), peak_end=time(22)),
    }
    # poste-saint-joseph: a 50 kW battery (site-11, 36 kVA), a 22 kW EV charger (site-21, 36 kVA), a PV roof (site-01, 9 kVA)
    zones = {"poste-lamentin": ("site-01", "site-02"), "poste-saint-joseph": ("site-11", "site-21", "site-01")}
    dso = DsoConfig(zones=zones, signals=signals)
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
    status, answer = await dso.call("POST", "/signals/nebco", order)
    assert status == 201 and answer["event_ids"] == ["nebco-NEBCO-9-site-01"]  # site-02 has not registered: no share
    assert answer["notes"] == ["site-02: not registered, no share (the zone's kW is shared among its registered sites)"]
    reply = await vtn.client.poll(site_01)
    nebco = next(e for e in reply.events if e.event_id == "nebco-NEBCO-9-site-01")
    assert (nebco.signals[0].name, nebco.signals[0].type) == ("LOAD_DISPATCH", "delta")
    assert [i.value for i in nebco.signals[0].intervals] == [-50.0, -25.0]


async def test_a_zone_limit_is_shared_by_the_sites_flexibility(vtn_dso):
    vtn = vtn_dso
    ven_ids = {name: await ready(vtn, name) for name in ("site-11", "site-21", "site-01")}
    dso = await signals_client(vtn)
    start = (vtn.ctx.now() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    flex = {
        "activation_id": "ENEDIS-43",
        "zone": "poste-saint-joseph",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(),
        "power_kw": 23,
        "direction": "IMPORT",
    }
    status, answer = await dso.call("POST", "/signals/local-flex", flex)
    assert status == 201, answer
    caps = {}
    for name, ven_id in ven_ids.items():
        (event,) = (await vtn.client.poll(ven_id)).events
        assert event.event_id == f"flex-ENEDIS-43-{name}" and event.target.ven_ids == (ven_id,)
        caps[name] = event.signals[0].intervals[0].value
    # 81 kVA subscribed, 23 kW allowed: the 58 kW less fall on the battery and the charger (36 and 22 kW of
    # flexibility, the sites file's devices), none on the PV roof, which keeps its subscription
    assert caps == pytest.approx({"site-11": 0.0, "site-21": 14.0, "site-01": 9.0})
    assert sum(caps.values()) == pytest.approx(23.0)


async def test_a_zone_none_of_whose_sites_registered_is_a_conflict(vtn_dso):
    dso = await signals_client(vtn_dso)
    start = (vtn_dso.ctx.now() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    flex = {"activation_id": "E-1", "zone": "poste-lamentin", "start": start.isoformat()}
    flex |= {"end": (start + timedelta(minutes=15)).isoformat(), "power_kw": 5, "direction": "IMPORT"}
    status, problem = await dso.call("POST", "/signals/local-flex", flex)
    assert status == 409 and "no site of poste-lamentin has registered" in problem["detail"], problem
    assert not vtn_dso.ctx.live.events
    site_01 = await ready(vtn_dso, "site-01")  # once a site registers, the same message is carried
    assert (await dso.call("POST", "/signals/local-flex", flex))[0] == 201
    assert (await vtn_dso.client.poll(site_01)).events[0].event_id == "flex-E-1-site-01"


async def test_two_mechanisms_overlapping_on_one_program_coexist(vtn_dso):
    vtn = vtn_dso
    site_01 = await ready(vtn, "site-01")
    dso = await signals_client(vtn)
    start = (vtn.ctx.now() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    window = {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}
    flex = {"activation_id": "ENEDIS-50", "zone": "poste-lamentin", "power_kw": 6, "direction": "IMPORT", **window}
    order = {"order_id": "NEBCO-50", "delta_kw": -4, **window}  # the same program (mainland-flex), window and site
    assert (await dso.call("POST", "/signals/local-flex", flex))[0] == 201
    status, answer = await dso.call("POST", "/signals/nebco", order)
    assert status == 201, answer  # refused before: an event of the same program and priority covered the window
    events = (await vtn.client.poll(site_01)).events
    assert {e.event_id for e in events} == {"flex-ENEDIS-50-site-01", "nebco-NEBCO-50-site-01"}
    assert {e.priority for e in events} == {1}  # both at the top of the grid band: the VEN holds both

    again = {**flex, "activation_id": "ENEDIS-51"}  # the same mechanism twice over one window: still refused
    status, problem = await dso.call("POST", "/signals/local-flex", again)
    assert status == 409 and "flex-ENEDIS-50-site-01" in problem["detail"]


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
                {"start_date": f"{day}T00:00:00+01:00", "end_date": f"{day + timedelta(days=1)}T00:00:00+01:00", "value": "RED"}
            ]
        },
        "message_id": "tempo-1",
    }
    status, answer = await dso.call("POST", "/signals/tempo", tempo)
    assert status == 201 and answer["event_ids"] == [f"tempo-{day.isoformat()}"]
    event = vtn.ctx.live.events[answer["event_ids"][0]].event
    paris_start = datetime.combine(day, time(6), tzinfo=PARIS)  # RTE's Tempo day: 06:00 to 06:00, Paris time
    paris_end = datetime.combine(day + timedelta(days=1), time(6), tzinfo=PARIS)
    assert event.dtstart == paris_start and event.dtstart + event.duration == paris_end
    assert event.signals[0].name == "ELECTRICITY_PRICE" and len(event.signals[0].intervals) == (paris_end - paris_start) / Q
    assert event.signals[0].intervals[0].value == 0.7562 and event.signals[0].intervals[-1].value == 0.1568


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
