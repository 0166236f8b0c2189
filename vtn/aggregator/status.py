"""An order's or series' status as the API answers it: per site, the event, the acknowledgement
(accepted / refused with the reason / pending) and, once the window is over, what was measured and
achieved per 15-minute slot (from the VEN's x-ACHIEVED_CURTAILMENT report; for an "up" order, the
increase asked and the consumption above the baseline delivered)."""

from datetime import datetime
from typing import Any

from mapping.flexready.acks import site_ack
from mapping.flexready.clock import local_text, utc_text
from mapping.flexready.scope import Scope
from mapping.flexready.upward import up_intervals, up_ratio
from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_end
from mapping.oadr.model import EventStatus
from vtn.curtailment.query import CurtailmentInterval, SiteCurtailment, event_curtailment
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


def _asked_up(event: m.Event) -> dict[datetime, float]:
    """The increase (kW) each interval of an up order's event asks: its LOAD_DISPATCH delta values."""
    asked, start = {}, event.dtstart
    for interval in event.signals[0].intervals if event.signals else ():
        asked[start] = interval.value
        start += interval.duration
    return asked


def _up(found: SiteCurtailment, event: m.Event) -> dict[str, Any]:
    rows = [(i.start, i.baseline_kw, i.measured_kw, i.quality) for i in found.intervals]
    ups = up_intervals(rows, _asked_up(event))
    intervals = [
        {**_interval(i), "requested_kw": u.requested_kw, "achieved_kw": u.delivered_kw, "quality": u.quality}
        for i, u in zip(found.intervals, ups, strict=True)
    ]
    return {"state": "reported", "ratio": up_ratio(ups), "intervals": intervals}


def _measurements(session: Tx, event: m.Event, ven_id: str, settlement: Settlement, direction: str) -> dict[str, Any]:
    found = event_curtailment(session, event.event_id, ven_id, settlement)
    site = next((s for s in found.sites if s.ven_id == ven_id), None)
    if site is None:
        return {"state": "awaiting reports", "ratio": None, "intervals": []}
    if direction == "up":  # an increase: delivered is consumption above the baseline
        return _up(site, event)
    return {"state": "reported", "ratio": site.ratio, "intervals": [_interval(i) for i in site.intervals]}


def _site(
    session: Tx, placement: dict[str, Any], now: datetime, settlement: Settlement, direction: str
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
        "measurements": _measurements(session, event, ven_id, settlement, direction) if over else None,
    }
    return answer, (event.dtstart, end) if end is not None else None


def _ack(ack: Any) -> dict[str, Any]:
    return {"state": ack.state, "reason": ack.reason, "modification_number": ack.modification_number}


def view(session: Tx, stored: StoredRequest, now: datetime, settlement: Settlement, scope: Scope) -> dict[str, Any]:
    """The JSON answer for one order or series of `scope`'s client (`settlement`: methods and subscribed kW,
    for requested reductions). Another client's request is never shown (KeyError)."""
    if stored.client_id != scope.client_id:
        raise KeyError(stored.request_id)
    direction = str(stored.body.get("direction", "down")) if stored.kind == "order" else "down"
    sites, windows = [], []
    for placement in stored.placements:
        site, window = _site(session, placement, now, settlement, direction)
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
    session: Tx, scope: Scope, kind: str, request_id: str, now: datetime, settlement: Settlement
) -> dict[str, Any] | None:
    """The view of one of an aggregator's requests, None when it has none by that id."""
    stored = agg_repo.find_request(session, scope.client_id, kind, request_id)
    return view(session, stored, now, settlement, scope) if stored else None


def list_views(
    session: Tx, scope: Scope, kind: str, now: datetime, settlement: Settlement, limit: int, skip: int
) -> list[dict[str, Any]]:
    """Views of an aggregator's requests, newest first."""
    found = agg_repo.list_requests(session, scope.client_id, kind, limit, skip)
    return [view(session, s, now, settlement, scope) for s in found]
