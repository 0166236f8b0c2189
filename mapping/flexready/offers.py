"""Availability and flexibility offers: how much a site (or a group) can go down and up over a window —
kW, energy and for how long — from what the VTN knows of it. Pure.

What counts, per site (docs/aggregator-api.md, "Offers"):

- its device, from the platform's sites file: a battery or a V2G car can discharge (down) or charge
  (up) at its power, for as long as its energy lasts: down to the owner's reserve and up to full from the
  state of charge its VEN last reported (TELEMETRY_STATUS, the reading it gives FlexMeasures too), or,
  without a recent one, half the usable energy (capacity above the reserve) each way; an EV charger
  can stop (down, only what it draws) or charge (up) at its power for the whole window; a PV roof
  offers nothing (it cannot lower consumption on command, and curtailing it raises import only while
  it produces, which the VTN does not know ahead);
- its last quarter hour's metered import (TELEMETRY_USAGE): down is at most what it imports, up at most
  the headroom under its subscribed power;
- its VEN: not registered, or an availability schedule (oadrCreateOpt optOut without an event) over the
  window, offers nothing.

A site the sites file does not describe (no device) has an unknown offer (None): orders on it are not
checked against an offer, and a group holding one is shared by subscribed power as before.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mapping.refusal import Refused
from mapping.shares import proportional

#: devices whose energy is bounded by a capacity (the others draw from the grid or the sun)
STORAGE = ("battery", "v2g")
DIRECTIONS = ("down", "up")


@dataclass(frozen=True)
class SiteFacts:
    """What the VTN knows of one site when asked for its offer."""

    site: str
    max_kw: float
    device: str | None = None
    device_kw: float = 0.0
    capacity_kwh: float | None = None
    reserve_percent: float = 10.0
    current_kw: float | None = None
    #: the storage's state of charge (%) its VEN last reported, None when not recently
    soc_percent: float | None = None
    registered: bool = True
    #: optOut availability windows over the asked window: (start, end or None, reason)
    unavailable: tuple[tuple[datetime, datetime | None, str], ...] = ()


@dataclass(frozen=True)
class Way:
    """One direction of an offer: kW, energy (kWh) and minutes it can be held; None: unknown."""

    kw: float | None
    kwh: float | None
    minutes: float | None


@dataclass(frozen=True)
class Offer:
    """A site's (or a group's: site None) offer over a window, and why."""

    site: str | None
    down: Way
    up: Way
    basis: tuple[str, ...] = field(default_factory=tuple)

    def way(self, direction: str) -> Way:
        """The offer in `direction` (down or up)."""
        return self.down if direction == "down" else self.up


_NONE = Way(0.0, 0.0, 0.0)
_UNKNOWN = Way(None, None, None)


def reported_soc(status: Mapping[str, Any] | None) -> float | None:
    """The state of charge (%) in a stored TELEMETRY_STATUS payload: the load-control capacity's current value,
    as our VEN reports its storage (`ven.hooks.resource_status`); None when it carries none."""
    capacity = ((status or {}).get("load_control") or {}).get("capacity") or {}
    current = capacity.get("current")
    return float(current) if isinstance(current, int | float) and not isinstance(current, bool) else None


def _storage_energy(facts: SiteFacts, capacity_kwh: float) -> tuple[float, float, str]:
    """(kWh down, kWh up, why): from the reported state of charge, else half the usable energy each way."""
    reserve = facts.reserve_percent
    if facts.soc_percent is None:
        half = capacity_kwh * (1 - reserve / 100.0) / 2.0
        return half, half, f"{half:g} kWh each way (half the capacity above the {reserve:g} % reserve)"
    soc = min(max(facts.soc_percent, 0.0), 100.0)
    down = round(capacity_kwh * max(soc - reserve, 0.0) / 100.0, 6)
    up = round(capacity_kwh * (100.0 - soc) / 100.0, 6)
    return down, up, f"{down:g} kWh down to the {reserve:g} % reserve, {up:g} kWh up to full (its VEN reported {soc:g} %)"


def _way(kw: float, minutes: float, energy_kwh: float | None) -> Way:
    if kw <= 0 or (energy_kwh is not None and energy_kwh <= 0):
        return _NONE
    held = minutes if energy_kwh is None else min(minutes, energy_kwh / kw * 60.0)
    return Way(round(kw, 6), round(kw * held / 60.0, 6), round(held, 3))


def site_offer(facts: SiteFacts, start: datetime, end: datetime) -> Offer:
    """The site's offer over [start, end) (see the module)."""
    if not facts.registered:
        return Offer(facts.site, _NONE, _NONE, ("its VEN has not registered with the VTN",))
    for a, b, reason in facts.unavailable:
        if a < end and (b is None or b > start):
            until = b.isoformat() if b is not None else "further notice"
            return Offer(facts.site, _NONE, _NONE, (f"its VEN declared it unavailable ({reason}) until {until}",))
    if facts.device is None:
        return Offer(facts.site, _UNKNOWN, _UNKNOWN, ("the sites file describes no device for it",))
    minutes = (end - start).total_seconds() / 60.0
    basis = [f"{facts.device} of {facts.device_kw:g} kW"]
    down_kw = up_kw = 0.0
    down_kwh: float | None = None
    up_kwh: float | None = None
    if facts.device in STORAGE:
        down_kw = up_kw = facts.device_kw
        if facts.capacity_kwh is not None:
            down_kwh, up_kwh, why = _storage_energy(facts, facts.capacity_kwh)
            basis.append(why)
    elif facts.device == "evse":
        down_kw = facts.device_kw if facts.current_kw is None else min(facts.device_kw, max(facts.current_kw, 0.0))
        up_kw = facts.device_kw
    else:
        basis.append(f"a {facts.device} device offers no flexibility on command")
    if facts.current_kw is not None:
        down_kw = min(down_kw, max(facts.current_kw, 0.0))
        up_kw = min(up_kw, max(facts.max_kw - facts.current_kw, 0.0))
        basis.append(f"importing {facts.current_kw:g} kW in the last quarter hour, {facts.max_kw:g} kW subscribed")
    else:
        up_kw = min(up_kw, facts.max_kw)
        basis.append("no recent metering: power not bounded by the current import")
    return Offer(facts.site, _way(down_kw, minutes, down_kwh), _way(up_kw, minutes, up_kwh), tuple(basis))


