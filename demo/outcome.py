"""What the demo's event did, as the VTN's store holds it: deliveries, opt answers and achieved curtailment.

Read with the same queries as `cariflex event show` and `cariflex reports curtailment`, so the demo
prints exactly what an operator would find; formatting is pure.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vtn import curtailment_query
from vtn.store import repository as repo
from vtn.store.worker import StoreWorker


@dataclass(frozen=True)
class EventOutcome:
    """One event's state at the VTN."""

    event_id: str
    status: str
    #: oadrVenName by venID of every VEN that was given the event
    delivered: dict[str, str]
    #: venID → the latest optType it answered (optIn / optOut)
    opts: dict[str, str]
    curtailment: curtailment_query.EventCurtailment | None

    @property
    def opted_in(self) -> list[str]:
        """The venIDs whose latest answer is optIn."""
        return sorted(ven for ven, opt in self.opts.items() if opt == "optIn")

    def reported(self) -> set[str]:
        """The venIDs whose curtailment report has at least one measured interval."""
        if self.curtailment is None:
            return set()
        return {s.ven_id for s in self.curtailment.sites if any(i.measured_kw is not None for i in s.intervals)}


def read_outcome(store: StoreWorker, event_id: str, contracts: Mapping[str, float]) -> EventOutcome:
    """The event's deliveries, opt answers and curtailment from the VTN's store."""
    found = store.call_sync(repo.load_event, event_id)
    if found is None:
        raise LookupError(f"no event {event_id} in the VTN's store")
    names = {ven.ven_id: ven.ven_name or ven.ven_id for ven in store.call_sync(repo.load_vens)}
    delivered = {ven_id: names.get(ven_id, ven_id) for ven_id, _n, _at in store.call_sync(repo.event_deliveries, event_id)}
    opts: dict[str, str] = {}
    for ven_id, _n, opt_type, _code, _at in store.call_sync(repo.event_responses, event_id):
        opts[ven_id] = opt_type  # oldest first: the last answer wins
    try:
        curtailment = store.call_sync(curtailment_query.event_curtailment, event_id, None, contracts)
    except curtailment_query.UnknownEvent:
        curtailment = None
    return EventOutcome(event_id, found[0].event.status, delivered, opts, curtailment)


def _kw(value: float | None) -> str:
    return "—" if value is None else f"{value:7.2f}"


def curtailment_lines(outcome: EventOutcome) -> list[str]:
    """A table of each site's and the total requested / baseline / measured / achieved (kW, mean over the event)."""
    found = outcome.curtailment
    if found is None or not found.sites:
        return ["no curtailment reported yet"]
    lines = [f"{'site':<10} {'requested':>9} {'baseline':>9} {'measured':>9} {'achieved':>9}  quality"]
    for site in sorted(found.sites, key=lambda s: s.ven_name):
        lines.append(_row(site.ven_name, site.intervals))
    lines.append(_row("TOTAL", found.total))
    if found.ratio is not None:
        lines.append(f"achieved / requested over the event: {found.ratio:.0%}")
    return lines


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _row(name: str, intervals: tuple[curtailment_query.CurtailmentInterval, ...]) -> str:
    quality = ",".join(sorted({i.quality for i in intervals}))
    columns = (_mean([getattr(i, f) for i in intervals]) for f in ("requested_kw", "baseline_kw", "measured_kw", "achieved_kw"))
    return f"{name:<10} " + " ".join(f"{_kw(v):>9}" for v in columns) + f"  {quality}"


def as_json(outcome: EventOutcome) -> dict[str, Any]:
    """The outcome as JSON (the demo writes it to outcome.json for scripts and the test)."""
    return {
        "event_id": outcome.event_id,
        "status": outcome.status,
        "delivered": outcome.delivered,
        "opts": outcome.opts,
        "curtailment": curtailment_query.as_json(outcome.curtailment) if outcome.curtailment else None,
    }
