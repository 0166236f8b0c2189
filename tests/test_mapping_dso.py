"""French grid operators' signals → events (pure): realistic messages, the 15-minute grid,
America/Martinique ↔ UTC, and malformed messages refused naming the field."""

from datetime import UTC, datetime, time

import pytest

from mapping.dso import ecowatt, local_flex, nebco, sei_peak, tempo
from mapping.dso.common import AdapterSettings
from mapping.oadr import model as m
from mapping.refusal import Refused

SETTINGS = AdapterSettings(program_id="p", zones=("poste-lamentin",))
TEMPO = AdapterSettings(
    program_id="price",
    prices={"BLUE": (0.1296, 0.1609), "WHITE": (0.1486, 0.1894), "RED": (0.1568, 0.7562)},
    peak_start=time(6),
    peak_end=time(22),
)
ZONES = frozenset({"poste-lamentin", "feeder-12"})


def ecowatt_message(levels_by_day: list[list[int]]) -> dict:
    """The shape of RTE's EcoWatt v5 answer."""
    return {
        "signals": [
            {
                "GenerationFichier": "2026-11-26T00:00:00+01:00",
                "jour": f"2026-11-{27 + d:02d}T00:00:00+01:00",
                "dvalue": max(levels),
                "message": "Situation tendue",
                "values": [{"pas": h, "hvalue": v} for h, v in enumerate(levels)],
            }
            for d, levels in enumerate(levels_by_day)
        ]
    }


def refused(fn, *args) -> str:
    with pytest.raises(Refused) as caught:
        fn(*args)
    return caught.value.field


def test_ecowatt_orange_and_red_hours_become_quarter_hour_simple_levels():
    day = [1] * 24
    day[18], day[19] = 2, 3  # 18:00–20:00 Paris time
    result = ecowatt.translate(ecowatt_message([day, [1] * 24]), SETTINGS)
    assert result.message_id == "2026-11-26T00:00:00+01:00"
    (event,) = result.events  # the all-green day makes no event
    assert result.notes == ("2026-11-28: all hours green, no event",)
    assert event.key == "ecowatt-2026-11-27" and event.start == datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    assert len(event.values) == 96 and event.values[18 * 4 : 20 * 4] == (1,) * 4 + (2,) * 4 and event.values[0] == 0
    assert (event.signal_name, event.signal_type, event.target) == ("SIMPLE", "level", m.Target(group_ids=("poste-lamentin",)))


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["signals"][0]["values"][3].update(hvalue=7), "signals[0].values[3].hvalue"),
        (lambda b: b["signals"][0].update(jour="2026-11-27"), "signals[0].jour"),
        (lambda b: b["signals"][0]["values"].pop(5), "signals[0].values"),
        (lambda b: b["signals"][0].pop("GenerationFichier"), "message_id"),
        (lambda b: b.update(signals=[]), "signals"),
    ],
)
def test_malformed_ecowatt_is_refused_naming_the_field(mutate, field):
    body = ecowatt_message([[2] * 24])
    mutate(body)
    assert refused(ecowatt.translate, body, SETTINGS) == field


def test_tempo_red_day_prices_peak_and_off_peak_in_martinique_time():
    body = {
        "tempo_like_calendars": {
            "start_date": "2026-11-27T00:00:00-04:00",
            "end_date": "2026-11-28T00:00:00-04:00",
            "values": [
                {
                    "start_date": "2026-11-27T00:00:00-04:00",
                    "end_date": "2026-11-28T00:00:00-04:00",
                    "value": "RED",
                    "updated_date": "2026-11-26T10:20:00+01:00",
                }
            ],
        }
    }
    (event,) = tempo.translate(body, TEMPO).events
    assert event.key == "tempo-2026-11-27" and event.start == datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
    assert len(event.values) == 96
    assert event.values[6 * 4 - 1] == 0.1568 and event.values[6 * 4] == 0.7562  # 05:45 off-peak, 06:00 peak (local)
    assert event.values[22 * 4 - 1] == 0.7562 and event.values[22 * 4] == 0.1568
    assert (event.signal_name, event.unit.kind, event.unit.units) == ("ELECTRICITY_PRICE", "currencyPerKWh", "EUR")
    body["tempo_like_calendars"]["values"][0]["value"] = "PINK"
    assert refused(tempo.translate, body, TEMPO) == "tempo_like_calendars.values[0].value"