def _sum(ways: Sequence[Way]) -> Way:
    if any(w.kw is None for w in ways):
        return _UNKNOWN
    kw = sum(w.kw or 0.0 for w in ways)
    kwh = sum(w.kwh or 0.0 for w in ways)
    # the group holds its whole power as long as its shortest-lasting contributing site
    minutes = min((w.minutes or 0.0 for w in ways if (w.kw or 0.0) > 0), default=0.0)
    return Way(round(kw, 6), round(kwh, 6), minutes)


def group_offer(offers: Sequence[Offer]) -> Offer:
    """A group's offer: the sum of its sites' (unknown when one of them is)."""
    return Offer(None, _sum([o.down for o in offers]), _sum([o.up for o in offers]), ())


def check(power_kw: float, offer: Offer, direction: str, field_name: str) -> None:
    """Refuse (naming `field_name`) a change larger than the offer in `direction`; an unknown offer passes."""
    kw = offer.way(direction).kw
    if kw is not None and power_kw > kw + 1e-9:
        raise OfferExceeded(field_name, f"{power_kw:g} kW {direction} asked, {kw:g} kW can be delivered", offer)


def shares(total_kw: float, offers: Sequence[Offer], direction: str) -> dict[str, float] | None:
    """A group's kW shared in proportion to what each site offers in `direction`; None when an offer is
    unknown (then share by subscribed power)."""
    weights: Mapping[str, float | None] = {o.site or "": o.way(direction).kw for o in offers}
    if any(w is None for w in weights.values()):
        return None
    return proportional(total_kw, {site: w or 0.0 for site, w in weights.items()})


def _way_json(way: Way) -> dict[str, float | None]:
    return {"kw": way.kw, "kwh": way.kwh, "minutes": way.minutes}


def offer_json(offer: Offer) -> dict[str, Any]:
    """An offer as the API answers it (a group's total has no site and no basis)."""
    return {
        **({"site": offer.site} if offer.site is not None else {}),
        "down": _way_json(offer.down),
        "up": _way_json(offer.up),
        **({"basis": list(offer.basis)} if offer.site is not None else {}),
    }


class OfferExceeded(Refused):
    """An order larger than the offer: the answer carries what can be delivered."""

    def __init__(self, field: str, reason: str, offer: Offer) -> None:
        super().__init__(field, reason)
        self.offer = offer
