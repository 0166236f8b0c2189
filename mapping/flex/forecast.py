"""What a site would import without any event, per 15-minute slot: its household on a daily profile plus
what its device would do uncontrolled — the load a signal's request is measured against. Pure.

The household forecast is the site's typical load (`base_load_kw`) shaped by a daily profile of local
hours; Martinique's residential default peaks 18:00–21:00 (cooking, lighting, air conditioning). PV is
forecast under a clear sky (`mapping.solar`).
"""

from datetime import datetime, tzinfo

from mapping.flex.constraints import LoadForecast
from mapping.flex.devices import Device, expected_kw, flexible_kw, sessions
from mapping.grid import QUARTER
from mapping.solar import pv_kw

#: a Martinique household's consumption through the day as a share of its typical load (local hour → factor)
MARTINIQUE_RESIDENTIAL = (
    0.55, 0.5, 0.5, 0.5, 0.55, 0.7, 1.0, 1.2, 1.0, 0.85, 0.8, 0.85,
    0.95, 0.9, 0.85, 0.85, 0.95, 1.2, 1.9, 2.3, 2.2, 1.7, 1.1, 0.75,
)  # fmt: skip


def household_kw(base_kw: float, local: datetime, profile: tuple[float, ...] = MARTINIQUE_RESIDENTIAL) -> float:
    """The household's expected consumption (kW) at a local time: the profile, interpolated between hours."""
    hour = local.hour + local.minute / 60 + local.second / 3600
    low, high = profile[int(hour) % 24], profile[(int(hour) + 1) % 24]
    return base_kw * (low + (high - low) * (hour - int(hour)))


def household_series(
    base_kw: float, start: datetime, end: datetime, zone: tzinfo, profile: tuple[float, ...] = MARTINIQUE_RESIDENTIAL
) -> dict[datetime, float]:
    """The household's expected consumption per slot of [start, end) (the profile at mid-slot)."""
    series, slot = {}, start
    while slot < end:
        series[slot] = round(household_kw(base_kw, (slot + QUARTER / 2).astimezone(zone), profile), 6)
        slot += QUARTER
    return series


def site_forecast(
    device: Device | None,
    base_kw: float,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    place: tuple[float, float],
    profile: tuple[float, ...] = MARTINIQUE_RESIDENTIAL,
) -> LoadForecast:
    """Expected import and flexible load per slot of [start, end) (slot means: the profile at mid-slot)."""
    at = sessions(device, start, end, zone) if device is not None else []
    expected, flexible = {}, {}
    for slot, house in household_series(base_kw, start, end, zone, profile).items():
        pv = pv_kw(device.peak_kw, slot + QUARTER / 2, *place) if device is not None and device.kind == "pv" else 0.0
        own = expected_kw(device, at, pv, slot) if device is not None else 0.0
        expected[slot] = round(house + own, 6)
        flexible[slot] = round(flexible_kw(device, at, house, slot, start), 6) if device is not None else 0.0
    return LoadForecast(expected, flexible, default_expected_kw=base_kw, default_flexible_kw=0.0)
