"""What the VTN needs on every poll, held in memory: VENs, memberships, live events, queued
messages, what each VEN was last given, and the encoded event fragments.

The store is the truth; this is a cache filled at start-up, written through by this process and
refreshed from the store's change feed for what other processes (or the CLI) wrote.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from mapping.oadr import model as m
from mapping.oadr.current_value import in_force_key, with_current_values
from mapping.oadr.encode import encode_event
from mapping.oadr.lifecycle import priority_key
from mapping.oadr.model import EventStatus
from mapping.oadr.vtn_reports import is_due
from vtn.domain import OUTBOX_ORDER, LiveEvent, OutboxItem, VenRecord

_STATUS_RANK = {status: rank for rank, status in enumerate(EventStatus)}  # the lifecycle order


@dataclass
class LiveState:
    """The in-memory view; mutated only from the event loop."""

    vens: dict[str, VenRecord] = field(default_factory=dict)
    groups_by_name: dict[str, set[str]] = field(default_factory=dict)
    resources_by_name: dict[str, set[str]] = field(default_factory=dict)
    events: dict[str, LiveEvent] = field(default_factory=dict)
    outbox: dict[str, list[OutboxItem]] = field(default_factory=dict)
    #: what each VEN was last given: the keys of its distributed events
    delivered: dict[str, tuple[tuple[str, int, str], ...]] = field(default_factory=dict)
    _fragments: dict[tuple[tuple[str, int, str], tuple[int | None, ...]], bytes] = field(default_factory=dict)
    #: (venID, eventID) → the highest modificationNumber the VEN answered with oadrCreatedEvent
    acknowledged: dict[tuple[str, str], int] = field(default_factory=dict)
    #: report data checks, filled on first use: request → VEN it was made to; VEN → {(specifier, rID): readingType}
    report_owner: dict[str, str] = field(default_factory=dict)
    offered: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)
    _by_name: dict[str, str] = field(default_factory=dict)
    _by_registration: dict[str, str] = field(default_factory=dict)

    # --- VENs -------------------------------------------------------------------------------

    def put_ven(self, record: VenRecord) -> None:
        """Add or replace a VEN (and its name and registration indexes)."""
        old = self.vens.get(record.ven_id)
        if old is not None:
            self._by_name.pop(old.ven_name or "", None)
            self._by_registration.pop(old.registration_id or "", None)
            if (old.registration_id, old.http_pull_model) != (record.registration_id, record.http_pull_model):
                # a new registration (made through this process or another) starts with nothing given: every
                # process — the pushing leader too — hands it its events again
                self.delivered.pop(record.ven_id, None)
        self.vens[record.ven_id] = record
        if record.ven_name:
            self._by_name[record.ven_name] = record.ven_id
        if record.registration_id:
            self._by_registration[record.registration_id] = record.ven_id

    def ven_by_name(self, ven_name: str) -> VenRecord | None:
        """A VEN by oadrVenName."""
        ven_id = self._by_name.get(ven_name)
        return self.vens.get(ven_id) if ven_id else None

    def ven_by_registration(self, registration_id: str) -> VenRecord | None:
        """A VEN by registrationID."""
        ven_id = self._by_registration.get(registration_id)
        return self.vens.get(ven_id) if ven_id else None

    # --- events -----------------------------------------------------------------------------

    def put_event(self, live: LiveEvent, closed: bool = False) -> None:
        """Add or update an event, never going back to an older modification or status."""
        current = self.events.get(live.event.event_id)
        if current is not None:
            older_mod = live.event.modification_number < current.event.modification_number
            same_mod_older_status = live.event.modification_number == current.event.modification_number and _STATUS_RANK.get(
                live.event.status, 0
            ) < _STATUS_RANK.get(current.event.status, 0)
            if older_mod or same_mod_older_status:
                return
        if closed:
            self.events.pop(live.event.event_id, None)
        else:
            self.events[live.event.event_id] = live

    def set_status(self, event_id: str, status: str, closed: bool) -> None:
        """Apply a lifecycle status change."""
        live = self.events.get(event_id)
        if live is None:
            return
        if closed:
            del self.events[event_id]
        else:
            self.events[event_id] = replace(live, event=replace(live.event, status=status))

    def events_for(self, ven: VenRecord) -> list[LiveEvent]:
        """The events `ven` must hold now, in delivery order (priority, then start)."""
        groups, resources = self._memberships(ven)
        chosen = [e for e in self.events.values() if _targets(e.event.target, ven, groups, resources)]
        chosen.sort(key=lambda e: priority_key(e.event))
        return chosen

    def targeted_vens(self, event: m.Event) -> list[VenRecord]:
        """The registered VENs an event targets (by venID, partyID, group or resource), as of now."""
        return [ven for ven in self.vens.values() if ven.registered and _targets(event.target, ven, *self._memberships(ven))]

    def targets(self, event: m.Event, ven: VenRecord) -> bool:
        """Whether `event` is for `ven` now (by venID, partyID, group or resource; an empty target: every VEN)."""
        return _targets(event.target, ven, *self._memberships(ven))

    def _memberships(self, ven: VenRecord) -> tuple[set[str], set[str]]:
        name = ven.ven_name or ""
        return self.groups_by_name.get(name, set()), self.resources_by_name.get(name, set())

    def acknowledge(self, ven_id: str, event_id: str, modification_number: int) -> None:
        """Note a VEN's oadrCreatedEvent for an event modification."""
        key = (ven_id, event_id)
        self.acknowledged[key] = max(modification_number, self.acknowledged.get(key, -1))

    def needs_distribution(self, ven_id: str, events: list[LiveEvent]) -> bool:
        """True when the VEN's events changed since it was last given them, or when it has not yet
        answered an event that requires a response (it is sent again until it answers)."""
        if tuple(e.key for e in events) != self.delivered.get(ven_id, ()):
            return True
        return any(
            e.event.response_required == "always"
            and self.acknowledged.get((ven_id, e.event.event_id), -1) < e.event.modification_number
            for e in events
        )

    def fragment(self, live: LiveEvent, at: datetime) -> bytes:
        """The encoded oadrEvent of `live` as sent at `at`, its currentValues those of the intervals in force then
        (cached per id, modification, status and intervals in force)."""
        key = (live.key, in_force_key(live.event, at))
        cached = self._fragments.get(key)
        if cached is None:
            cached = encode_event(with_current_values(live.event, at))
            if len(self._fragments) > 4 * len(self.events) + 1024:
                self._fragments.clear()
            self._fragments[key] = cached
        return cached

    # --- outbox -----------------------------------------------------------------------------

    def set_outbox(self, ven_id: str, items: Iterable[OutboxItem]) -> None:
        """Replace a VEN's queue with what the store holds."""
        ordered = sorted(items, key=lambda i: (OUTBOX_ORDER.get(i.kind, 99), i.id))
        if ordered:
            self.outbox[ven_id] = ordered
        else:
            self.outbox.pop(ven_id, None)

    def next_outbox(self, ven_id: str, now: datetime) -> OutboxItem | None:
        """The first queued message for a VEN that is due at `now` (a periodic METADATA report's next one waits
        for its time: mapping/oadr/vtn_reports), if any."""
        for item in self.outbox.get(ven_id, ()):
            if is_due(item.payload, now):
                return item
        return None

    def drop_outbox_item(self, item: OutboxItem) -> None:
        """Remove a delivered (or already claimed) message."""
        items = self.outbox.get(item.ven_id, [])
        self.outbox[item.ven_id] = [i for i in items if i.id != item.id]
        if not self.outbox[item.ven_id]:
            del self.outbox[item.ven_id]


def _targets(target: m.Target, ven: VenRecord, groups: set[str], resources: set[str]) -> bool:
    if target.is_empty():
        return True
    return (
        ven.ven_id in target.ven_ids
        or (ven.party_id is not None and ven.party_id in target.party_ids)
        or not groups.isdisjoint(target.group_ids)
        or not resources.isdisjoint(target.resource_ids)
    )
