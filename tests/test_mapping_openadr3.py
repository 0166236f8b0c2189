"""OpenADR 3 → 2.0b translation (pure): payload types, units, timeline, targets, refusals naming the field."""

from datetime import UTC, datetime, timedelta

import pytest

from mapping.oadr import model as m
from mapping.openadr3.events import ProgramView, clean_event, render_event, to_draft
from mapping.openadr3.programs import clean_program, render_program
from mapping.openadr3.targets import Directory
from mapping.refusal import Refused

PROGRAM = ProgramView(market_context="http://cariflex.mq/programs/dso-capacity")
DIRECTORY = Directory(
    groups=frozenset({"north", "poste-lamentin"}),
    resources=frozenset({"site-03-battery"}),
    ven_ids_by_name={"site-01": "ven-aaa"},
)


def event(*payloads: tuple[str, list], version_targets: object = None, **extra: object) -> dict:
    """A 3.x event of len(payloads[0][1]) 15-minute intervals starting 2026-11-26 18:00 Martinique (22:00 UTC)."""
    count = len(payloads[0][1])
    body = {
        "programID": "dso-capacity",
        "intervalPeriod": {"start": "2026-11-26T18:00:00-04:00", "duration": "PT15M"},
        "intervals": [
            {"id": i, "payloads": [{"type": t, "values": [values[i]]} for t, values in payloads]} for i in range(count)
        ],
        **extra,
    }
    if version_targets is not None:
        body["targets"] = version_targets
    return body


def draft(body: dict, version: str = "3.0.1", program: ProgramView = PROGRAM):
    return to_draft(clean_event(body, version), version, program, DIRECTORY)


def refused_field(body: dict, version: str = "3.0.1", program: ProgramView = PROGRAM) -> str:
    with pytest.raises(Refused) as caught:
        draft(body, version, program)
    return caught.value.field


def test_capacity_limit_becomes_x_import_capacity_limit_by_default_in_kw():
    d = draft(event(("IMPORT_CAPACITY_LIMIT", [6, 5.5, 4])))
    assert d.dtstart == datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # Martinique (UTC-4) → UTC
    (signal,) = d.signals
    assert (signal.name, signal.type, signal.unit.kind, signal.unit.scale) == (
        "x-IMPORT_CAPACITY_LIMIT",
        "setpoint",
        "powerReal",
        "k",
    )
    assert [i.value for i in signal.intervals] == [6, 5.5, 4]
    assert [i.duration for i in signal.intervals] == [timedelta(minutes=15)] * 3


def test_capacity_limit_per_program_choice_of_load_dispatch_and_watts_converted():
    program = ProgramView(market_context="mc", capacity_signal="LOAD_DISPATCH")
    body = event(("IMPORT_CAPACITY_LIMIT", [6000]), payloadDescriptors=[{"payloadType": "IMPORT_CAPACITY_LIMIT", "units": "W"}])
    (signal,) = draft(body, program=program).signals
    assert (signal.name, signal.type, signal.intervals[0].value) == ("LOAD_DISPATCH", "setpoint", 6.0)


def test_each_payload_type_has_its_2_0b_signal():
    body = event(
        ("PRICE", [0.21]),
        ("EXPORT_PRICE", [0.08]),
        ("SIMPLE", [2]),
        ("GHG", [450]),
        ("DISPATCH_SETPOINT", [3]),
        ("CHARGE_STATE_SETPOINT", [40]),
        ("EXPORT_CAPACITY_LIMIT", [3]),
    )
    signals = {s.signal_id: s for s in draft(body).signals}
    assert (signals["price"].name, signals["price"].type, signals["price"].unit.units) == ("ELECTRICITY_PRICE", "price", "EUR")
    assert signals["export-price"].name == "ELECTRICITY_PRICE"
    assert (signals["simple"].name, signals["simple"].type) == ("SIMPLE", "level")
    assert (signals["ghg"].name, signals["ghg"].unit.kind, signals["ghg"].unit.units) == ("x-GHG", "customUnit", "gCO2e/kWh")
    assert (signals["dispatch"].name, signals["dispatch"].type) == ("LOAD_DISPATCH", "setpoint")
    assert (signals["charge-state"].name, signals["charge-state"].unit.kind) == ("CHARGE_STATE", "energyReal")
    assert signals["export-capacity"].name == "x-EXPORT_CAPACITY_LIMIT"


