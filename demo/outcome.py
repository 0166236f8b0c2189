"""What the demo's event did, as the VTN's store holds it: deliveries, opt answers and achieved curtailment.

Read with the same queries as `cariflex event show` and `cariflex reports curtailment`, so the demo
prints exactly what an operator would find; its table is `cariflex reports curtailment --format table`'s
(`vtn.curtailment.table`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mapping.oadr.model import OptType
from vtn.curtailment import query as curtailment_query
from vtn.store import repository as repo
from vtn.store.worker import StoreWorker


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
    curtailment: curtailment_query.EventCurtailment | None

    @property
    def opted_in(self) -> list[str]:
        """The venIDs whose latest answer is optIn."""
        return sorted(ven for ven, opt in self.opts.items() if opt == OptType.OPT_IN)

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
        delivered.setdefault(ven_id, names.get(ven_id, ven_id))
    try:
        curtailment = store.call_sync(curtailment_query.event_curtailment, event_id, None, contracts)
    except curtailment_query.UnknownEvent:
        curtailment = None
    return EventOutcome(event_id, found[0].event.status, delivered, opts, curtailment)


def as_json(outcome: EventOutcome) -> dict[str, Any]:
    """The outcome as JSON (the demo writes it to outcome.json for scripts and the test)."""
    return {
        "event_id": outcome.event_id,
        "status": outcome.status,
        "delivered": outcome.delivered,
        "opts": outcome.opts,
        "curtailment": curtailment_query.as_json(outcome.curtailment) if outcome.curtailment else None,
    }
