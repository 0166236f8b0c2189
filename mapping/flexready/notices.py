"""Webhook notifications of the aggregator API, pure: subscriptions as accepted, what changed in an
order since it was last notified, and the signature a receiver checks.

Notification types: `order.acknowledged` (a site's VEN accepted, per modification), `order.refused` (a
site refused: not registered, another event in the way, the VEN's optOut), `order.started` (the window
began), `order.ended` (the window is over, or the order was cancelled), `order.measurements` (a site's
measured figures arrived). Each is sent once per change, oldest first.

Signature: `X-Cariflex-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body, keyed by the
subscription's secret>` — the receiver recomputes it over the raw body and refuses an old `t` (replays).
"""

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from mapping.openadr3 import wire
from mapping.refusal import Refused

EVENTS = ("order.acknowledged", "order.refused", "order.started", "order.ended", "order.measurements")
FIELDS = {"callback_url", "events"}
SIGNATURE_HEADER = "X-Cariflex-Signature"
#: statuses after which an order changes no more (nothing left to notify once measured)
FINAL = ("completed", "cancelled", "refused")


def parse_subscription(body: Any, allowed_hosts: frozenset[str]) -> tuple[str, tuple[str, ...]]:
    """(callback URL, event types) of a subscription body; Refused names the bad field. The URL must be
    http(s) to a host of `[aggregator] callback_hosts` (the VTN calls no other host)."""
    body = wire.obj(body, "body")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise Refused(unknown[0], "is not a field of a subscription")
    url = str(wire.string(body.get("callback_url"), "callback_url", required=True, max_length=2048))
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise Refused("callback_url", "expected an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise Refused("callback_url", "expected an http(s) URL")
    if host not in allowed_hosts:
        raise Refused("callback_url", f"host {host!r} is not allowed ([aggregator] callback_hosts)")
    events = body.get("events", list(EVENTS))
    if not isinstance(events, list) or not events or any(e not in EVENTS for e in events):
        raise Refused("events", f"expected a non-empty list among {', '.join(EVENTS)}")
    return url, tuple(dict.fromkeys(events))


def delivered(measurements: Mapping[str, Any] | None) -> bool:
    """Whether a site's measurements hold its delivered figures: reported, at least one interval achieved, and every
    metered interval achieved (baseline and measured). The VTN's own metering can arrive before a baseline exists —
    before the VEN's x-ACHIEVED_CURTAILMENT when the VTN lacks the history its method reads — and a subscriber told
    then would read no delivered figure; an interval the meter missed has nothing to wait for (its gap is part of
    the figures)."""
    if measurements is None or measurements.get("state") != "reported" or not measurements.get("intervals"):
        return False
    intervals = measurements["intervals"]
    achieved = [i.get("achieved_kw") is not None for i in intervals]
    return any(achieved) and all(done or i.get("measured_kw") is None for done, i in zip(achieved, intervals, strict=True))


def snapshot(view: Mapping[str, Any]) -> dict[str, Any]:
    """What notifications are about, from an order's view (`vtn.aggregator.status.view`)."""
    return {
        "status": view["status"],
        "sites": {
            s["site"]: {
                "ack": [s["ack"]["state"], s["ack"]["modification_number"], s["ack"]["reason"]],
                "measured": delivered(s["measurements"]),
            }
            for s in view["sites"]
        },
    }


def settled(snap: Mapping[str, Any]) -> bool:
    """Whether nothing more can change: a final status and, for a completed order, every placed site measured."""
    if snap["status"] not in FINAL:
        return False
    if snap["status"] != "completed":
        return True
    return all(s["measured"] or s["ack"][0] == "refused" for s in snap["sites"].values())


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(type, detail) of each notification from one snapshot to the next, in the order they happened."""
    old_sites = (before or {}).get("sites", {})
    old_status = (before or {}).get("status")
    found: list[tuple[str, dict[str, Any]]] = []
    for site, now in after["sites"].items():
        was = old_sites.get(site, {"ack": [None, None, None], "measured": False})
        if now["ack"] != was["ack"] and now["ack"][0] in ("accepted", "refused"):
            kind = "order.acknowledged" if now["ack"][0] == "accepted" else "order.refused"
            found.append((kind, {"site": site, "modification_number": now["ack"][1], "reason": now["ack"][2]}))
    status = after["status"]
    if status in ("active", "completed") and old_status not in ("active", "completed"):
        found.append(("order.started", {}))
    if status in ("completed", "cancelled") and old_status not in ("completed", "cancelled"):
        found.append(("order.ended", {"status": status}))
    for site, now in after["sites"].items():
        if now["measured"] and not old_sites.get(site, {}).get("measured"):
            found.append(("order.measurements", {"site": site}))
    return found


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """Whether `header` signs `body` with `secret` within `tolerance` seconds of `now` (what a receiver does)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")
