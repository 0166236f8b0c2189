"""Scheduled versus actual (mapping/dispatch_tracking.py, ven/dispatch_tracking.py): which plan value a quarter hour
was asked, the deviation and its tolerance; then the VEN's ledger against the real Mosquitto, with a device that
follows its setpoints except in one quarter hour."""

import asyncio
import itertools
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiomqtt
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mapping.curtailment import Achieved, Flag, Sample
from mapping.curtailment import report as wire
from mapping.dispatch import Ack, Setpoints, ack_topic, decode_setpoints, encode_ack, new_setpoints, setpoint_topic
from mapping.dispatch_tracking import SITE, Plan, PlanBook, Planned, check_slot, deviation_kw, planned_for, tolerance_kw
from mapping.grid import QUARTER, floor_slot
from mapping.oadr.report_model import ResourceStatus
from mapping.settings import ConfigError, Table
from observability.tally import Tally
from tests.support.eventually import eventually
from tests.support.mqtt import BROKER_PORT, ensure_machine_broker, payload
from tests.support.ven_harness import ven_config
from ven.config import CurtailmentSettings, MqttSettings, SiteConfig
from ven.curtailment_report import curtailment_intervals
from ven.dispatch_mqtt import MqttDispatcher
from ven.dispatch_tracking import DispatchLedger, DispatchPath
from ven.flex_config import parse_flex
from ven.flexmeasures.hooks import ScheduleOutcome
from ven.hooks import ConfiguredSource, LoggingHooks
from ven.metrics import ven_registry
from ven.runner import VenProcess
from ven.site import Site
from ven.store import VenStore
from ven.telemetry_mqtt import MqttTelemetrySource
from vtn.curtailment import query
from vtn.curtailment.query import CurtailmentInterval, EventCurtailment, SiteCurtailment
from vtn.ui.curtailment_view import curtailment_blocks

T = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)  # 14:00 in Martinique
MINUTE = timedelta(minutes=1)


def _plan(plan_id: str, issued_min: int, start_slot: int, values: list[float]) -> Plan:
    """A plan issued `issued_min` minutes after T, starting at quarter hour `start_slot` after T."""
    return Plan(plan_id, T + issued_min * MINUTE, T + start_slot * QUARTER, tuple(values))


# --- the rule ---------------------------------------------------------------------------------------------------


def test_a_re_plan_mid_event_never_rewrites_what_a_past_or_running_slot_was_asked() -> None:
    """A (17:50) asks 2 kW from 18:00 on. B, issued at 18:20 during the 18:15 slot, asks 5 kW from 18:15: the
    18:15 slot had begun under A, so it stays 2; 18:30 begins after B, so 5. C (18:40) re-plans 18:30 again: it
    began under B, so 5 stays. D, issued after 18:00–18:15 ended, names it: it never counts there."""
    a = _plan("A", -10, 0, [2.0, 2.0, 2.0, 2.0])
    b = _plan("B", 20, 1, [5.0, 5.0, 5.0])
    c = _plan("C", 40, 2, [9.0, 9.0])
    d = _plan("D", 20, 0, [7.0, 7.0])
    plans = [a, b, c, d]
    asked = [planned_for(plans, T + n * QUARTER) for n in range(5)]
    assert asked == [Planned(2.0, "A"), Planned(2.0, "A"), Planned(5.0, "B"), Planned(9.0, "C"), None]
    # before B and C, the same slots read A's values: a later plan takes only the slots that begin after it
    assert [planned_for([a], T + n * QUARTER) for n in range(3)] == [Planned(2.0, "A")] * 3


def test_a_slot_without_a_plan_issued_before_it_takes_the_first_issued_during_it() -> None:
    """The site's first plan comes at 18:07 (it starts in the running quarter hour): it counts for 18:00; a second
    one at 18:10 does not replace it there, but does for 18:15, which begins after both."""
    first = _plan("first", 7, 0, [3.0, 3.0])
    second = _plan("second", 10, 0, [4.0, 4.0])
    assert planned_for([second, first], T) == Planned(3.0, "first")
    assert planned_for([first, second], T + QUARTER) == Planned(4.0, "second")
    assert planned_for([first, second], T - QUARTER) is None  # before any plan: nothing was asked