def test_local_flex_limit_and_delta():
    body = {
        "activation_id": "ENEDIS-ACT-0042",
        "zone": "feeder-12",
        "start": "2026-11-26T18:00:00-04:00",
        "end": "2026-11-26T19:30:00-04:00",
        "power_kw": 40,
        "direction": "IMPORT",
        "mode": "LIMIT",
    }
    (event,) = local_flex.translate(body, SETTINGS, ZONES).events
    assert event.start == datetime(2026, 11, 26, 22, 0, tzinfo=UTC) and event.values == (40.0,) * 6
    assert (event.signal_name, event.signal_type, event.target.group_ids) == (
        "x-IMPORT_CAPACITY_LIMIT",
        "setpoint",
        ("feeder-12",),
    )
    (delta,) = local_flex.translate({**body, "mode": "DELTA"}, SETTINGS, ZONES).events
    assert (delta.signal_name, delta.signal_type, delta.values[0]) == ("LOAD_DISPATCH", "delta", -40.0)
    (export,) = local_flex.translate({**body, "direction": "EXPORT"}, SETTINGS, ZONES).events
    assert export.signal_name == "x-EXPORT_CAPACITY_LIMIT"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": "2026-11-26T18:05:00-04:00"}, "start"),
        ({"end": "2026-11-26T17:00:00-04:00"}, "end"),
        ({"zone": "atlantis"}, "zone"),
        ({"power_kw": "forty"}, "power_kw"),
        ({"direction": "UP"}, "direction"),
        ({"mode": "SHED"}, "mode"),
        ({"activation_id": None}, "activation_id"),
        ({"start": "2026-11-26T18:00:00"}, "start"),
    ],
)
def test_malformed_local_flex_is_refused_naming_the_field(change, field):
    body = {
        "activation_id": "A1",
        "zone": "feeder-12",
        "start": "2026-11-26T18:00:00-04:00",
        "end": "2026-11-26T19:00:00-04:00",
        "power_kw": 40,
        "direction": "IMPORT",
    }
    assert refused(local_flex.translate, {**body, **change}, SETTINGS, ZONES) == field


def test_nebco_profile_per_quarter_hour():
    body = {
        "order_id": "RTE-NEBCO-7",
        "start": "2026-11-26T22:00:00Z",
        "end": "2026-11-26T23:00:00Z",
        "delta_kw": [-120, -120, -80, -40],
    }
    (event,) = nebco.translate(body, SETTINGS, ZONES).events
    assert event.values == (-120.0, -120.0, -80.0, -40.0) and event.signal_type == "delta"
    assert event.target == m.Target(group_ids=("poste-lamentin",))
    assert refused(nebco.translate, {**body, "delta_kw": [-1, -2]}, SETTINGS, ZONES) == "delta_kw"
    assert refused(nebco.translate, {**body, "delta_kw": [-1, None, 3, 4]}, SETTINGS, ZONES) == "delta_kw[1]"


def test_sei_evening_peak_local_martinique_times_to_utc():
    body = {"alert_id": "SEI-2026-11-26-01", "date": "2026-11-26", "start": "18:00", "end": "21:00", "level": "ORANGE"}
    (event,) = sei_peak.translate(body, SETTINGS).events
    assert event.start == datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # 18:00 UTC−4
    assert event.end == datetime(2026, 11, 27, 1, 0, tzinfo=UTC) and event.values == (2.0,) * 12
    assert event.key == "sei-peak-2026-11-26"
    assert refused(sei_peak.translate, {**body, "start": "18:10"}, SETTINGS) == "start"
    assert refused(sei_peak.translate, {**body, "level": "PURPLE"}, SETTINGS) == "level"
    assert refused(sei_peak.translate, {**body, "date": "26/11/2026"}, SETTINGS) == "date"
