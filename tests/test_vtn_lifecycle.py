"""Event status follows the clock (far → near → active → completed), each change is stored and
re-distributed at the next poll; pure status rules tested on their own."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from mapping.oadr import model as m
from mapping.oadr.lifecycle import event_status, priority_key, status_boundaries
from tests.support.vtn_harness import config_for_tests, running_vtn
from vtn.store import repository as repo

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("now", "kwargs", "expected"),
    [
        (T0 - 2 * HOUR, {}, "far"),
        (T0 - 2 * HOUR, {"near_window": 3 * HOUR}, "near"),
        (T0 - timedelta(minutes=4), {"ramp_up": timedelta(minutes=5), "near_window": timedelta(0)}, "near"),
        (T0 - timedelta(minutes=6), {"ramp_up": timedelta(minutes=5), "near_window": 3 * HOUR}, "far"),  # ramp-up wins
        (T0, {}, "active"),
        (T0 + HOUR - timedelta(seconds=1), {}, "active"),
        (T0 + HOUR, {}, "completed"),
        (T0 - HOUR, {"cancelled": True}, "cancelled"),
    ],
)
def test_event_status_rules(now, kwargs, expected):
    assert event_status(T0, HOUR, now, **kwargs) == expected


def test_open_ended_event_never_completes():
    assert event_status(T0, timedelta(0), T0 + 1000 * HOUR) == "active"
    assert status_boundaries(T0, timedelta(0)) == [T0]


def test_priority_order_puts_one_first_and_none_last():
    def event(event_id: str, priority: int | None, start: datetime) -> m.Event:
        return m.Event(event_id, 0, "x", T0, "far", start, HOUR, (), priority=priority)

    events = [event("none", None, T0), event("zero", 0, T0 - HOUR), event("p2", 2, T0), event("p1", 1, T0 + HOUR)]
    assert [e.event_id for e in sorted(events, key=priority_key)] == ["p1", "p2", "zero", "none"]


@pytest.mark.slow  # status changes in real time
async def test_status_changes_are_stored_and_redistributed(sqlite_url):
    async with running_vtn(config_for_tests(sqlite_url, near_window=timedelta(seconds=3))) as vtn:
        reg = await vtn.client.register("site-lifecycle")
        await vtn.client.poll(reg.ven_id)  # the VTN's report registration
        event = await vtn.create_event(
            values=(1.0,), interval=timedelta(seconds=3), start_in=timedelta(seconds=5), response_required="never"
        )
        seen: list[str] = []
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline and "completed" not in seen:
            reply = await vtn.client.poll(reg.ven_id)
            if isinstance(reply, m.DistributeEvent):
                statuses = [e.status for e in reply.events if e.event_id == event.event_id]
                seen.append(statuses[0] if statuses else "completed")  # a completed event drops out
                assert all(e.modification_number == 0 for e in reply.events)  # status changes are not modifications
            await asyncio.sleep(0.1)
        assert seen == ["far", "near", "active", "completed"]
        stored, closed = await vtn.ctx.store.call(repo.load_event, event.event_id)
        assert stored.event.status == "completed" and closed
