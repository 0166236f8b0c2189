"""Issue 23 end to end on a real FlexMeasures 1.0.1, in real time: an aggregator asks the availability of a group
of two battery sites, orders the amount offered for the earliest quarter hour the API accepts, is told by signed
webhooks that the sites acknowledged and that the window started, ended and was measured, and reads the delivered
figures — each consistent with the meters. The offer rests on each battery's state of charge as its VEN reported it
(TELEMETRY_STATUS, the reading FlexMeasures plans from).

Everything runs for real: our VTN with the aggregator API, our VEN process for both sites planning on FlexMeasures,
the machine's Mosquitto, and the demo's site simulator (demo/simulator.py) as the sites: households whose batteries
obey only the setpoints their VEN dispatches over MQTT (it never sees the order), publishing their meters as a
site's IoT layer would. Delivered figures exist only once the window is over — a real quarter hour — so the test
is marked `quarter_hour`: `make test` runs it in the quarter-hour stage, beside the rest (scripts/run-tests.sh).
"""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from demo.simulator import SiteSimulator, new_site
from demo.world import MARTINIQUE, household_kw
from mapping.curtailment import DEFAULT_MAX_HOLD, Sample, resample
from mapping.flexready.clock import utc_text
from mapping.flexready.notices import verify
from mapping.flexready.offers import reported_soc
from mapping.grid import QUARTER, floor_slot
from tests.support.aggregator import aggregator_config, connect
from tests.support.eventually import eventually
from tests.support.flexmeasures import FlexMeasuresServer
from tests.support.mqtt import BROKER_PORT, ensure_machine_broker
from tests.support.ven_harness import ven_config
from tests.support.vtn_harness import VtnUnderTest, running_vtn
from tests.support.webhooks import receiving
from ven.config import FlexMeasuresSettings, MqttSettings, SiteConfig
from ven.runner import VenProcess
from vtn.config import AutoReport
from vtn.store import report_repository as reports
from vtn.store import repository as repo

pytestmark = [pytest.mark.flexmeasures, pytest.mark.quarter_hour]

#: a home battery smaller than the household's lowest import (4 kW × 0.5 at night): it can give all its power
#: without the site exporting, so the offer is the battery's power whatever the hour
BATTERY = {"kind": "battery", "power_kw": 1.5, "capacity_kwh": 10.0, "reserve_percent": 10}
BASE_LOAD_KW = 4.0
#: the meters' history published at start: the hour the baseline reads before the window, and some
HISTORY = timedelta(minutes=75)
#: the current quarter hour is ordered when this much of it remains (the VEN plans and dispatches within about a
#: minute), else the next one: from the order, 8 to 23 minutes to the end of the window
ENOUGH_LEFT = timedelta(minutes=8)
#: a notice this close to a quarter hour's turn waits for the turn (which quarter hour is "current" stays clear)
TURN = timedelta(minutes=1)


def _sites() -> tuple[SiteConfig, ...]:
    tag = uuid.uuid4().hex[:6]  # the machine's broker is shared: topics of this run only
    place = {"contracted_kva": 9.0, "base_load_kw": BASE_LOAD_KW, "latitude": 14.6, "longitude": -61.07}
    return tuple(SiteConfig(name=f"qh-{tag}-{n}", ven_name=f"qh-{tag}-{n}", asset=BATTERY, **place) for n in (1, 2))  # type: ignore[arg-type]


def _sites_file(path: Path, sites: tuple[SiteConfig, ...]) -> Path:
    """The platform's sites file as the VTN reads it (devices for the offers, subscribed power)."""
    entries = [
        f'[[sites]]\nname = "{s.name}"\ncontracted_kva = {s.contracted_kva}\n[sites.asset]\n'
        + "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in s.asset.items())
        for s in sites
    ]
    path.write_text("\n".join(entries))
    return path


