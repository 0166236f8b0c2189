"""French grid operators' signals → events (pure): realistic messages, the 15-minute grid,
America/Martinique ↔ UTC, RTE's Tempo day in Paris time, zone kW shared among the zone's sites, and
malformed messages refused naming the field."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from mapping.dso import ecowatt, local_flex, nebco, sei_peak, tempo
from mapping.dso.common import AdapterSettings
from mapping.dso.zones import SiteCapability, ZoneDirectory, ZoneSite
from mapping.oadr import model as m
from mapping.precedence import GRID_HIGHEST
from mapping.refusal import Refused

SETTINGS = AdapterSettings(program_id="p", zones=("poste-lamentin",))
TEMPO = AdapterSettings(
    program_id="price",
    prices={"BLUE": (0.1296, 0.1609), "WHITE": (0.1486, 0.1894), "RED": (0.1568, 0.7562)},
    peak_start=time(6),
    peak_end=time(22),
)
#: feeder-12: a 50 kW battery on 36 kVA, a 22 kW charger on 36 kVA and a PV roof on 9 kVA, all registered;
#: poste-lamentin: one registered PV site and one that has not registered
ZONES = ZoneDirectory(
    zones={"feeder-12": ("bat", "evse", "pv"), "poste-lamentin": ("pv-2", "late")},
    registered={
        "bat": ZoneSite("bat", "ven-bat", SiteCapability(36.0, "battery", 50.0)),
        "evse": ZoneSite("evse", "ven-evse", SiteCapability(36.0, "evse", 22.0)),
        "pv": ZoneSite("pv", "ven-pv", SiteCapability(9.0, "pv", 5.0)),
        "pv-2": ZoneSite("pv-2", "ven-pv-2", SiteCapability(9.0, "pv", 5.0)),
    },
)


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


def tempo_message(day: str, offset: str = "+01:00", colour: str = "RED") -> dict:
    """RTE's answer for one calendar day (RTE writes it 00:00 to 00:00 Paris time)."""
    following = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    value = {"start_date": f"{day}T00:00:00{offset}", "end_date": f"{following}T00:00:00{offset}", "value": colour}
    return {"tempo_like_calendars": {"values": [{**value, "updated_date": "2026-11-26T10:20:00+01:00"}]}}


def test_tempo_day_runs_06_00_to_06_00_paris_time_peak_in_paris_hours():
    (event,) = tempo.translate(tempo_message("2026-11-27"), TEMPO).events
    assert event.key == "tempo-2026-11-27"
    assert event.start == datetime(2026, 11, 27, 5, 0, tzinfo=UTC)  # 06:00 Paris (UTC+1 in winter) = 01:00 Martinique
    assert event.end == datetime(2026, 11, 28, 5, 0, tzinfo=UTC) and len(event.values) == 96
    assert event.values[:64] == (0.7562,) * 64  # HP 06:00–22:00 Paris
    assert event.values[64:] == (0.1568,) * 32  # HC 22:00–06:00 Paris, the night after
    assert (event.signal_name, event.unit.kind, event.unit.units) == ("ELECTRICITY_PRICE", "currencyPerKWh", "EUR")
    # the day RTE names decides, whatever offset it is written with
    (same,) = tempo.translate(tempo_message("2026-11-27", "-04:00"), TEMPO).events
    assert (same.key, same.start, same.values) == (event.key, event.start, event.values)
    body = tempo_message("2026-11-27", colour="PINK")
    assert refused(tempo.translate, body, TEMPO) == "tempo_like_calendars.values[0].value"


@pytest.mark.parametrize(
    ("day", "start_utc", "off_peak_quarters"),
    [
        ("2026-03-28", datetime(2026, 3, 28, 5, 0, tzinfo=UTC), 28),  # clocks go forward on the 29th at 02:00: 23 h
        ("2026-10-24", datetime(2026, 10, 24, 4, 0, tzinfo=UTC), 36),  # summer time, back on the 25th at 03:00: 25 h
    ],
)
def test_tempo_days_across_a_clock_change_keep_paris_hours(day, start_utc, off_peak_quarters):
    offset = "+01:00" if day.startswith("2026-03") else "+02:00"
    (event,) = tempo.translate(tempo_message(day, offset, "WHITE"), TEMPO).events
    assert event.start == start_utc and len(event.values) == 64 + off_peak_quarters
    assert event.values == (0.1894,) * 64 + (0.1486,) * off_peak_quarters  # 16 h of HP, then the night's HC


def first_values(events) -> dict[str, float]:
    """venID → the first value of its event."""
    return {e.target.ven_ids[0]: e.values[0] for e in events}