def test_the_ledger_folds_plans_as_the_rule_says_whatever_their_order() -> None:
    plans = [
        _plan("A", -10, 0, [2.0, 2.0, 2.0, 2.0]),
        _plan("B", 20, 1, [5.0, 5.0, 5.0]),
        _plan("C", 40, 2, [9.0, 9.0]),
        _plan("D", 7, 0, [1.0]),
        _plan("E", 20, 0, [7.0]),
    ]
    for order in itertools.permutations(plans):
        book = PlanBook()
        for plan in order:
            book.add(plan)
        for n in range(-1, 6):
            assert book.planned(T + n * QUARTER) == planned_for(plans, T + n * QUARTER), (order, n)
    book.forget_before(T + QUARTER)
    assert book.planned(T) is None and book.planned(T + 2 * MINUTE + QUARTER) == Planned(2.0, "A")


@pytest.mark.parametrize(
    ("planned", "actual", "deviation", "tolerance", "beyond"),
    [
        (-3.0, -2.8, 0.2, 0.5, False),  # charging 0.2 kW less than asked: noise
        (-3.0, 0.0, 3.0, 0.5, True),  # asked to charge at 3 kW, did nothing
        (10.0, 10.9, 0.9, 1.0, False),  # a large setpoint: 10 % of it
        (10.0, 11.2, 1.2, 1.0, True),
        (0.0, -0.6, -0.6, 0.5, True),  # asked to idle, exported 0.6 kW
    ],
)
def test_deviation_is_actual_minus_planned_beyond_half_a_kw_or_ten_percent(
    planned: float, actual: float, deviation: float, tolerance: float, beyond: bool
) -> None:
    assert deviation_kw(planned, actual) == pytest.approx(deviation)
    assert tolerance_kw(planned) == pytest.approx(tolerance)
    check = check_slot(T, Planned(planned, "p"), actual)
    assert check is not None and check.deviation_kw == pytest.approx(deviation) and check.beyond is beyond


def test_a_slot_without_telemetry_or_without_a_plan_is_not_compared() -> None:
    assert check_slot(T, Planned(2.0, "p"), None) is None  # never an invented 0
    assert check_slot(T, None, 1.5) is None
    assert check_slot(T, Planned(2.0, "p"), 0.0) is not None  # a measured 0 is a value


def test_the_planned_value_travels_as_a_fourth_rid_only_where_there_is_one() -> None:
    item = Achieved(T, 11.0, 9.0, 2.0, None, None, None, None, frozenset({Flag.PARTIAL}))
    with_plan = {r_id: (value, quality) for r_id, value, quality in wire.interval_payloads(item, 6.5)}
    assert with_plan[wire.PLANNED] == (6.5, wire.GOOD) and with_plan[wire.MEASURED] == (9.0, "x-partial")
    assert wire.PLANNED not in {r_id for r_id, _v, _q in wire.interval_payloads(item)}
    assert (wire.REPORT_TYPES[wire.PLANNED], wire.READING_TYPES[wire.PLANNED]) == ("setPoint", "Projected")


async def test_the_vens_plan_hand_off_keeps_the_sites_net_power_for_the_report(tmp_path) -> None:
    """VenProcess._dispatch (FlexMeasures' on_schedule) keeps each plan's site net power; without MQTT dispatch no
    device series is kept. FlexMeasures itself is not run here: the ScheduleOutcome is the one it would hand over."""
    site = SiteConfig(name="site-plan", ven_name="site-plan", asset={"kind": "battery"})
    process = VenProcess.__new__(VenProcess)  # not started: only its hand-off is under test
    process.dispatcher = None
    process.tracking = DispatchLedger([site], ConfiguredSource(), CurtailmentSettings())
    now = floor_slot(datetime.now(UTC))
    await process._dispatch(site, ScheduleOutcome("site-plan", now, now + 2 * QUARTER, [-1.0, 0.0], [2.5, 3.5]))
    assert process.tracking.site_planned_kw("site-plan", now) == 2.5
    assert process.tracking.site_planned_kw("site-plan", now + QUARTER + MINUTE) == 3.5
    assert process.tracking.site_planned_kw("site-plan", now + 2 * QUARTER) is None
    assert set(process.tracking.books) == {("site-plan", SITE)}
    # the configured base load is no meter: nothing is compared with it (no warning every quarter hour about nothing)
    assert process.tracking.check(now + 2 * QUARTER + 2 * MINUTE) == [] and not process.tracking.no_telemetry


# --- the VEN's ledger against a real Mosquitto ------------------------------------------------------------------