@asynccontextmanager
async def _platform(
    db_url: str, tmp_path: Path, fm: FlexMeasuresServer, sites: tuple[SiteConfig, ...]
) -> AsyncIterator[tuple[VtnUnderTest, VenProcess, SiteSimulator]]:
    """The VTN (aggregator API, webhooks to loopback), the sites' VEN process on FlexMeasures and MQTT, and the
    simulated sites publishing their meters (the last 75 minutes at once, then every 5 s)."""
    config = aggregator_config(db_url, poll_interval=timedelta(seconds=1), curtailment_after=timedelta(0))
    aggregator = replace(
        config.aggregator,
        use_sites_file=True,
        sites={},
        accept_past_windows=False,  # the production rule: the earliest window is the quarter hour under way
        callback_hosts=frozenset({"127.0.0.1"}),
        notify_interval=timedelta(seconds=0.5),
    )
    ui = replace(config.ui, sites_file=_sites_file(tmp_path / "sites.toml", sites))
    # the storage's state of charge every minute (config/vtn.toml asks every 5 minutes), which the offers read
    status = AutoReport("TELEMETRY_STATUS", timedelta(minutes=1), timedelta(minutes=1))
    config = replace(
        config,
        groups={"qh": tuple(s.name for s in sites)},
        ui=ui,
        aggregator=aggregator,
        auto_reports=(*config.auto_reports, status),
    )
    settings = FlexMeasuresSettings(fm.base_url, fm.email, fm.password, timedelta(seconds=120))
    async with running_vtn(config) as vtn:
        ven = ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "x")
        ven = replace(
            ven, sites=sites, flexmeasures=settings, mqtt=MqttSettings(port=BROKER_PORT), report_duration=timedelta(hours=3)
        )
        process = VenProcess(ven)
        await process.start(spread_first_polls=False)
        simulator = SiteSimulator([new_site(s) for s in sites], BROKER_PORT, every=timedelta(seconds=5))
        stop = asyncio.Event()
        running: asyncio.Task | None = None
        try:
            dispatcher = process.dispatcher
            assert process._mqtt is not None and dispatcher is not None
            await eventually(process._mqtt.connected.is_set, "the VEN's MQTT subscription", timeout=60)
            now = datetime.now(UTC)
            await simulator.backfill(now - HISTORY, now)
            running = asyncio.create_task(simulator.run(lambda: datetime.now(UTC), stop))
            for site in sites:
                await eventually(lambda s=site: process.vens[s.name].site.registration is not None, f"{site.name} registered")
                await eventually(
                    lambda s=site: _soc_reported(vtn, s.name), f"{site.name}'s state of charge at the VTN", timeout=180
                )
                # the battery took its rolling plan: what it does from now on is what its VEN dispatches
                await eventually(
                    lambda s=site: dispatcher.following(s.name, "battery") is True, f"{site.name}'s device", timeout=180
                )
            yield vtn, process, simulator
        finally:
            stop.set()
            if running is not None:
                await asyncio.gather(running, return_exceptions=True)
            await process.stop()


async def _soc_reported(vtn: VtnUnderTest, site: str) -> bool:
    """Whether the site's VEN reported its battery's state of charge to the VTN (TELEMETRY_STATUS) lately."""
    ven = await vtn.ctx.store.call(repo.find_ven_by_name, site)
    found = await vtn.ctx.store.call(
        reports.points, ven_id=ven.ven_id, report_name="TELEMETRY_STATUS", since=vtn.ctx.now() - QUARTER
    )
    return any(reported_soc(p["status"]) is not None for p in found)


def _mean_kw(readings: list[tuple[datetime, float]], start: datetime, end: datetime) -> list[float | None]:
    """The 15-minute means of [start, end) from meter readings, as the VEN computes them."""
    return [m.kw for m in resample([Sample(at, kw) for at, kw in readings], start, end, max_hold=DEFAULT_MAX_HOLD)]


async def _earliest_window() -> datetime:
    """The start of the quarter hour to order: the current one while enough of it remains, else the next."""
    now = datetime.now(UTC)
    turn = floor_slot(now) + QUARTER
    if turn - now < TURN:
        await asyncio.sleep((turn - now).total_seconds() + 1)
        now = datetime.now(UTC)
    slot = floor_slot(now)
    return slot if slot + QUARTER - now >= ENOUGH_LEFT else slot + QUARTER


