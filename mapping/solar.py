"""Where the sun is and what a PV array makes of it under a clear sky: the VENs' PV forecast and the demo's
simulated PV share it. Pure."""

import math
from datetime import UTC, datetime

#: clear-sky output of a PV array as a share of its peak at the sun's elevation (losses, temperature)
PV_SYSTEM_FACTOR = 0.8


def solar_elevation_deg(at: datetime, latitude: float, longitude: float) -> float:
    """The sun's elevation above the horizon (degrees) at a UTC time and place (NOAA's approximation, ±1°)."""
    at = at.astimezone(UTC)
    day_angle = 2 * math.pi / 365 * (at.timetuple().tm_yday - 1 + (at.hour - 12) / 24)
    declination = (
        0.006918
        - 0.399912 * math.cos(day_angle)
        + 0.070257 * math.sin(day_angle)
        - 0.006758 * math.cos(2 * day_angle)
        + 0.000907 * math.sin(2 * day_angle)
    )
    equation_of_time = 229.18 * (
        0.000075
        + 0.001868 * math.cos(day_angle)
        - 0.032077 * math.sin(day_angle)
        - 0.014615 * math.cos(2 * day_angle)
        - 0.040849 * math.sin(2 * day_angle)
    )
    solar_minutes = at.hour * 60 + at.minute + at.second / 60 + equation_of_time + 4 * longitude
    hour_angle = math.radians(solar_minutes / 4 - 180)
    lat = math.radians(latitude)
    sin_elevation = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(declination) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, sin_elevation))))


def pv_kw(peak_kw: float, at: datetime, latitude: float, longitude: float) -> float:
    """What a PV array of `peak_kw` produces (kW, positive) under a clear sky at a UTC time and place."""
    elevation = solar_elevation_deg(at, latitude, longitude)
    if elevation <= 0:
        return 0.0
    return round(peak_kw * PV_SYSTEM_FACTOR * math.sin(math.radians(elevation)), 3)