class StrayingDevice:
    """A battery without S2 that accepts each schedule it gets on its setpoint topic and publishes, for each of its
    quarter hours that is over, one power reading a minute: the setpoint, except in quarter hour `strays` where it
    stays idle (0 kW). The site's meter (household `house_kw` + battery) is published beside it. Quarter hour
    `silent` gets no reading at all (the meter was down). The readings are back-dated (the slots are over: the test
    need not wait for quarter hours to pass)."""

    def __init__(self, site: str, strays: int, silent: int, house_kw: float) -> None:
        self.site, self.strays, self.silent, self.house_kw = site, strays, silent, house_kw
        self.received: list[Setpoints] = []
        self.published = 0

    async def run(self) -> None:
        async with aiomqtt.Client("127.0.0.1", BROKER_PORT) as client:
            await client.subscribe(setpoint_topic(self.site, "battery"), qos=1)
            async for message in client.messages:
                setpoints = decode_setpoints(bytes(message.payload))  # type: ignore[arg-type]
                self.received.append(setpoints)
                await client.publish(ack_topic(self.site, "battery"), encode_ack(Ack(setpoints.schedule_id, "accepted")), qos=1)
                for n, kw in enumerate(setpoints.values_kw):
                    if n == self.silent:
                        continue
                    device_kw = 0.0 if n == self.strays else kw
                    for minute in range(15):
                        at = setpoints.start + n * QUARTER + minute * MINUTE
                        await client.publish(f"cariflex/{self.site}/battery/power", payload(device_kw, at=at), qos=1)
                        await client.publish(
                            f"cariflex/{self.site}/meter/power", payload(self.house_kw + device_kw, at=at), qos=1
                        )
                        self.published += 2


@asynccontextmanager
async def _started(*parts: MqttTelemetrySource | MqttDispatcher) -> AsyncIterator[None]:
    for part in parts:
        await part.start()
    try:
        yield
    finally:
        for part in parts:
            await part.stop()


@pytest.mark.external  # the machine's Mosquitto
async def test_a_device_that_strays_from_its_setpoint_in_one_quarter_hour_shows_on_the_gauges_and_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Setpoints -3, -3, +2, -1 kW (charging positive) from t0; the device follows them except in the third quarter
    hour, where it stays idle: deviation -2 kW, beyond the 0.5 kW tolerance. The fourth has no telemetry: skipped.
    The household draws 4 kW, and the plan's site net power is 1, 1, 6, 3 kW: the site strays with its device."""
    ensure_machine_broker()
    name = f"site-track-{uuid.uuid4().hex[:8]}"  # its own topics: cariflex/<name>/#
    site = SiteConfig(name=name, ven_name=name, asset={"kind": "battery"})
    settings = replace(MqttSettings(port=BROKER_PORT), min_backoff=timedelta(milliseconds=200))
    source = MqttTelemetrySource(settings, [site], timedelta(hours=3))
    sender = MqttDispatcher(settings, [name])
    ledger = DispatchLedger([site], source, CurtailmentSettings())
    t0 = floor_slot(datetime.now(UTC)) - 5 * QUARTER
    device = StrayingDevice(name, strays=2, silent=3, house_kw=4.0)
    caplog.set_level(logging.INFO, logger="cariflex.ven.tracking")
    async with _started(source, sender):
        await eventually(lambda: source.connected.is_set() and sender.connected.is_set(), what="both MQTT connections")
        running = asyncio.create_task(device.run())
        try:
            await asyncio.sleep(0.3)  # subscribed (and the schedule is retained anyway)
            setpoints = new_setpoints(name, t0 - 2 * MINUTE, t0, [-3.0, -3.0, 2.0, -1.0])
            # what VenProcess._dispatch does with a plan: dispatch the device's part, keep both parts
            await sender.dispatch(name, "battery", setpoints)
            ledger.record_device(name, "battery", setpoints, DispatchPath.MQTT)
            ledger.record_site(name, setpoints.schedule_id, setpoints.issued, t0, [1.0, 1.0, 6.0, 3.0])
            await eventually(lambda: source.counters["stored"] == 3 * 15 * 2, timeout=20, what="the device's readings")
            assert device.received == [setpoints] and sender.following(name, "battery") is True
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    def gauges() -> dict[tuple[str, str], float]:
        """What /metrics exposes: (sample name, device) → value, for this site."""
        text = generate_latest(ven_registry(Tally(), lambda: {"tracking": ledger, "dispatcher": sender})).decode()
        return {
            (sample.name, sample.labels["device"]): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.labels.get("site") == name
        }

    # the periodic check, a minute after each quarter hour ends
    checked = [ledger.check(t0 + (n + 1) * QUARTER + MINUTE) for n in range(4)]
    assert [len(found) for found in checked] == [2, 2, 2, 0]  # battery and site each time; none without telemetry
    third = {series: check for _name, series, check in checked[2]}
    assert third["battery"].planned_kw == 2.0 and third["battery"].actual_kw == 0.0 and third["battery"].beyond
    assert third[SITE].planned_kw == 6.0 and third[SITE].actual_kw == pytest.approx(4.0) and third[SITE].beyond
    assert not any(check.beyond for found in checked[:2] for _n, _s, check in found)
    exposed = gauges()
    # the fourth quarter hour had no telemetry: the gauges still describe the third, and say which it is
    assert exposed[("cariflex_ven_dispatch_planned_kw", "battery")] == 2.0
    assert exposed[("cariflex_ven_dispatch_actual_kw", "battery")] == 0.0
    assert exposed[("cariflex_ven_dispatch_deviation_kw", "battery")] == -2.0
    assert exposed[("cariflex_ven_dispatch_slot_start_seconds", "battery")] == (t0 + 2 * QUARTER).timestamp()
    assert exposed[("cariflex_ven_dispatch_beyond_tolerance_total", "battery")] == 1.0
    assert exposed[("cariflex_ven_dispatch_deviation_kw", SITE)] == pytest.approx(-2.0)
    assert exposed[("cariflex_ven_dispatch_beyond_tolerance_total", SITE)] == 1.0
    assert exposed[("cariflex_ven_dispatch_unmeasured_total", "battery")] == 1.0  # the fourth: skipped, not a 0
    assert exposed[("cariflex_ven_dispatch_unmeasured_total", SITE)] == 1.0
    # the same quarter hours are not checked twice
    assert ledger.check(t0 + 4 * QUARTER + 2 * MINUTE) == [] and ledger.beyond[(name, "battery")] == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings  # the device, in the straying quarter hour only
    # the site's net power: INFO (it also carries the household's departure from its forecast)
    notes = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "net power" in r.getMessage()]
    assert len(notes) == 1, notes
    device_line = next(w for w in warnings if w.startswith(f"{name}/battery:"))
    slot = t0 + 2 * QUARTER
    assert f"{slot:%H:%M}–{slot + QUARTER:%H:%M} UTC" in device_line
    assert "0.00 kW against 2.00 kW planned" in device_line and "deviation -2.00 kW" in device_line
    assert setpoint_topic(name, "battery") in device_line and setpoints.schedule_id in device_line
    site_line = next(w for w in notes if w.startswith(f"{name}: the site's net power"))
    assert "4.00 kW against 6.00 kW planned" in site_line and setpoint_topic(name, "battery") in site_line


