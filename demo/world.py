"""The demo's simulated sites: household load, PV, batteries and EVs. Pure functions and small value
objects; `demo/simulator.py` drives them in time and publishes what they measure.

Everything is deterministic for a given site and time (the "noise" is a hash), so two runs of the
demo tell the same story and a test can recompute any value.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from mapping.flex.forecast import household_kw as forecast_household_kw

MARTINIQUE = ZoneInfo("America/Martinique")

#: a storage device without a schedule charges towards this share of its capacity
DEFAULT_CHARGE_TARGET = 0.9


def _unit_noise(*parts: object) -> float:
    """A deterministic number in [-1, 1) from the parts (a site name, a minute…)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**31 - 1.0


def household_kw(site: str, base_kw: float, local: datetime) -> float:
    """The household's consumption (kW) at a local time: Martinique's residential profile (what the VENs
    forecast, `mapping.flex.forecast`), ±5 % per minute."""
    minute = local.replace(second=0, microsecond=0)
    return round(forecast_household_kw(base_kw, minute) * (1 + 0.05 * _unit_noise(site, minute.isoformat())), 3)


@dataclass(frozen=True)
class EvSession:
    """When an EV is plugged in (local times) and its state of charge on arrival (share of capacity)."""

    arrival: datetime
    departure: datetime
    soc_on_arrival: float

    def plugged(self, local: datetime) -> bool:
        """Whether the EV is connected at `local`."""
        return self.arrival <= local < self.departure


def ev_session(site: str, local_day: datetime, earliest: time = time(16, 15), spread_minutes: int = 45) -> EvSession:
    """The evening session of a site's EV on a local day: it arrives between `earliest` and `earliest` +
    `spread_minutes`, 20–40 % charged, and leaves at 07:00 the next morning."""
    day = local_day.replace(hour=0, minute=0, second=0, microsecond=0)
    start = day + timedelta(hours=earliest.hour, minutes=earliest.minute)
    arrival = start + timedelta(minutes=round((_unit_noise(site, day.date(), "arrival") + 1) / 2 * spread_minutes))
    soc = 0.3 + 0.1 * _unit_noise(site, day.date(), "soc")
    return EvSession(arrival=arrival, departure=day + timedelta(days=1, hours=7), soc_on_arrival=round(soc, 3))


@dataclass
class Storage:
    """A battery or an EV's battery behind a charger: what it holds and how fast it may move."""

    capacity_kwh: float
    soc_kwh: float
    charge_kw: float
    discharge_kw: float
    #: what it charges at without a schedule (an EV: the charger's full power; a battery: a top-up rate)
    default_charge_kw: float
    #: the share of the power that reaches (charging) or leaves (discharging) the cells: the round trip's square root
    efficiency: float = 1.0
    #: the lowest it is ever run down to (kWh): the owner's or mobility reserve its RM declares
    floor_kwh: float = 0.0

    @property
    def soc_percent(self) -> float:
        """State of charge, % of capacity."""
        return round(100 * self.soc_kwh / self.capacity_kwh, 2)

    def power_for(self, setpoint_kw: float | None, hours: float) -> float:
        """The power (kW, charging positive) the device runs at for `hours`: the setpoint (a schedule),
        or, without one, charging towards DEFAULT_CHARGE_TARGET — always within its power and energy."""
        if setpoint_kw is None:
            room = self.capacity_kwh * DEFAULT_CHARGE_TARGET - self.soc_kwh
            setpoint_kw = min(self.default_charge_kw, max(room, 0.0) / hours) if hours > 0 else 0.0
        power = min(max(setpoint_kw, -self.discharge_kw), self.charge_kw)
        if hours > 0:
            power = min(power, (self.capacity_kwh - self.soc_kwh) / hours / self.efficiency)  # not beyond full
            power = max(power, -max(self.soc_kwh - self.floor_kwh, 0.0) / hours * self.efficiency)  # not below the floor
        return power

    def run(self, power_kw: float, hours: float) -> None:
        """Move the state of charge by `power_kw` (at the meter) for `hours`: the losses on the way in and out."""
        stored = power_kw * self.efficiency if power_kw >= 0 else power_kw / self.efficiency
        self.soc_kwh = min(max(self.soc_kwh + stored * hours, 0.0), self.capacity_kwh)