async def test_an_aggregator_orders_a_groups_offer_and_reads_what_the_meters_delivered(sqlite_url, tmp_path, flexmeasures):
    ensure_machine_broker()
    sites = _sites()
    names = [s.name for s in sites]
    async with receiving() as (receiver, callback), _platform(sqlite_url, tmp_path, flexmeasures, sites) as (vtn, _ven, sim):
        agg = await connect(vtn, "agg-qh")
        status, subscription = await agg.call("POST", "/subscriptions", {"callback_url": callback})
        assert status == 201, subscription

        # availability of the group over the earliest window, then an order of exactly that
        start = await _earliest_window()
        end = start + QUARTER
        window = {"start": utc_text(start), "end": utc_text(end)}
        status, offer = await agg.call("GET", f"/offers?group=qh&start={window['start']}&end={window['end']}")
        assert status == 200, offer
        offered = {s["site"]: s["down"]["kw"] for s in offer["sites"]}
        assert offered == {name: pytest.approx(BATTERY["power_kw"]) for name in names}, offer
        # the energy each way rests on the state of charge the battery's VEN reported (what FlexMeasures plans from)
        simulated = {site.config.name: site.storage.soc_percent for site in sim.sites if site.storage is not None}
        for site in offer["sites"]:
            soc = next(m for b in site["basis"] if (m := re.search(r"its VEN reported ([\d.]+) %", b)))
            assert float(soc.group(1)) == pytest.approx(simulated[site["site"]], abs=5.0), site
        total = offer["total"]["down"]["kw"]
        order = {"client_order_id": "qh-1", "group": "qh", **window, "direction": "down", "mode": "delta", "power_kw": total}
        placed = datetime.now(UTC)
        status, body = await agg.call("POST", "/orders", order)
        assert status == 201, body
        assert all(s["event_id"] for s in body["sites"]), body

        acknowledged = {("order.acknowledged", name) for name in names}
        await eventually(lambda: acknowledged <= set(receiver.types("qh-1")), "both sites' acknowledgements", timeout=180)

        # a real quarter hour: the window ends, the VENs report what their meters measured
        measured = {("order.measurements", name) for name in names}
        wait = (end - datetime.now(UTC)).total_seconds() + 300
        await eventually(lambda: measured <= set(receiver.types("qh-1")), "the measurements webhooks", timeout=wait)

        # the notifications: each change once, in the order it happened, signed with the subscription's secret
        got = receiver.types("qh-1")
        assert sorted(got, key=str) == sorted([*acknowledged, ("order.started", None), ("order.ended", None), *measured], key=str)
        assert got.index(("order.started", None)) < got.index(("order.ended", None)) < min(got.index(m) for m in measured)
        assert max(got.index(a) for a in acknowledged) < got.index(("order.ended", None))
        if start > placed:  # the window began after the sites answered
            assert max(got.index(a) for a in acknowledged) < got.index(("order.started", None))
        now = int(datetime.now(UTC).timestamp())
        assert all(verify(subscription["secret"], header, raw, now=now, tolerance=3600) for header, raw in receiver.received)

        # the delivered measurements: baseline (the hour before, flat) − metered, per quarter hour, as the meters say
        status, found = await agg.call("GET", "/orders/qh-1")
        assert status == 200 and found["status"] == "completed", found
        for site in found["sites"]:
            name = site["site"]
            readings = sim.readings[name]
            (interval,) = site["measurements"]["intervals"]
            metered = _mean_kw(readings, start, end)[0]
            baseline = _mean_kw(readings, start - 4 * QUARTER, start)
            # asked: the offer, for the share of the quarter hour that followed the order (nothing is asked before)
            noticed = min((end - placed) / QUARTER, 1.0)
            assert interval["start"] == utc_text(start), site
            got = (interval["requested_kw"], interval["measured_kw"], interval["baseline_kw"])
            assert got == pytest.approx((offered[name] * noticed, metered, sum(baseline) / len(baseline)), abs=0.01), site  # type: ignore[arg-type]
            assert interval["achieved_kw"] == pytest.approx(interval["baseline_kw"] - interval["measured_kw"], abs=1e-3), site
            # the meter is lower than the household alone: the battery discharged, as dispatched, for the order
            house = [(at, household_kw(name, BASE_LOAD_KW, at.astimezone(MARTINIQUE))) for at, _kw in readings]
            household = _mean_kw(house, start, end)[0]
            assert household is not None and metered is not None
            assert household - metered >= 0.25 * offered[name], (name, household, metered)