def test_the_report_sends_the_planned_value_only_when_the_request_names_it(tmp_path) -> None:
    """A VTN that holds this VEN's registration from before `curtailment-planned` asks for three rIDs and would refuse
    a fourth: the report carries what the request names. The VTN link and scheduler are not needed to build it."""
    config = ven_config("http://127.0.0.1:9/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-rids", base_load_kw=2.0)
    store = VenStore(config.store_path)
    try:
        site = Site(config.sites[0], config, store, None, None, LoggingHooks(), ConfiguredSource())  # type: ignore[arg-type]
        site.planned_kw = lambda name, slot: 1.5 if slot == T else None
        every = curtailment_intervals(site, T, T + 2 * QUARTER)
        assert [sorted(p.r_id for p in i.payloads) for i in every] == [
            sorted((wire.ACHIEVED, wire.BASELINE, wire.MEASURED, wire.PLANNED)),
            sorted((wire.ACHIEVED, wire.BASELINE, wire.MEASURED)),  # no plan for the second quarter hour
        ]
        assert [p.value for p in every[0].payloads if p.r_id == wire.PLANNED] == [1.5]
        older = curtailment_intervals(site, T, T + 2 * QUARTER, {wire.BASELINE, wire.MEASURED, wire.ACHIEVED})
        assert all(p.r_id != wire.PLANNED for i in older for p in i.payloads) and len(older) == 2
    finally:
        store.close()


def test_the_tolerance_is_set_in_the_flex_section_of_ven_toml() -> None:
    default = parse_flex(Table({}, "flex", {}))
    assert (default.tracking_tolerance_kw, default.tracking_tolerance_percent) == (0.5, 10.0)
    found = parse_flex(Table({"tracking_tolerance_kw": 1, "tracking_tolerance_percent": 5}, "flex", {}))
    assert (found.tracking_tolerance_kw, found.tracking_tolerance_percent) == (1.0, 5.0)
    with pytest.raises(ConfigError, match="tracking_tolerance_percent"):
        parse_flex(Table({"tracking_tolerance_percent": 150}, "flex", {}))
    with pytest.raises(ConfigError, match="tracking_tolerance_kw"):
        parse_flex(Table({"tracking_tolerance_kw": -0.1}, "flex", {}))