def test_priority_start_after_and_name():
    body = event(("SIMPLE", [1]), priority=0, eventName="pointe du soir")
    body["intervalPeriod"]["randomizeStart"] = "PT3M"
    d = draft(body)
    assert (d.priority, d.start_after, d.vtn_comment) == (1, timedelta(minutes=3), "pointe du soir")


def test_3_0_1_targets_groups_resources_and_ven_names():
    targets = [
        {"type": "GROUP", "values": ["north"]},
        {"type": "SERVICE_AREA", "values": ["poste-lamentin"]},
        {"type": "RESOURCE_NAME", "values": ["site-03-battery"]},
        {"type": "VEN_NAME", "values": ["site-01"]},
    ]
    d = draft(event(("SIMPLE", [1]), version_targets=targets))
    assert d.target == m.Target(ven_ids=("ven-aaa",), group_ids=("north", "poste-lamentin"), resource_ids=("site-03-battery",))


def test_3_1_targets_are_strings_resolved_by_name():
    d = draft(event(("SIMPLE", [1]), version_targets=["north", "site-01", "site-03-battery"]), version="3.1.0")
    assert d.target == m.Target(ven_ids=("ven-aaa",), group_ids=("north",), resource_ids=("site-03-battery",))


def test_nulls_mean_absent_and_server_fields_are_ignored():
    body = event(("SIMPLE", [1]), eventName=None, priority=None, targets=None, reportDescriptors=None, id="x", objectType="EVENT")
    clean = clean_event(body, "3.0.1")
    assert "eventName" not in clean and "id" not in clean and "targets" not in clean
    assert draft(body).target.is_empty()


def test_rendered_event_always_carries_interval_period_duration_and_utc():
    clean = clean_event(
        {
            "programID": "p",
            "intervals": [
                {"id": 0, "intervalPeriod": {"start": "2026-11-26T18:00:00-04:00", "duration": "PT1H"}, "payloads": []}
            ],
        },
        "3.0.1",
    )
    at = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    out = render_event(clean, "evt-1", at, at, "3.0.1")
    assert out["intervalPeriod"] == {"start": "2026-11-26T22:00:00Z", "duration": "PT1H"}
    assert out["intervals"][0]["intervalPeriod"] == {"start": "2026-11-26T22:00:00Z", "duration": "PT1H"}
    assert (out["objectType"], out["createdDateTime"]) == ("EVENT", "2026-11-26T12:00:00Z")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (event(("OLS", [0.5])), "intervals[0].payloads[0].type"),
        (event(("SIMPLE", [7])), "intervals[0].payloads[0].values[0]"),
        (event(("PRICE", ["cheap"])), "intervals[0].payloads[0].values[0]"),
        (
            event(("PRICE", [0.2]), payloadDescriptors=[{"payloadType": "PRICE", "currency": "EUROS"}]),
            "payloadDescriptors[PRICE].currency",
        ),
        (
            event(("IMPORT_CAPACITY_LIMIT", [5]), payloadDescriptors=[{"payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KVAR"}]),
            "payloadDescriptors[IMPORT_CAPACITY_LIMIT].units",
        ),
        (event(("SIMPLE", [1]), version_targets=[{"type": "GROUP", "values": ["nowhere"]}]), "targets[0].values[0]"),
        (event(("SIMPLE", [1]), version_targets=[{"type": "EVENT_NAME", "values": ["x"]}]), "targets[0].type"),
        (event(("SIMPLE", [1]), version_targets=[{"type": "VEN_NAME", "values": ["site-99"]}]), "targets[0].values[0]"),
        (event(("SIMPLE", [1]), reportDescriptors=[{"payloadType": "USAGE"}]), "reportDescriptors"),
        (event(("SIMPLE", [1]), durationOfShedding="PT1H"), "durationOfShedding"),
        ({"programID": "p", "intervals": [{"id": 0, "payloads": [{"type": "SIMPLE", "values": [1]}]}]}, "intervalPeriod.start"),
        ({"programID": "bad id!", "intervals": []}, "programID"),
        ({"intervals": []}, "programID"),
        ({"programID": "p"}, "intervals"),
        (event(("SIMPLE", [1]), intervalPeriod={"start": "2026-11-26T18:00:00", "duration": "PT15M"}), "intervalPeriod.start"),
        (event(("SIMPLE", [1]), intervalPeriod={"start": "2026-11-26T18:00:00Z", "duration": "P1M"}), "intervalPeriod.duration"),
        (
            event(("SIMPLE", [1]), intervalPeriod={"start": "2026-11-26T18:00:00Z", "duration": "PT0S"}),
            "intervals[0].intervalPeriod.duration",
        ),
    ],
)
def test_what_cannot_be_carried_is_refused_naming_the_field(body, field):
    assert refused_field(body) == field


