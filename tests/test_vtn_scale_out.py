"""Scale-out: several real `cariflex vtn` processes on one PostgreSQL database, behind a real Debian
nginx. Events created through one process reach VENs through another (LISTEN/NOTIFY: the periodic
refresh is set to an hour, so nothing else could carry them); exactly one process leads the lifecycle,
and SIGKILLing the leader mid-run hands the lifecycle over with no status transition missed or doubled
(the store's status history says so); a VEN's poll never sees an event go backwards, even from a process
whose cache is behind; the change listener survives its connection being cut."""

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import psycopg
import pytest
from sqlalchemy.orm import Session

from mapping.oadr import model as m
from mapping.oadr.encode import encode
from mapping.oadr.vocabulary import default_unit
from tests.support.api_clients import BearerClient, token
from tests.support.databases import fresh_database
from tests.support.nginx import running_balancer
from tests.support.oadr_client import RawClient
from tests.support.vtn_cluster import ROOT, VtnProc, backend_pids, running_cluster, wait_for_leader, write_config
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from vtn.admin import events as event_admin
from vtn.cache import sync as sync_module
from vtn.cluster import pg_conn
from vtn.store.database import libpq_url
from vtn.store.event_status import status_history
from vtn.store.worker import StoreWorker

pytestmark = [pytest.mark.postgres, pytest.mark.external]  # `cariflex vtn` processes and nginx

RANK = {"far": 1, "near": 2, "active": 3, "completed": 4, "cancelled": 5}
#: every process reads the change feed only once an hour by itself: what arrives sooner came by NOTIFY (or a fence)
NO_PERIODIC_REFRESH = "PT1H"


@pytest.fixture
def pg_url(tmp_path: Path):
    with fresh_database("postgresql", tmp_path) as url:
        yield url


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_body(start: datetime, duration: str, value: float = 6.0) -> dict:
    """An OpenADR 3.0.1 capacity event for group `north` (one interval)."""
    return {
        "programID": "test",
        "eventName": "scale-out",
        "intervalPeriod": {"start": _format(start), "duration": duration},
        "payloadDescriptors": [{"payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"}],
        "intervals": [{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [value]}]}],
        "targets": [{"type": "GROUP", "values": ["north"]}],
    }