def _interval(n: int, measured: float | None, planned: float | None) -> CurtailmentInterval:
    start = T + n * QUARTER
    return CurtailmentInterval(start, start + QUARTER, 1.0, 10.0, measured, None, "claimed", planned_kw=planned)


def test_all_sites_show_a_planned_sum_only_where_it_compares_with_what_was_measured() -> None:
    """Site a reported plans (5 then 6 kW), site b none (it measured 10 kW): the total's planned value of an interval
    is left out where b was measured (a partial sum beside the whole measured misleads), and the energy sums pair
    each site's planned with its own measured: a's 2.75 kWh planned against its 3 kWh measured."""
    measured_only = Achieved(T, 10.0, 10.0, 0.0, None, None, None, None, frozenset())
    with_plan = Achieved(T, 10.0, 6.0, 4.0, None, None, None, None, frozenset())
    nothing = Achieved(T, None, None, None, None, None, None, None, frozenset({Flag.MISSING}))
    assert query._planned_total([with_plan, measured_only], [5.0, None]) is None
    assert query._planned_total([with_plan, nothing], [5.0, None]) == 5.0
    assert query._planned_total([with_plan, with_plan], [5.0, 1.5]) == 6.5
    assert query._planned_total([measured_only], [None]) is None
    a = SiteCurtailment("ven-a", "a", (_interval(0, 6.0, 5.0), _interval(1, 6.0, 6.0)), None)
    b = SiteCurtailment("ven-b", "b", (_interval(0, 10.0, None), _interval(1, 10.0, None)), None)
    total = (_interval(0, 16.0, None), _interval(1, 16.0, None))
    blocks = {block.scope: block for block in curtailment_blocks(EventCurtailment("e", total, (a, b), None), UTC)}
    assert (blocks["ven-a"].planned_kwh, blocks["ven-a"].measured_kwh) == (2.75, 3.0)
    assert (blocks["total"].planned_kwh, blocks["total"].measured_kwh) == (2.75, 3.0)
    assert blocks["ven-b"].planned_kwh is None and [row["planned"] for row in blocks["ven-a"].rows] == ["5.00", "6.00"]


class _Readings:
    """Telemetry held in memory (the ledger only asks for samples): what the meter of an S2 device showed."""

    def __init__(self, samples: dict[str, list[Sample]]) -> None:
        self.by_r_id = samples

    def reading(self, site: SiteConfig, r_id: str, at: datetime) -> float | None:
        return None

    def status(self, site: SiteConfig, at: datetime) -> ResourceStatus:
        return ResourceStatus(online=True, manual_override=False)

    def samples(self, site: SiteConfig, r_id: str, start: datetime, end: datetime) -> list[Sample]:
        return [s for s in self.by_r_id.get(r_id, []) if start <= s.at < end]


def test_a_device_dispatched_over_s2_is_told_to_check_its_resource_manager_not_an_mqtt_topic(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same straying device, its schedule sent as S2 instructions: the warning and the site's note point at its
    Resource Manager, never at a setpoint topic nobody publishes on."""
    name = "site-s2-track"
    site = SiteConfig(name=name, ven_name=name, asset={"kind": "battery"})
    idle = [Sample(T + i * MINUTE, 0.0) for i in range(15)]  # the device stays idle against +2 kW planned
    house = [Sample(T + i * MINUTE, 4.0) for i in range(15)]
    ledger = DispatchLedger([site], _Readings({"asset-power": idle, "site-power": house}), CurtailmentSettings())
    setpoints = new_setpoints(name, T - 2 * MINUTE, T, [2.0])
    ledger.record_device(name, "battery", setpoints, DispatchPath.S2)
    ledger.record_site(name, setpoints.schedule_id, setpoints.issued, T, [6.0])
    caplog.set_level(logging.INFO, logger="cariflex.ven.tracking")
    found = ledger.check(T + QUARTER + MINUTE)
    assert {series for _n, series, check in found if check.beyond} == {"battery", SITE}
    lines = [r.getMessage() for r in caplog.records if r.name == "cariflex.ven.tracking"]
    assert len(lines) == 2, lines
    assert all("S2 Resource Manager (battery)" in line for line in lines), lines
    assert not any(setpoint_topic(name, "battery") in line for line in lines), lines
