"""What the demo's event did, as the VTN serves it over HTTP: deliveries, opt answers and achieved curtailment.

Read from the operator UI's JSON (demo/vtn_api.py), which serves the same queries as the UI's event page and
`cariflex reports curtailment`, so the demo prints exactly what an operator would find.
"""

from dataclasses import dataclass
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


def as_json(outcome: EventOutcome) -> dict[str, Any]:
    """The outcome as JSON (the demo writes it to outcome.json for scripts and the test)."""
    return {
        "event_id": outcome.event_id,
        "status": outcome.status,
        "delivered": outcome.delivered,
        "opts": outcome.opts,
        "curtailment": outcome.curtailment,
    }