def _add_dso_client(config: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cariflex.cli", "dso", "client", "add", "scale-dso", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = re.search(r"client_secret=(\S+)", done.stdout)
    assert found, done.stdout
    return found.group(1)


async def _dso(session: aiohttp.ClientSession, vtn: VtnProc, secret: str) -> BearerClient:
    base = f"{vtn.url}/openadr3/3.0.1"
    return BearerClient(session, base, await token(session, base, "scale-dso", secret))


async def _poll(client: RawClient, ven_id: str) -> m.Message | None:
    """One oadrPoll; None when the transport failed (a process just killed: the VEN simply polls again)."""
    try:
        reply = await client.post("OadrPoll", encode(m.Poll(ven_id=ven_id)))
    except aiohttp.ClientError:
        return None
    if reply.status in (502, 503, 504):
        return None
    assert reply.status == 200, reply.body[:500]
    return reply.message


async def _ack(client: RawClient, ven_id: str, event: m.Event) -> None:
    """oadrCreatedEvent; a transport failure is tolerated (the VEN is given the event again and answers again)."""
    created = m.CreatedEvent(
        response=m.EiResponse(request_id="req-events"),
        ven_id=ven_id,
        event_responses=(m.EventResponse(200, "OK", "req-events", event.event_id, event.modification_number, "optIn"),),
    )
    try:
        reply = await client.post("EiEvent", encode(created))
    except aiohttp.ClientError:
        return
    assert reply.status in (200, 502, 503, 504), reply.body[:500]


async def _ready_ven(client: RawClient, name: str) -> str:
    """Register a VEN and drain its queue (the VTN's own report registration)."""
    reg = await client.register(name)
    while not isinstance(await client.poll(reg.ven_id), m.Response):
        pass
    return reg.ven_id


async def _first_distribution(client: RawClient, ven_id: str, event_id: str, deadline: float = 60.0) -> m.Event:
    """Poll (every 0.2 s) until `event_id` is distributed; fails after `deadline` seconds."""
    for _ in range(int(deadline * 5)):
        reply = await _poll(client, ven_id)
        if isinstance(reply, m.DistributeEvent):
            for event in reply.events:
                if event.event_id == event_id:
                    return event
        await asyncio.sleep(0.2)
    raise AssertionError(f"event {event_id} not delivered within {deadline} s")


def _history(db_url: str, event_id: str) -> list[tuple[int, str]]:
    store = StoreWorker(db_url)
    try:
        return [(c.modification_number, c.status) for c in store.call_sync(status_history, event_id)]
    finally:
        store.close()


async def test_three_processes_behind_nginx_survive_two_leader_kills_without_missing_or_doubling_a_transition(
    pg_url: str, tmp_path: Path
) -> None:
    configs = [
        write_config(tmp_path / f"vtn-{i}.toml", pg_url, refresh_interval=NO_PERIODIC_REFRESH, near_window="PT10S")
        for i in range(3)
    ]
    async with running_cluster(tmp_path / "cluster", configs) as procs:
        secret = _add_dso_client(configs[0])
        async with running_balancer(tmp_path / "nginx", [int(p.url.rsplit(":", 1)[1]) for p in procs]) as balanced:
            async with aiohttp.ClientSession() as session:
                first_leader = await wait_for_leader(pg_url, procs)
                followers = [p for p in procs if p is not first_leader]
                via_nginx = RawClient(session, balanced)
                ven_id = await _ready_ven(via_nginx, "site-north")

                # created through one follower, delivered through the other
                dso = await _dso(session, followers[0], secret)
                start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=25)
                status, created = await dso.call("POST", "/events", _event_body(start, "PT10S"))
                assert status == 201, created
                event_id = created["id"]
                delivered = await _first_distribution(RawClient(session, followers[1].url), ven_id, event_id)
                assert (delivered.modification_number, delivered.status) == (0, "far")

                # the leader dies before the event turns near …
                first_leader.kill()
                second_leader = await wait_for_leader(pg_url, followers)
                seen: list[str] = [delivered.status]
                survivors = [p for p in followers if p is not second_leader]
                killed_second = False
                routes = [via_nginx, *(RawClient(session, p.url) for p in followers)]
                for turn in range(600):  # a VEN polling every 0.1 s, round the processes and nginx
                    client = routes[turn % len(routes)]
                    if killed_second and client.base_url == second_leader.url:
                        continue
                    reply = await _poll(client, ven_id)
                    if isinstance(reply, m.DistributeEvent):
                        mine = [e for e in reply.events if e.event_id == event_id]
                        if not mine:
                            break  # completed and closed: no longer distributed
                        seen.append(mine[0].status)
                        assert RANK[seen[-1]] >= RANK[seen[-2]], f"went backwards: {seen}"
                        await _ack(client, ven_id, mine[0])
                        # … and the next leader dies once the event is near
                        if mine[0].status == "near" and not killed_second:
                            second_leader.kill()
                            killed_second = True
                            assert await wait_for_leader(pg_url, survivors) is survivors[0]
                    await asyncio.sleep(0.1)
                assert killed_second
                assert [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]] == ["far", "near", "active"]
                history = _history(pg_url, event_id)
                for _ in range(100):  # the end transition may still be on its way to the store
                    if history[-1][1] == "completed":
                        break
                    await asyncio.sleep(0.1)
                    history = _history(pg_url, event_id)
                assert history == [(0, "far"), (0, "near"), (0, "active"), (0, "completed")]


async def test_a_process_whose_cache_is_behind_never_gives_a_ven_an_older_event(pg_url: str, tmp_path: Path) -> None:
    # B neither listens nor refreshes by itself: its cache stays as it was at start-up unless it fences
    config_a = write_config(tmp_path / "a.toml", pg_url, refresh_interval=NO_PERIODIC_REFRESH)
    config_b = write_config(tmp_path / "b.toml", pg_url, refresh_interval=NO_PERIODIC_REFRESH, listen=False)
    async with running_cluster(tmp_path / "a", [config_a]) as (vtn_a,):
        secret = _add_dso_client(config_a)
        async with aiohttp.ClientSession() as session:
            a = RawClient(session, vtn_a.url)
            ven_id = await _ready_ven(a, "site-north")
            dso = await _dso(session, vtn_a, secret)
            body = _event_body(datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2), "PT15M")
            status, created = await dso.call("POST", "/events", body)
            assert status == 201, created
            event_id = created["id"]
            async with running_cluster(tmp_path / "b", [config_b]) as (vtn_b,):  # B loads modification 0
                b = RawClient(session, vtn_b.url)
                status, modified = await dso.call(
                    "PUT",
                    f"/events/{event_id}",
                    _event_body(datetime.fromisoformat(created["intervalPeriod"]["start"]), "PT15M", value=4.0),
                )
                assert status == 200, modified
                given = await _first_distribution(a, ven_id, event_id)
                assert given.modification_number == 1
                # B is asked about modification 1 before it has seen it: accepted, not "unknown modification"
                acked = await b.ack(ven_id, (given,))
                assert isinstance(acked, m.Response) and acked.response.code == 200, acked
                polled = await _poll(b, ven_id)
                assert isinstance(polled, m.DistributeEvent), polled
                assert [(e.event_id, e.modification_number) for e in polled.events] == [(event_id, 1)]
                requested = await b.request_events(ven_id)
                assert [e.modification_number for e in requested.events] == [1]