def test_intervals_must_carry_the_same_payload_types_and_one_value():
    body = event(("SIMPLE", [1, 2]))
    body["intervals"][1]["payloads"] = [{"type": "PRICE", "values": [0.1]}]
    assert refused_field(body) == "intervals[1].payloads"
    body = event(("SIMPLE", [1]))
    body["intervals"][0]["payloads"][0]["values"] = [1, 2]
    assert refused_field(body) == "intervals[0].payloads[0].values"


def test_unknown_interval_member_is_refused():
    body = event(("SIMPLE", [1]))
    body["intervals"][0]["rampRate"] = 5
    assert refused_field(body) == "intervals[0].rampRate"


def test_non_contiguous_intervals_are_refused():
    body = event(("SIMPLE", [1, 2]))
    body["intervals"][1]["intervalPeriod"] = {"start": "2026-11-26T23:00:00Z"}
    assert refused_field(body) == "intervals[1].intervalPeriod.start"


def test_3_1_looping_duration_is_refused_unless_it_equals_the_intervals():
    assert draft(event(("SIMPLE", [1, 2]), duration="PT30M"), version="3.1.0").signals
    assert refused_field(event(("SIMPLE", [1, 2]), duration="PT2H"), version="3.1.0") == "duration"


def test_program_round_trip_drops_nulls_and_other_version_members():
    body = {"programName": "TOU", "programLongName": None, "retailerName": "EDF SEI", "targets": None, "attributes": None}
    clean = clean_program(body, "3.0.1")
    at = datetime(2026, 11, 26, tzinfo=UTC)
    assert render_program(clean, "prg-1", at, at, "3.0.1")["retailerName"] == "EDF SEI"
    assert "retailerName" not in render_program(clean, "prg-1", at, at, "3.1.0")
    with pytest.raises(Refused) as caught:
        clean_program({"programName": ""}, "3.1.0")
    assert caught.value.field == "programName"


def test_rendering_follows_the_version_read_through():
    clean = clean_event(
        event(
            ("PRICE", [0.2]),
            version_targets=[{"type": "GROUP", "values": ["north"]}],
            payloadDescriptors=[{"payloadType": "PRICE", "currency": "EUR"}],
        ),
        "3.0.1",
    )
    at = datetime(2026, 11, 26, tzinfo=UTC)
    as_31 = render_event(clean, "evt-1", at, at, "3.1.0")
    assert as_31["targets"] == ["north"]
    assert as_31["payloadDescriptors"] == [{"payloadType": "PRICE", "currency": "EUR", "objectType": "EVENT_PAYLOAD_DESCRIPTOR"}]
    assert render_event(clean, "evt-1", at, at, "3.0.1")["payloadDescriptors"] == [{"payloadType": "PRICE", "currency": "EUR"}]
