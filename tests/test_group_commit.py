"""Group commit (issue 22, finding 3): writes that arrive while a transaction is under way share the next
one, so a fan-out burst's per-VEN writes do not queue one transaction each; a failing write fails alone."""

import asyncio
from datetime import UTC, datetime

import pytest

from vtn.domain import OutboxKind
from vtn.store import repository as repo
from vtn.store.group_commit import GroupCommit
from vtn.store.worker import StoreWorker


@pytest.fixture
def store(db_url: str):
    worker = StoreWorker(db_url, origin="test")
    yield worker
    worker.close()


def _queue(session, count: int, now: datetime) -> list[int]:
    for i in range(count):
        repo.enqueue(session, f"ven-{i}", OutboxKind.REGISTER_REPORT, {}, now)
    session.flush()
    return [item.id for item in repo.pending_outbox(session)]


def _boom(session, why: str) -> None:
    raise ValueError(why)


async def test_concurrent_claims_share_transactions_and_each_gets_its_own_answer(store):
    now = datetime.now(UTC)
    ids = await store.call(_queue, 200, now)
    writes = GroupCommit(store)
    results = await asyncio.gather(*(writes.call(repo.claim_outbox, item_id, now) for item_id in ids + ids[:5]))
    assert results[:200] == [True] * 200  # each claimed once
    assert results[200:] == [False] * 5  # a second claim of the same item is told it was taken
    assert writes.calls == 205
    assert writes.transactions < 20, writes.transactions  # grouped: not one transaction per call
    assert await store.call(repo.pending_outbox) == []


async def test_a_failing_call_fails_alone(store):
    now = datetime.now(UTC)
    ids = await store.call(_queue, 3, now)
    writes = GroupCommit(store)
    calls = [writes.call(repo.claim_outbox, ids[0], now), writes.call(_boom, "bad"), writes.call(repo.claim_outbox, ids[1], now)]
    first, bad, second = await asyncio.gather(*calls, return_exceptions=True)
    assert first is True and second is True
    assert isinstance(bad, ValueError) and str(bad) == "bad"
    assert [i.id for i in await store.call(repo.pending_outbox)] == [ids[2]]


async def test_a_lone_call_goes_at_once(store):
    """No timer: a single write is its own transaction straight away (steady state pays nothing)."""
    now = datetime.now(UTC)
    (item_id,) = await store.call(_queue, 1, now)
    writes = GroupCommit(store)
    assert await asyncio.wait_for(writes.call(repo.claim_outbox, item_id, now), 5) is True
    assert (writes.transactions, writes.calls) == (1, 1)


async def test_a_poll_does_not_wait_behind_a_backlog_of_writes_it_takes_its_message_later(vtn):
    """While the store's small writes are backed up, a poll whose VEN has a queued message answers at once
    (oadrResponse) and leaves the message queued; once the writes are through, the next poll takes it."""
    import threading

    from mapping.oadr import model as m
    from mapping.oadr import report_model as r
    from tests.conformance import register
    from vtn.oadr.services.poll import QUEUED_DELIVERY_BACKLOG

    reg = await register(vtn, "site-a")
    await vtn.queue(reg.ven_id, OutboxKind.REGISTER_REPORT)
    gate = threading.Event()

    def held(session) -> None:
        gate.wait(10)  # the store's thread is busy: the writes behind it wait

    writes = vtn.ctx.writes
    backlog = [asyncio.ensure_future(writes.call(held)) for _ in range(QUEUED_DELIVERY_BACKLOG)]
    await asyncio.sleep(0.05)
    assert writes.backlog >= QUEUED_DELIVERY_BACKLOG
    reply = await vtn.client.poll(reg.ven_id)
    assert isinstance(reply, m.Response) and reply.response.code == 200  # answered without waiting
    assert vtn.ctx.live.next_outbox(reg.ven_id, vtn.ctx.now()) is not None  # still queued
    gate.set()
    await asyncio.gather(*backlog)
    assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)


async def test_a_store_that_is_away_fails_the_whole_group_at_once(store):
    """StoreDown is not retried call by call: every waiting caller gets it with the group (one budget, not N)."""
    from vtn.store import StoreDown

    writes = GroupCommit(store)
    attempts: list[int] = []

    def counted(session) -> None:
        attempts.append(1)
        raise StoreDown("the store is away")

    results = await asyncio.gather(*(writes.call(counted) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, StoreDown) for r in results)
    assert len(attempts) == 1 and writes.transactions == 0  # the group ran once; no call ran again alone