async def test_the_listener_reconnects_and_the_leader_steps_down_when_their_connections_are_cut(
    pg_url: str, tmp_path: Path
) -> None:
    configs = [write_config(tmp_path / f"vtn-{i}.toml", pg_url, refresh_interval=NO_PERIODIC_REFRESH) for i in range(2)]
    async with running_cluster(tmp_path / "cluster", configs) as (vtn_a, vtn_b):
        secret = _add_dso_client(configs[0])
        async with aiohttp.ClientSession() as session:
            b = RawClient(session, vtn_b.url)
            ven_id = await _ready_ven(b, "site-north")
            old_backend = (await asyncio.to_thread(backend_pids, pg_url, "listen"))[vtn_b.pid]
            with psycopg.connect(libpq_url(pg_url), autocommit=True) as conn:
                assert conn.execute("SELECT pg_terminate_backend(%s)", (old_backend,)).fetchone()[0]
            for _ in range(300):  # B opens a new listening connection
                current = (await asyncio.to_thread(backend_pids, pg_url, "listen")).get(vtn_b.pid)
                if current not in (None, old_backend):
                    break
                await asyncio.sleep(0.1)
            assert current not in (None, old_backend), "B did not listen again"
            dso = await _dso(session, vtn_a, secret)
            body = _event_body(datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2), "PT15M")
            status, created = await dso.call("POST", "/events", body)
            assert status == 201, created
            delivered = await _first_distribution(b, ven_id, created["id"])
            assert delivered.modification_number == 0

            # the leader's lock connection is cut: it steps down, and a leader is elected again
            leader = await wait_for_leader(pg_url, [vtn_a, vtn_b])
            lock_backend = (await asyncio.to_thread(backend_pids, pg_url, "leader"))[leader.pid]
            with psycopg.connect(libpq_url(pg_url), autocommit=True) as conn:
                assert conn.execute("SELECT pg_terminate_backend(%s)", (lock_backend,)).fetchone()[0]
            for _ in range(300):
                if "no longer the lifecycle leader" in leader.log.read_text():
                    break
                await asyncio.sleep(0.1)
            assert "no longer the lifecycle leader" in leader.log.read_text()
            await wait_for_leader(pg_url, [vtn_a, vtn_b])
    assert "change listener: connection lost" in vtn_b.log.read_text()


def _draft(vtn: VtnUnderTest, start_in: timedelta) -> m.Event:
    """A one-interval SIMPLE event starting `start_in` from now (not stored)."""
    now, config = vtn.ctx.now(), vtn.ctx.config
    return event_admin.draft_uniform_event(
        "SIMPLE",
        "level",
        [1.0],
        timedelta(minutes=15),
        default_unit("SIMPLE", "level"),
        market_context=config.programs[0].market_context,
        dtstart=now + start_in,
        now=now,
        near_window=config.near_window,
    )


@asynccontextmanager
async def _late_commit(writer: VtnUnderTest) -> AsyncIterator[tuple[m.Event, m.Event, Session]]:
    """(slow, fast, session): `slow` is created in `session`, whose change row has an id but is not committed
    (the caller commits it), and `fast` is created and committed after it, under a higher id."""
    now = writer.ctx.now()
    slow, fast = _draft(writer, timedelta(hours=2)), _draft(writer, timedelta(hours=5))
    with Session(writer.admin_store.engine) as session:
        session.info["origin"] = "slow-writer"
        event_admin.create_event(session, slow, "test", now)
        session.flush()  # its change row has an id now, but is not visible until commit
        await writer.admin_store.call(event_admin.create_event, fast, "test", now)  # a higher id, committed first
        yield slow, fast, session


