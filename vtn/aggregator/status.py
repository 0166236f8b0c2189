"""An order's or series' status as the API answers it: per site, the event, the acknowledgement
(accepted / refused with the reason / pending) and, once the window is over, what was measured and
achieved per 15-minute slot (from the VEN's x-ACHIEVED_CURTAILMENT report)."""

from datetime import datetime
from typing import Any

from mapping.flexready.acks import site_ack
from mapping.flexready.clock import local_text, utc_text
from mapping.oadr.lifecycle import event_end
from mapping.oadr.model import EventStatus
from vtn.curtailment.query import CurtailmentInterval, event_curtailment
from vtn.curtailment.settings import Settlement
from vtn.store import Tx
from vtn.store import aggregator_repository as agg_repo
from vtn.store import repository as repo
from vtn.store.aggregator_repository import StoredRequest

ID_FIELD = {"order": "client_order_id", "series": "series_id"}


def _interval(i: CurtailmentInterval) -> dict[str, Any]:
    return {
        "start": utc_text(i.start),
        "end": utc_text(i.end),
        "start_local": local_text(i.start),
        "requested_kw": i.requested_kw,
        "baseline_kw": i.baseline_kw,
        "measured_kw": i.measured_kw,
        "achieved_kw": i.achieved_kw,
        "quality": i.quality,
    }


def _measurements(session: Tx, event_id: str, ven_id: str, settlement: Settlement) -> dict[str, Any]:
    found = event_curtailment(session, event_id, ven_id, settlement)
    site = next((s for s in found.sites if s.ven_id == ven_id), None)
    if site is None:
        return {"state": "awaiting reports", "ratio": None, "intervals": []}
    return {"state": "reported", "ratio": site.ratio, "intervals": [_interval(i) for i in site.intervals]}


def _site(
    session: Tx, placement: dict[str, Any], now: datetime, settlement: Settlement
) -> tuple[dict[str, Any], tuple[datetime, datetime] | None]:
    event_id, ven_id = placement["event_id"], placement["ven_id"]
    found = repo.load_event(session, event_id) if event_id else None
    if found is None or ven_id is None:
        ack = site_ack(placement["refused"] or "no event was created", [])
        return {"site": placement["site"], "event_id": None, "event_status": None, "ack": _ack(ack), "measurements": None}, None
    event = found[0].event
    end = event_end(event.dtstart, event.duration)
    answers = agg_repo.responses(session, event_id, ven_id)
    ack = site_ack(None, answers, agg_repo.opted_out(session, event_id, ven_id), event.modification_number)
    over = end is not None and end <= now and event.status != EventStatus.CANCELLED
    answer = {
        "site": placement["site"],
        "event_id": event_id,
        "event_status": event.status,
        "ack": _ack(ack),
        "measurements": _measurements(session, event_id, ven_id, settlement) if over else None,
    }
    return answer, (event.dtstart, end) if end is not None else None


def _ack(ack: Any) -> dict[str, Any]:
    return {"state": ack.state, "reason": ack.reason, "modification_number": ack.modification_number}


def view(session: Tx, stored: StoredRequest, now: datetime, settlement: Settlement) -> dict[str, Any]:
    """The JSON answer for one order or series (`settlement`: methods and subscribed kW, for requested reductions)."""
    sites, windows = [], []
    for placement in stored.placements:
        site, window = _site(session, placement, now, settlement)
        sites.append(site)
        if window is not None:
            windows.append(window)
    if stored.cancelled:
        status = "cancelled"
    elif not windows:
        status = "refused"  # no site could take it
    elif max(end for _, end in windows) <= now:
        status = "completed"
    elif min(start for start, _ in windows) <= now:
        status = "active"
    else:
        status = "scheduled"
    return {
        ID_FIELD[stored.kind]: stored.request_id,
        "status": status,
        "request": stored.body,
        "created": utc_text(stored.created_at),
        "modified": utc_text(stored.modified_at),
        "sites": sites,
    }


def load_view(
    session: Tx, client_id: str, kind: str, request_id: str, now: datetime, settlement: Settlement
) -> dict[str, Any] | None:
    """The view of one of an aggregator's requests, None when it has none by that id."""
    stored = agg_repo.find_request(session, client_id, kind, request_id)
    return view(session, stored, now, settlement) if stored else None


def list_views(
    session: Tx, client_id: str, kind: str, now: datetime, settlement: Settlement, limit: int, skip: int
) -> list[dict[str, Any]]:
    """Views of an aggregator's requests, newest first."""
    return [view(session, s, now, settlement) for s in agg_repo.list_requests(session, client_id, kind, limit, skip)]