def test_local_flex_limit_is_shared_by_flexibility_among_the_zone_sites():
    body = {
        "activation_id": "ENEDIS-ACT-0042",
        "zone": "feeder-12",
        "start": "2026-11-26T18:00:00-04:00",
        "end": "2026-11-26T19:30:00-04:00",
        "power_kw": 40,
        "direction": "IMPORT",
        "mode": "LIMIT",
    }
    events = local_flex.translate(body, SETTINGS, ZONES).events
    assert [e.key for e in events] == ["flex-ENEDIS-ACT-0042-bat", "flex-ENEDIS-ACT-0042-evse", "flex-ENEDIS-ACT-0042-pv"]
    caps = first_values(events)
    # 81 kW subscribed, 40 kW allowed: 41 kW less, taken 36:22 by the battery and the charger, none by PV
    assert caps == pytest.approx({"ven-bat": 36 - 41 * 36 / 58, "ven-evse": 36 - 41 * 22 / 58, "ven-pv": 9.0})
    assert sum(caps.values()) == pytest.approx(40.0)
    (first,) = events[:1]
    assert first.start == datetime(2026, 11, 26, 22, 0, tzinfo=UTC) and len(first.values) == 6
    assert (first.signal_name, first.signal_type, first.priority) == ("x-IMPORT_CAPACITY_LIMIT", "setpoint", GRID_HIGHEST)
    delta = local_flex.translate({**body, "mode": "DELTA"}, SETTINGS, ZONES).events
    # consuming less: the PV roof cannot, so it gets no event (a change of 0 would pin it to its baseline)
    assert first_values(delta) == pytest.approx({"ven-bat": -40 * 36 / 58, "ven-evse": -40 * 22 / 58})
    assert {(e.signal_name, e.signal_type) for e in delta} == {("LOAD_DISPATCH", "delta")}
    export = local_flex.translate({**body, "direction": "EXPORT", "mode": "DELTA"}, SETTINGS, ZONES).events
    # exporting less: the PV roof can be curtailed too
    assert first_values(export) == pytest.approx({"ven-bat": 40 * 36 / 63, "ven-evse": 40 * 22 / 63, "ven-pv": 40 * 5 / 63})
    (export_cap, *_) = local_flex.translate({**body, "direction": "EXPORT"}, SETTINGS, ZONES).events
    assert export_cap.signal_name == "x-EXPORT_CAPACITY_LIMIT"


def test_a_zone_without_flexibility_shares_by_subscription_and_names_unregistered_sites():
    body = {"activation_id": "A7", "zone": "poste-lamentin", "start": "2026-11-26T22:00:00Z", "end": "2026-11-26T22:15:00Z"}
    result = local_flex.translate({**body, "power_kw": 35, "direction": "IMPORT"}, SETTINGS, ZONES)
    (event,) = result.events  # the only registered site takes the whole limit
    assert event.target.ven_ids == ("ven-pv-2",) and event.values == (35.0,)
    assert result.notes == ("late: not registered, no share (the zone's kW is shared among its registered sites)",)
    nobody = ZoneDirectory(zones={"poste-lamentin": ("late",)}, registered={})
    assert refused(local_flex.translate, {**body, "power_kw": 35, "direction": "IMPORT"}, SETTINGS, nobody) == "zone"


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


def test_nebco_profile_per_quarter_hour_shared_by_flexibility():
    body = {
        "order_id": "RTE-NEBCO-7",
        "start": "2026-11-26T22:00:00Z",
        "end": "2026-11-26T23:00:00Z",
        "delta_kw": [-116, -116, -58, 0],
        "zone": "feeder-12",
    }
    result = nebco.translate(body, SETTINGS, ZONES)
    assert result.notes == ("pv: no flexibility in that direction, no share",)
    events = {e.key: e for e in result.events}
    assert events["nebco-RTE-NEBCO-7-bat"].values == (-72.0, -72.0, -36.0, 0.0)  # 36 of the 58 flexible kW
    assert events["nebco-RTE-NEBCO-7-evse"].values == (-44.0, -44.0, -22.0, 0.0)
    assert "nebco-RTE-NEBCO-7-pv" not in events  # PV cannot consume less: nothing asked of it
    assert {e.signal_type for e in events.values()} == {"delta"}
    (lamentin,) = nebco.translate({**body, "zone": None}, SETTINGS, ZONES).events  # the configured zones
    assert lamentin.target == m.Target(ven_ids=("ven-pv-2",)) and lamentin.values == (-116.0, -116.0, -58.0, 0.0)
    assert refused(nebco.translate, {**body, "delta_kw": [-1, -2]}, SETTINGS, ZONES) == "delta_kw"
    assert refused(nebco.translate, {**body, "delta_kw": [-1, None, 3, 4]}, SETTINGS, ZONES) == "delta_kw[1]"
    assert refused(nebco.translate, {**body, "zone": "atlantis"}, SETTINGS, ZONES) == "zone"


def test_sei_evening_peak_local_martinique_times_to_utc():
    body = {"alert_id": "SEI-2026-11-26-01", "date": "2026-11-26", "start": "18:00", "end": "21:00", "level": "ORANGE"}
    (event,) = sei_peak.translate(body, SETTINGS).events
    assert event.start == datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # 18:00 UTC−4
    assert event.end == datetime(2026, 11, 27, 1, 0, tzinfo=UTC) and event.values == (2.0,) * 12
    assert event.key == "sei-peak-2026-11-26" and event.priority == GRID_HIGHEST
    assert refused(sei_peak.translate, {**body, "start": "18:10"}, SETTINGS) == "start"
    assert refused(sei_peak.translate, {**body, "level": "PURPLE"}, SETTINGS) == "level"
    assert refused(sei_peak.translate, {**body, "date": "26/11/2026"}, SETTINGS) == "date"
