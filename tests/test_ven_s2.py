"""S2 dispatch (mapping/s2.py, ven/s2/): the pure mapping, and the VEN's CEM against real s2-python Resource Managers
over real WebSockets on ephemeral ports — pairing, the handshake and control types, FRBC instructions that draw the
scheduled kW, PEBC envelopes for PV, revocation on a re-plan, faults counted as not following, and messages no RM
should send answered without harm. The schedules here are given; tests/test_ven_s2_flexmeasures.py takes one from
a real FlexMeasures."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import generate_latest
from s2python.connection.async_.medium.s2_medium import MediumCouldNotConnectError
from websockets.exceptions import ConnectionClosed

from mapping.flex.devices import Device
from mapping.grid import QUARTER, floor_slot
from mapping.refusal import Refused
from mapping.s2 import (
    FRBC,
    NOT_CONTROLABLE,
    PEBC,
    FrbcDevice,
    OperationMode,
    PebcDevice,
    changes,
    choose_mode,
    device_from_rm,
    due,
    frbc_steps,
    pebc_steps,
    select_control_type,
    select_protocol_version,
    soc_percent_from_rm,
    soc_targets_from_rm,
)
from observability.tally import Tally
from tests.support.eventually import eventually
from tests.support.s2_rm import answer, raw_client, running_rm
from ven.config import S2Settings, SiteConfig
from ven.metrics import ven_registry
from ven.s2.cem import S2Cem
from ven.s2.session import FLOOD_DROPS

T0 = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
TOKENS = {"battery": "battery-token-0123456789", "pv": "pv-token-0123456789abc", "evse": "evse-token-0123456789ab"}
SITES = (
    SiteConfig("s2-battery", "s2-battery", asset={"kind": "battery"}, s2_token=TOKENS["battery"]),
    SiteConfig("s2-pv", "s2-pv", asset={"kind": "pv", "peak_kw": 5.0}, s2_token=TOKENS["pv"]),
    SiteConfig("s2-evse", "s2-evse", asset={"kind": "evse"}, s2_token=TOKENS["evse"]),
)
MODES = (OperationMode("d", -5.0, 0.0), OperationMode("c", 0.0, 5.0), OperationMode("x", -9.0, 9.0, abnormal_only=True))
BATTERY_RM = FrbcDevice("act", MODES, fill_min=20.0, fill_max=100.0, fill_label="%", fill_level=55.0)


# --- the pure mapping -------------------------------------------------------------------------------


def test_each_kind_gets_its_control_type_and_a_device_without_one_is_refused() -> None:
    assert select_control_type("battery", [NOT_CONTROLABLE, FRBC]) == FRBC
    assert select_control_type("v2g", [FRBC]) == FRBC and select_control_type("evse", [FRBC]) == FRBC
    assert select_control_type("pv", [PEBC, FRBC]) == PEBC
    assert select_control_type("pv", [NOT_CONTROLABLE]) == NOT_CONTROLABLE
    with pytest.raises(Refused, match="a battery needs one of FILL_RATE_BASED_CONTROL"):
        select_control_type("battery", [PEBC])


def test_the_mode_and_factor_chosen_draw_the_scheduled_kw() -> None:
    for kw in (-5.0, -2.5, 0.0, 1.25, 5.0):
        mode, factor = choose_mode(MODES[:2], kw)
        assert mode.low_kw + factor * (mode.high_kw - mode.low_kw) == pytest.approx(kw)
    mode, factor = choose_mode(MODES[:2], 7.0)  # beyond every mode: the nearest end
    assert (mode.id, factor) == ("c", 1.0)
    with pytest.raises(Refused):
        choose_mode((), 1.0)


def test_instruction_ids_name_the_slot_and_what_it_asks() -> None:
    steps = frbc_steps("s", "battery", T0, [-2.0, 3.0, 3.0], BATTERY_RM)
    assert [s.slot for s in steps] == [T0, T0 + QUARTER, T0 + 2 * QUARTER]
    assert all(s.mode_id != "x" for s in steps)  # abnormal-only modes are never scheduled
    again = frbc_steps("s", "battery", T0, [-2.0, 3.0, 3.0], BATTERY_RM)
    assert [s.id for s in again] == [s.id for s in steps]  # same plan, same ids (after a restart, too)
    assert steps[1].id != steps[2].id  # another slot, another instruction
    other = frbc_steps("s", "battery", T0, [-2.0, 1.0, 3.0], BATTERY_RM)
    revoke, send = changes({s.slot: s for s in steps}, other, T0)
    assert [s.slot for s in revoke] == [T0 + QUARTER] and [s.slot for s in send] == [T0 + QUARTER]
    # a slot that is over is neither revoked nor sent; a plan that no longer covers a slot revokes it
    revoke, _ = changes({s.slot: s for s in steps}, other[:1], T0 + QUARTER + timedelta(minutes=1))
    assert [s.slot for s in revoke] == [T0 + QUARTER, T0 + 2 * QUARTER]
    assert [s.slot for s in due(steps, T0 + timedelta(minutes=5), timedelta(minutes=15))] == [T0, T0 + QUARTER]


def test_a_pv_schedule_is_an_envelope_the_inverter_may_not_produce_beyond() -> None:
    (step,) = pebc_steps("s", "pv", T0, [-2.0], PebcDevice("pc", -5.0, 0.0))
    assert (step.lower_kw, step.upper_kw) == (-2.0, 0.0)
    (full,) = pebc_steps("s", "pv", T0, [-8.0], PebcDevice("pc", -5.0, 0.0))
    assert full.lower_kw == -5.0  # never below what the RM allows


def test_what_the_rm_says_overrides_the_configuration() -> None:
    configured = Device("battery", power_kw=3.0, capacity_kwh=10.0, reserve_percent=10.0)
    described = device_from_rm(configured, BATTERY_RM)
    assert (described.power_kw, described.capacity_kwh, described.reserve_percent) == (5.0, 10.0, 20.0)
    in_kwh = replace(BATTERY_RM, fill_min=2.0, fill_max=13.5, fill_label="kWh", fill_level=6.75)
    assert device_from_rm(configured, in_kwh).capacity_kwh == 13.5 and soc_percent_from_rm(in_kwh) == 50.0
    assert device_from_rm(configured, None) == configured and soc_percent_from_rm(BATTERY_RM) == 55.0
    # its fill level targets: what it must hold at least at the end of each element (above its floor only)
    targets = replace(BATTERY_RM, targets=((T0, T0 + QUARTER, 80.0, 90.0), (T0 + QUARTER, T0 + 2 * QUARTER, 20.0, 100.0)))
    assert soc_targets_from_rm(targets, 10.0) == [(T0 + QUARTER, 8.0)]


# --- the CEM over WebSockets ------------------------------------------------------------------------


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Cem:
    cem: S2Cem
    url: str
    clock: Clock
    changed: list[str]


@pytest.fixture
async def cem() -> AsyncIterator[Cem]:
    clock = Clock(floor_slot(datetime.now(UTC)) + timedelta(minutes=1))
    settings = S2Settings(port=0, lookahead=timedelta(minutes=30), reception_timeout=timedelta(seconds=30))
    server = S2Cem(settings, SITES, clock=clock)
    changed: list[str] = []
    server.on_change = changed.append
    await server.start(tick=False)  # the test moves the clock and ticks
    try:
        yield Cem(server, f"ws://127.0.0.1:{server.port}/", clock, changed)
    finally:
        await server.stop()


async def test_an_rm_with_its_pairing_token_is_paired_and_one_without_is_refused(cem: Cem) -> None:
    with pytest.raises(MediumCouldNotConnectError, match="401"):
        async with running_rm(cem.url, "not-a-token-0123456789"):
            pass
    with pytest.raises(MediumCouldNotConnectError, match="401"):
        async with running_rm(cem.url, ""):
            pass
    assert cem.cem.counters["unpaired"] == 2
    async with running_rm(cem.url, TOKENS["battery"]) as rm:
        state = cem.cem.state("s2-battery", "battery")
        assert state is not None and state.control_type == FRBC and state.ready
        assert state.resource_id == str(rm.resource_id)
        assert state.frbc is not None and state.frbc.fill_level == 60.0 and state.frbc.fill_min == 10.0
        assert [(m.low_kw, m.high_kw) for m in state.frbc.modes] == [(-5.0, 0.0), (0.0, 5.0)]


async def test_a_battery_gets_one_instruction_per_quarter_hour_drawing_what_the_schedule_asks(cem: Cem) -> None:
    start = floor_slot(cem.clock.now)
    schedule = [-2.5, -5.0, 1.0, 4.0, 0.0, 2.0]
    async with running_rm(cem.url, TOKENS["battery"]) as rm:
        assert cem.cem.following("s2-battery", "battery") is None  # nothing sent yet
        await cem.cem.dispatch("s2-battery", "battery", start, schedule)
        # the one in force and those starting within the 30-minute lookahead: three
        await eventually(lambda: len(rm.received.frbc) == 3, "the first three instructions")
        got = rm.received.frbc
        assert [i.execution_time for i in got] == [start, start + QUARTER, start + 2 * QUARTER]
        assert [rm.frbc.power_kw(i) for i in got] == pytest.approx(schedule[:3])
        assert all(i.actuator_id == rm.frbc.actuator for i in got)
        await eventually(lambda: cem.cem.following("s2-battery", "battery") is True, "the RM's ReceptionStatus OK")
        # the rest as their time comes
        cem.clock.now += QUARTER
        await cem.cem.tick()
        await eventually(lambda: len(rm.received.frbc) == 4, "the next instruction")
        assert got[3].execution_time == start + 3 * QUARTER and rm.frbc.power_kw(got[3]) == pytest.approx(4.0)
        # the same schedule again sends nothing
        await cem.cem.dispatch("s2-battery", "battery", start, schedule)
        await cem.cem.tick()
        assert len(rm.received.frbc) == 4 and cem.cem.counters["sent"] == 4
        await eventually(lambda: cem.cem.counters["accepted"] == 4, "the fourth ReceptionStatus")
        exposed = generate_latest(ven_registry(Tally(), lambda: {"cem": cem.cem})).decode()
        assert 'cariflex_ven_s2_messages_total{kind="sent"} 4.0' in exposed
        assert 'cariflex_ven_s2_messages_total{kind="accepted"} 4.0' in exposed
        assert 'cariflex_ven_s2_connected{device="battery",site="s2-battery"} 1.0' in exposed
        assert 'cariflex_ven_s2_connected{device="pv",site="s2-pv"} 0.0' in exposed
        assert 'cariflex_ven_device_following{device="battery",site="s2-battery"} 1.0' in exposed


async def test_a_new_plan_revokes_what_changed_and_sends_its_replacement(cem: Cem) -> None:
    start = floor_slot(cem.clock.now)
    async with running_rm(cem.url, TOKENS["battery"]) as rm:
        await cem.cem.dispatch("s2-battery", "battery", start, [-2.0, -2.0, -2.0])
        await eventually(lambda: len(rm.received.frbc) == 3, "the first plan")
        first = {i.execution_time: i.id for i in rm.received.frbc}
        await cem.cem.dispatch("s2-battery", "battery", start, [-2.0, 3.0, -1.0])
        await eventually(lambda: len(rm.received.frbc) == 5, "the replacements")
        assert sorted(rm.received.revoked) == sorted([first[start + QUARTER], first[start + 2 * QUARTER]])
        replacements = rm.received.frbc[3:]
        assert [i.execution_time for i in replacements] == [start + QUARTER, start + 2 * QUARTER]
        assert [rm.frbc.power_kw(i) for i in replacements] == pytest.approx([3.0, -1.0])
        assert cem.cem.counters["revoked"] == 2


async def test_an_rm_that_disconnects_is_not_following_and_on_its_return_nothing_is_applied_twice(cem: Cem) -> None:
    start = floor_slot(cem.clock.now)
    schedule = [-2.0, -3.0, -4.0, -1.0]
    async with running_rm(cem.url, TOKENS["battery"]) as rm:
        await cem.cem.dispatch("s2-battery", "battery", start, schedule)
        await eventually(lambda: cem.cem.following("s2-battery", "battery") is True, "the instructions accepted")
        before, first = list(rm.received.frbc), rm
    await eventually(lambda: cem.cem.following("s2-battery", "battery") is False, "the disconnection noticed")
    assert cem.changed == ["s2-battery"]  # the VEN re-plans and tells the VTN
    cem.clock.now += timedelta(minutes=5)  # back within the same quarter hour (the same device: its ids)
    async with running_rm(cem.url, TOKENS["battery"], again=first) as rm:
        await eventually(lambda: cem.cem.following("s2-battery", "battery") is True, "following again")
        again = rm.received.frbc
        # the instruction in force was executed already: not sent again; those to come, with the same ids
        assert start not in [i.execution_time for i in again]
        assert {i.id for i in again} == {i.id for i in before if i.execution_time > start}
        assert cem.changed == ["s2-battery", "s2-battery"]  # not following, then following again


async def test_an_rm_that_reports_an_instruction_rejected_is_not_following(cem: Cem) -> None:
    async with running_rm(cem.url, TOKENS["battery"]) as rm:
        rm.reject = True
        await cem.cem.dispatch("s2-battery", "battery", floor_slot(cem.clock.now), [1.0])
        await eventually(lambda: cem.cem.following("s2-battery", "battery") is False, "the rejection counted")
        assert cem.cem.counters["aborted"] >= 1 and "REJECTED" in cem.cem.state("s2-battery", "battery").why


async def _handshake(ws, kind: str = FRBC, versions: tuple[str, ...] = ("0.0.2-beta",)) -> dict:  # noqa: ANN001
    """Pair a raw client as an RM of `kind` speaking `versions` and return the SelectControlType (after answering the
    CEM's messages); the HandshakeResponse's selected version is in its "selected" key."""
    await ws.send(
        json.dumps(
            {
                "message_type": "Handshake",
                "message_id": str(uuid.uuid4()),
                "role": "RM",
                "supported_protocol_versions": list(versions),
            }
        )
    )
    assert (await answer(ws))["status"] == "OK"
    assert (await answer(ws))["message_type"] == "Handshake"
    response = await answer(ws)
    assert response["message_type"] == "HandshakeResponse"
    details = {
        "message_type": "ResourceManagerDetails",
        "message_id": str(uuid.uuid4()),
        "resource_id": str(uuid.uuid4()),
        "roles": [{"role": "ENERGY_STORAGE", "commodity": "ELECTRICITY"}],
        "instruction_processing_delay": 10,
        "available_control_types": [kind],
        "provides_forecast": False,
        "provides_power_measurement_types": ["ELECTRIC.POWER.L1"],
    }
    await ws.send(json.dumps(details))
    selection = await answer(ws)
    assert (await answer(ws))["subject_message_id"] == details["message_id"]  # acknowledged once acted on
    return selection | {"selected": response["selected_protocol_version"]}


def test_the_cem_selects_the_rms_s2_version_of_its_own_major_or_refuses() -> None:
    assert select_protocol_version("0.0.2-beta", ["0.0.2-beta", "0.1.0"]) == "0.0.2-beta"
    assert select_protocol_version("0.0.2-beta", []) == "0.0.2-beta"
    # flexmeasures-client's example RM announces 0.1.0 only
    assert select_protocol_version("0.0.2-beta", ["0.0.1-beta", "0.1.0", "0.0.3"]) == "0.1.0"
    with pytest.raises(Refused, match="supported_protocol_versions: no common S2 version: this CEM speaks 0.0.2-beta"):
        select_protocol_version("0.0.2-beta", ["1.0.0"])


async def test_an_rm_of_another_s2_version_of_the_same_major_is_paired_and_one_of_another_major_refused(cem: Cem) -> None:
    async with raw_client(cem.url, TOKENS["battery"]) as ws:
        selection = await _handshake(ws, versions=("0.1.0",))
        assert (selection["control_type"], selection["selected"]) == (FRBC, "0.1.0")
    async with raw_client(cem.url, TOKENS["battery"]) as ws:
        mid = str(uuid.uuid4())
        await ws.send(
            json.dumps({"message_type": "Handshake", "message_id": mid, "role": "RM", "supported_protocol_versions": ["1.0.0"]})
        )
        refusal = await answer(ws)
        assert (refusal["subject_message_id"], refusal["status"]) == (mid, "PERMANENT_ERROR")
        assert "no common S2 version" in refusal["diagnostic_label"]
        with pytest.raises(ConnectionClosed):
            await answer(ws)


async def test_an_rm_that_refuses_an_instruction_is_not_following(cem: Cem) -> None:
    async with raw_client(cem.url, TOKENS["evse"]) as ws:
        assert (await _handshake(ws))["control_type"] == FRBC
        power = [{"start_of_range": 0.0, "end_of_range": 7400.0, "commodity_quantity": "ELECTRIC.POWER.L1"}]
        mode = {
            "id": str(uuid.uuid4()),
            "elements": [
                {
                    "fill_level_range": {"start_of_range": 0, "end_of_range": 100},
                    "fill_rate": {"start_of_range": 0, "end_of_range": 1},
                    "power_ranges": power,
                }
            ],
            "abnormal_condition_only": False,
        }
        storage = {
            "fill_level_range": {"start_of_range": 0, "end_of_range": 100},
            "fill_level_label": "%",
            "provides_leakage_behaviour": False,
            "provides_fill_level_target_profile": False,
            "provides_usage_forecast": False,
        }
        actuator = {
            "id": str(uuid.uuid4()),
            "supported_commodities": ["ELECTRICITY"],
            "operation_modes": [mode],
            "transitions": [],
            "timers": [],
        }
        description = {
            "message_type": "FRBC.SystemDescription",
            "message_id": str(uuid.uuid4()),
            "valid_from": datetime.now(UTC).isoformat(),
            "actuators": [actuator],
            "storage": storage,
        }
        await ws.send(json.dumps(description))
        assert (await answer(ws))["status"] == "OK"
        await cem.cem.dispatch("s2-evse", "evse", floor_slot(cem.clock.now), [3.7])
        instruction = await answer(ws)
        assert instruction["message_type"] == "FRBC.Instruction" and instruction["operation_mode_factor"] == pytest.approx(0.5)
        refusal = {
            "message_type": "ReceptionStatus",
            "subject_message_id": instruction["message_id"],
            "status": "TEMPORARY_ERROR",
            "diagnostic_label": "busy",
        }
        await ws.send(json.dumps(refusal))
        await eventually(lambda: cem.cem.following("s2-evse", "evse") is False, "the refusal counted")
        assert "TEMPORARY_ERROR: busy" in cem.cem.state("s2-evse", "evse").why


async def test_bad_messages_get_an_s2_answer_and_the_session_goes_on(cem: Cem) -> None:
    async with raw_client(cem.url, TOKENS["battery"]) as ws:
        await ws.send("{not json")
        assert ((await answer(ws))["status"], (await _nothing_more(ws))) == ("INVALID_DATA", True)
        await ws.send("x" * (S2Settings.max_message_bytes + 1))
        got = await answer(ws)
        assert got["status"] == "INVALID_DATA" and "at most" in got["diagnostic_label"]
        mid = str(uuid.uuid4())
        await ws.send(json.dumps({"message_type": "FRBC.Teleport", "message_id": mid}))
        got = await answer(ws)
        assert (got["status"], got["subject_message_id"]) == ("INVALID_CONTENT", mid)
        await ws.send(json.dumps({"message_type": "Handshake", "message_id": mid, "role": "KING"}))
        assert (await answer(ws))["status"] == "INVALID_MESSAGE"  # S2's value for a message not valid against its schema
        await ws.send(json.dumps({"message_type": "FRBC.StorageStatus", "message_id": mid, "present_fill_level": 5}))
        assert (await answer(ws))["diagnostic_label"] == "Handshake first"
        assert (await _handshake(ws))["control_type"] == FRBC  # and the session still works
    assert cem.cem.counters["invalid"] == 5


async def _nothing_more(ws) -> bool:  # noqa: ANN001
    """True: the CEM sent nothing else (it answers once per message)."""
    try:
        await asyncio.wait_for(ws.recv(), 0.2)
    except TimeoutError:
        return True
    return False


async def test_a_flood_is_dropped_then_closed_and_the_cem_serves_others(cem: Cem) -> None:
    answers: list[dict] = []

    async def drain(ws) -> None:  # noqa: ANN001
        async for message in ws:
            answers.append(json.loads(message))

    async with raw_client(cem.url, TOKENS["evse"]) as ws:
        reading = asyncio.create_task(drain(ws))
        for _ in range(20_000):  # until the CEM closes it (200 dropped in a row), whatever the machine's speed
            try:
                await ws.send("{}")
            except ConnectionClosed:
                break
        await ws.wait_closed()
        await asyncio.gather(reading, return_exceptions=True)
        assert ws.protocol.close_code == 1008 and "flood" in (ws.protocol.close_reason or "")
    # the burst answered one by one; the messages past the rate dropped unread, with one TEMPORARY_ERROR per run of drops
    statuses = [a["status"] for a in answers]
    assert statuses[-1] == "TEMPORARY_ERROR" and set(statuses) == {"INVALID_DATA", "TEMPORARY_ERROR"}
    assert statuses.count("INVALID_DATA") >= 2 * S2Settings.max_messages_per_second
    assert cem.cem.counters["rate_limited"] >= FLOOD_DROPS
    async with running_rm(cem.url, TOKENS["battery"]) as rm:  # the CEM is unharmed
        assert cem.cem.state("s2-battery", "battery").ready and rm.received.activated.is_set()


async def test_pv_gets_a_power_envelope_per_quarter_hour(cem: Cem) -> None:
    start = floor_slot(cem.clock.now)
    async with running_rm(cem.url, TOKENS["pv"], control="pebc", power_w=5000.0) as rm:
        assert cem.cem.state("s2-pv", "pv").control_type == PEBC
        await cem.cem.dispatch("s2-pv", "pv", start, [-2.0, -5.0, -0.5])
        await eventually(lambda: len(rm.received.pebc) == 3, "three envelopes")
        envelopes = [i.power_envelopes[0].power_envelope_elements[0] for i in rm.received.pebc]
        assert [(e.lower_limit, e.upper_limit) for e in envelopes] == [(-2000.0, 0.0), (-5000.0, 0.0), (-500.0, 0.0)]
        assert [e.duration.root for e in envelopes] == [QUARTER // timedelta(milliseconds=1)] * 3
        assert [i.execution_time for i in rm.received.pebc] == [start, start + QUARTER, start + 2 * QUARTER]
        await eventually(lambda: cem.cem.following("s2-pv", "pv") is True, "the envelopes accepted")


async def test_a_metered_only_device_gets_no_instruction_and_counts_as_not_following(cem: Cem) -> None:
    async with running_rm(cem.url, TOKENS["pv"], control="none") as rm:
        state = cem.cem.state("s2-pv", "pv")
        assert state.control_type == NOT_CONTROLABLE and state.measured_kw == pytest.approx(1.2)
        await cem.cem.dispatch("s2-pv", "pv", floor_slot(cem.clock.now), [-2.0])
        assert cem.cem.following("s2-pv", "pv") is False and not rm.received.pebc and not rm.received.frbc


# --- configuration ----------------------------------------------------------------------------------


def _load(tmp_path, ven: str, sites: str):  # noqa: ANN001, ANN202
    from ven.config import load_config

    (tmp_path / "ven.toml").write_text('[vtn]\nvtn_id = "CARIFLEX-VTN"\n' + ven)
    (tmp_path / "sites.toml").write_text(sites)
    return load_config(tmp_path / "ven.toml")


SITE = '[[sites]]\nname = "site-{n}"\ns2_token = "{token}"\n[sites.asset]\nkind = "battery"\n'


def test_the_s2_section_and_the_pairing_tokens_are_read_and_checked(tmp_path, monkeypatch) -> None:
    from mapping.settings import ConfigError

    monkeypatch.setenv("SITE_2_TOKEN", "from-the-environment-0123")
    fm = '[flexmeasures]\nenabled = true\nurl = "http://127.0.0.1:5000"\nemail = "a@b.mq"\npassword = "x"\n'
    ven = fm + '[s2]\nenabled = true\nport = 0\nlookahead = "PT30M"\nmax_messages_per_second = 10\n'
    config = _load(tmp_path, ven, SITE.format(n=1, token="a-token-of-sixteen-chars") + SITE.format(n=2, token="env:SITE_2_TOKEN"))
    assert config.s2 is not None and (config.s2.port, config.s2.lookahead, config.s2.max_messages_per_second) == (
        0,
        timedelta(minutes=30),
        10.0,
    )
    assert [s.s2_token for s in config.sites] == ["a-token-of-sixteen-chars", "from-the-environment-0123"]
    assert "from-the-environment" not in repr(config.sites[1])  # a token is never logged with its site
    with pytest.raises(ConfigError, match="two sites share an s2_token"):
        _load(
            tmp_path, ven, SITE.format(n=1, token="a-token-of-sixteen-chars") + SITE.format(n=2, token="a-token-of-sixteen-chars")
        )
    with pytest.raises(ConfigError, match="site-1: s2_token must be at least 16 characters"):
        _load(tmp_path, ven, SITE.format(n=1, token="short"))
    with pytest.raises(ConfigError, match=r"s2.tls: needs \[tls\]"):
        _load(tmp_path, ven + "tls = true\n", SITE.format(n=1, token="a-token-of-sixteen-chars"))
    assert _load(tmp_path, fm, SITE.format(n=1, token="a-token-of-sixteen-chars")).s2 is None
    with pytest.raises(ConfigError, match=r"s2.enabled: needs \[flexmeasures\]"):
        _load(tmp_path, "[s2]\nenabled = true\n", SITE.format(n=1, token="a-token-of-sixteen-chars"))


async def test_over_tls_an_rm_pairs_on_wss_with_the_site_vens_certificate(test_pki) -> None:  # noqa: ANN001
    import ssl

    from certs.tls import server_context
    from tests.support.s2_rm import SimulatedRm

    # what the VEN process serves with `[s2] tls = true`: the first site VEN's certificate, no client certificate asked
    context = server_context(replace(test_pki.client("site-a-ecdsa"), require_client_cert=False))
    server = S2Cem(S2Settings(port=0), SITES, ssl_context=context)
    await server.start(tick=False)
    try:
        trusting = ssl.create_default_context(cafile=str(test_pki.cert("ca")))
        trusting.check_hostname = False  # a VEN's certificate names the VEN, not this address; its chain is checked
        from websockets.asyncio.client import connect

        headers = {"Authorization": f"Bearer {TOKENS['battery']}"}
        async with connect(f"wss://127.0.0.1:{server.port}/", ssl=trusting, additional_headers=headers) as ws:
            assert ws.protocol.state.name == "OPEN"  # the certificate verifies against the platform's CA
        with pytest.raises(EOFError):  # plain ws:// is not served: the TLS server drops it
            async with connect(f"ws://127.0.0.1:{server.port}/", additional_headers=headers, open_timeout=5):
                pass
        # an s2-python RM (which checks no certificate when told so) pairs and is described over wss://
        rm = SimulatedRm(f"wss://127.0.0.1:{server.port}/", TOKENS["battery"])
        rm.verify = False
        async with running_rm(rm.url, rm.token, again=rm):
            assert server.state("s2-battery", "battery").ready
    finally:
        await server.stop()


async def test_a_device_whose_rm_never_connects_counts_as_not_following_after_the_timeout(cem: Cem) -> None:
    await cem.cem.dispatch("s2-evse", "evse", floor_slot(cem.clock.now), [3.0])
    await cem.cem.tick()
    assert cem.cem.following("s2-evse", "evse") is None and not cem.changed  # it still may
    cem.clock.now += cem.cem.settings.reception_timeout + timedelta(seconds=1)
    await cem.cem.tick()
    assert cem.cem.following("s2-evse", "evse") is False and cem.changed == ["s2-evse"]
    assert "has not connected" in cem.cem.state("s2-evse", "evse").why