async def test_a_change_committed_late_under_a_lower_id_is_not_skipped(pg_url: str) -> None:
    config = config_for_tests(pg_url, refresh_interval=timedelta(hours=1), listen_for_changes=False)
    async with running_vtn(config) as vtn:
        async with _late_commit(vtn) as (slow, fast, session):
            await vtn.process.sync.refresh()
            assert fast.event_id in vtn.ctx.live.events and slow.event_id not in vtn.ctx.live.events
            session.commit()
        await vtn.process.sync.refresh()
        assert slow.event_id in vtn.ctx.live.events


async def test_on_sqlite_the_single_process_leads_at_once(sqlite_url: str) -> None:
    async with running_vtn(config_for_tests(sqlite_url)) as vtn:
        assert vtn.process.leadership.is_leader
        assert vtn.process.listener is None


async def test_a_lone_process_on_postgresql_leads_as_soon_as_it_has_started(pg_url: str) -> None:
    async with running_vtn(config_for_tests(pg_url)) as vtn:
        assert vtn.process.leadership.is_leader  # no waiting: reconciles right after start-up are not skipped
        assert vtn.process.listener is not None


async def test_one_refresh_reads_the_whole_feed_even_beyond_one_batch(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_module, "FEED_BATCH", 2)
    config = config_for_tests(pg_url, refresh_interval=timedelta(hours=1), listen_for_changes=False)
    async with running_vtn(config) as vtn:
        now = vtn.ctx.now()
        events = [_draft(vtn, timedelta(hours=2 + 2 * i)) for i in range(5)]
        for event in events:
            await vtn.admin_store.call(event_admin.create_event, event, "test", now)
        await vtn.process.sync.refresh()
        assert {e.event_id for e in events} <= set(vtn.ctx.live.events)


async def test_an_answer_taken_by_one_process_stops_the_others_distributing_the_event_again(pg_url: str) -> None:
    config = config_for_tests(pg_url, refresh_interval=timedelta(hours=1), listen_for_changes=False)
    async with running_vtn(config) as a, running_vtn(config) as b:
        ven_id = await _ready_ven(a.client, "site-north")
        event = await a.create_event()  # responseRequired=always: distributed until the VEN answers
        await b.process.sync.refresh()
        given = await _first_distribution(a.client, ven_id, event.event_id)
        assert isinstance(await a.client.ack(ven_id, (given,)), m.Response)
        await b.process.sync.refresh()  # what the VTN's listener or periodic refresh does
        # the VEN's next polls land on B, which did not take its oadrCreatedEvent. B has never given the VEN
        # its events, so it gives them once (the VEN sees the modification it has, no change); after that,
        # knowing the answer, it has nothing to send — before, it sent the event at every poll
        again = await b.client.poll(ven_id)
        assert isinstance(again, m.DistributeEvent) and [e.modification_number for e in again.events] == [0]
        assert isinstance(await b.client.poll(ven_id), m.Response)
        assert isinstance(await b.client.poll(ven_id), m.Response)


async def test_a_change_committed_late_under_a_lower_id_than_the_start_up_read_is_not_skipped(pg_url: str) -> None:
    config = config_for_tests(pg_url, refresh_interval=timedelta(hours=1), listen_for_changes=False)
    async with running_vtn(config) as writer:
        async with _late_commit(writer) as (slow, fast, session):
            async with running_vtn(config) as starting:  # loads everything committed so far: not `slow`
                assert fast.event_id in starting.ctx.live.events and slow.event_id not in starting.ctx.live.events
                session.commit()
                await starting.process.sync.refresh()
                assert slow.event_id in starting.ctx.live.events


async def test_the_leader_connection_asks_the_server_to_notice_a_lost_host_within_seconds(pg_url: str) -> None:
    # the server keeps a dead client's session, and so its leader lock, until its own keepalives give up
    connection = await pg_conn.connect(pg_url, "cariflex-test")
    try:
        cursor = await connection.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('tcp_keepalives_idle', 'tcp_keepalives_interval', 'tcp_keepalives_count', 'tcp_user_timeout')"
        )
        settings = dict(await cursor.fetchall())
    finally:
        await connection.close()
    assert settings == {
        "tcp_keepalives_idle": "5",
        "tcp_keepalives_interval": "2",
        "tcp_keepalives_count": "3",
        "tcp_user_timeout": "11000",
    }
