"""What the demo's event did, as the VTN serves it over HTTP: deliveries, opt answers and achieved curtailment.

Read from the operator UI's JSON (demo/vtn_api.py), which serves the same queries as the UI's event page and
`cariflex reports curtailment`, so the demo prints exactly what an operator would find. Beside it, what the site
simulator's meters measured while the devices were asked, against each site's twin dispatched nothing
(`metered_sites`): the response per device kind, at the meter.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from demo.vtn_api import VtnApi
from mapping.oadr.model import OptType


@dataclass(frozen=True)
class EventOutcome:
    """One event's state at the VTN."""

    event_id: str
    status: str
    #: oadrVenName by venID of every VEN that was given the event: those the VTN recorded as delivered, and
    #: those that answered it (an answer proves the delivery; the VTN writes deliveries every few seconds, and
    #: answers at once, so the recorded deliveries alone can trail the answers)
    delivered: dict[str, str]
    #: venID → the latest optType it answered (optIn / optOut)
    opts: dict[str, str]
    #: the VTN's curtailment JSON (GET /ui/events/{id}/curtailment.json, docs/curtailment.md)
    curtailment: dict[str, Any]

    @property
    def opted_in(self) -> list[str]:
        """The venIDs whose latest answer is optIn."""
        return sorted(ven for ven, opt in self.opts.items() if opt == OptType.OPT_IN)

    def reported(self) -> set[str]:
        """The venIDs whose VEN's own curtailment report arrived (its claimed baseline is there beside the VTN's)."""
        return {
            site["ven_id"]
            for site in self.curtailment["sites"]
            if any(interval["ven_baseline_kw"] is not None for interval in site["intervals"])
        }


async def read_outcome(vtn: VtnApi, event_id: str) -> EventOutcome:
    """The event's deliveries, opt answers and curtailment from the VTN; LookupError when it has no such event."""
    found = await vtn.deliveries(event_id)
    rows = found["deliveries"]
    delivered = {row["ven_id"]: row["ven_name"] or row["ven_id"] for row in rows}
    opts = {row["ven_id"]: row["opt_type"] for row in rows if row["opt_type"]}
    return EventOutcome(event_id, found["status"], delivered, opts, await vtn.curtailment(event_id))


def as_json(outcome: EventOutcome, asked: "Asked | None" = None, metered: Sequence["MeteredSite"] = ()) -> dict[str, Any]:
    """The outcome as JSON (the demo writes it to outcome.json for scripts and the test), with the sites' metered
    import while they were asked beside their twins' (`metered_sites`)."""
    found: dict[str, Any] = {
        "event_id": outcome.event_id,
        "status": outcome.status,
        "delivered": outcome.delivered,
        "opts": outcome.opts,
        "curtailment": outcome.curtailment,
        "metered": [asdict(site) for site in metered],
    }
    if asked is not None:
        found["metered_window"] = {"start": asked.start.isoformat(), "end": asked.end.isoformat()}
    return found


@dataclass(frozen=True)
class Asked:
    """When the devices were asked to respond — from the alert (or the event's start, if later) to the event's end —
    and which of them could then lower their site's import (demo.simulator.SiteSimulator.movable)."""

    start: datetime
    end: datetime
    movable: Mapping[str, bool]


@dataclass(frozen=True)
class MeteredSite:
    """One site's metered import over the event (kW, mean of its meter's readings), beside its twin's: the same
    household, sun and EV, dispatched nothing — what the site would have done."""

    site: str
    kind: str
    measured_kw: float
    uncontrolled_kw: float
    #: its device could lower the import when the alert came (demo.simulator.SiteSimulator.movable)
    movable: bool

    @property
    def response_kw(self) -> float:
        """How much less the site drew than it would have (positive: it lowered its import)."""
        return self.uncontrolled_kw - self.measured_kw


def _mean(readings: Iterable[tuple[datetime, float]], start: datetime, end: datetime) -> float | None:
    values = [kw for at, kw in readings if start <= at < end]
    return sum(values) / len(values) if values else None


def metered_sites(
    readings: Mapping[str, Sequence[tuple[datetime, float]]],
    uncontrolled: Mapping[str, Sequence[tuple[datetime, float]]],
    kinds: Mapping[str, str],
    asked: Asked,
) -> list[MeteredSite]:
    """Each site's mean metered import while asked beside its twin's (sites without readings left out)."""
    found = []
    for site in sorted(readings):
        measured = _mean(readings[site], asked.start, asked.end)
        free = _mean(uncontrolled.get(site, ()), asked.start, asked.end)
        if measured is not None and free is not None:
            found.append(MeteredSite(site, kinds[site], round(measured, 3), round(free, 3), asked.movable.get(site, False)))
    return found


def by_kind(sites: Iterable[MeteredSite]) -> dict[str, tuple[int, int, float, float]]:
    """Per device kind: (sites, of them movable, summed measured kW, summed uncontrolled kW)."""
    totals: dict[str, tuple[int, int, float, float]] = {}
    for s in sites:
        count, movable, measured, free = totals.get(s.kind, (0, 0, 0.0, 0.0))
        totals[s.kind] = (count + 1, movable + s.movable, measured + s.measured_kw, free + s.uncontrolled_kw)
    return totals
