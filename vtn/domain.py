"""The VTN's in-memory view of stored things (immutable records handed between layers)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from mapping.oadr import model as m
from mapping.oadr.push_profile import PUSHED

#: how often each process writes its buffered last-seen times (the flush job in vtn/app.py); the stored
#: last-seen of a VEN that polls normally is up to this much older than its last poll (vtn/ops/http.py allows for it)
SEEN_FLUSH_INTERVAL = timedelta(seconds=30)


@dataclass(frozen=True)
class VenRecord:
    """A VEN as the VTN knows it; `registration_id` is None when not registered."""

    ven_id: str
    ven_name: str | None
    registration_id: str | None
    profile_name: str = "2.0b"
    transport_name: str = "simpleHttp"
    transport_address: str | None = None
    http_pull_model: bool = True
    report_only: bool = False
    xml_signature: bool = False
    fingerprint: str | None = None
    party_id: str | None = None

    @property
    def registered(self) -> bool:
        """True while the VEN holds a registration."""
        return self.registration_id is not None


@dataclass(frozen=True)
class LiveEvent:
    """An event that is still delivered (not closed). `event.status` is the last status stored."""

    event: m.Event
    cancelled: bool = False
    source: str = "cli"

    @property
    def key(self) -> tuple[str, int, str]:
        """What a VEN must have seen: id, modification and status."""
        return (self.event.event_id, self.event.modification_number, self.event.status)


@dataclass(frozen=True)
class OutboxItem:
    """A VTN-initiated message queued for a VEN."""

    id: int
    ven_id: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


class OutboxKind(StrEnum):
    """What a queued (outbox) message is; equal to the text the store holds."""

    CANCEL_REGISTRATION = "cancel_registration"
    REQUEST_REREGISTRATION = "request_reregistration"
    REGISTER_REPORT = "register_report"
    CREATE_REPORT = "create_report"
    CANCEL_REPORT = "cancel_report"


#: Order in which queued messages go out on poll, before events (lower first): the order of OutboxKind.
OUTBOX_ORDER: dict[str, int] = {kind: rank for rank, kind in enumerate(OutboxKind)}

#: each kind of queued message: the 2.0b message it goes out as
OUTBOX_MESSAGES: dict[str, str] = {
    OutboxKind.CANCEL_REGISTRATION: "oadrCancelPartyRegistration",
    OutboxKind.REQUEST_REREGISTRATION: "oadrRequestReregistration",
    OutboxKind.REGISTER_REPORT: "oadrRegisterReport",
    OutboxKind.CREATE_REPORT: "oadrCreateReport",
    OutboxKind.CANCEL_REPORT: "oadrCancelReport",
}
#: each kind of queued message: the 2.0b message it goes out as, and the service it is pushed to
OUTBOX_WIRE: dict[str, tuple[str, str]] = {kind: (name, PUSHED[name].service) for kind, name in OUTBOX_MESSAGES.items()}


def delivery_note(ven: VenRecord) -> str:
    """When a message queued for `ven` reaches it, as an operator is told."""
    if ven.http_pull_model or not ven.transport_address:
        return "it goes out at the VEN's next poll"
    return "it is pushed to the VEN's endpoint (push mode; retried with back-off while unreachable)"


@dataclass(frozen=True)
class ClientRecord:
    """A stored API client (DSO or aggregator): its secret's hash and the scopes it may be granted."""

    client_id: str
    secret_hash: str
    scopes: frozenset[str]
    disabled: bool = False
