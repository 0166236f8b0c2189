"""The VTN's operations endpoints on a running server: /metrics counts what happened, only for who may
scrape; /healthz and /readyz are public and /readyz says 503 (with why) when the store is cut."""

import asyncio
import json
import threading
from dataclasses import replace
from datetime import timedelta

import aiohttp
import psycopg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import ResponseCode
from observability.http import MetricsSettings, SingleFlight
from observability.tally import Tally
from tests.support.databases import PG_ADMIN_DSN, fresh_database
from tests.support.eventually import eventually
from tests.support.metrics import scrape, total, value
from tests.support.reports import opt_schedule, register_reports, status_metadata, update, usage_metadata
from tests.support.vtn_harness import config_for_tests, running_vtn
from vtn.domain import SEEN_FLUSH_INTERVAL
from vtn.ops import http as ops
from vtn.ops import metrics
from vtn.ops.http import request_metrics
from vtn.store import ops_queries

TOKEN = "test-scrape-token-0123456789"


async def test_metrics_count_polls_deliveries_opts_and_reports(db_url):
    async with running_vtn(config_for_tests(db_url, metrics=MetricsSettings(public=True))) as vtn:
        async with aiohttp.ClientSession() as http:
            url = vtn.base_url + "/metrics"
            before = await scrape(http, url)
            assert value(before, "cariflex_vens_registered") == 0
            reg = await vtn.client.register("site-metrics")
            assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
            assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)
            event = await vtn.create_event()
            distributed = await vtn.client.poll(reg.ven_id)
            assert isinstance(distributed, m.DistributeEvent)
            await vtn.client.ack(reg.ven_id, distributed.events, opt="optIn")
            answer = await vtn.client.send("EiOpt", opt_schedule(reg.ven_id, "opt-1", event.dtstart, timedelta(hours=1)))
            assert isinstance(answer, m.Acknowledgement) and answer.response.code == 200
            registered = await vtn.client.send("EiReport", register_reports(reg.ven_id, usage_metadata(), status_metadata()))
            request = registered.report_requests[0]
            stored = await vtn.client.send("EiReport", update(reg.ven_id, request, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
            assert stored.response.code == 200
            again = await vtn.client.send("EiReport", update(reg.ven_id, request, [[1.0, 2.0, 3.0]], request_id="upd-2"))
            assert again.response.code == 200
            bad = replace(request, report_request_id="not-a-request-of-ours")
            refused = await vtn.client.send("EiReport", update(reg.ven_id, bad, [[1.0, 2.0, 3.0]], request_id="upd-3"))
            assert refused.response.code == ResponseCode.INVALID_ID
            async with http.get(vtn.base_url + "/no-such-page") as missing:
                assert missing.status == 404
            after = await scrape(http, url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("cariflex_oadr_messages_total", service="OadrPoll", message="oadrPoll", code="200") == 3
    assert grew("cariflex_oadr_messages_total", service="EiRegisterParty", message="oadrCreatePartyRegistration", code="200") == 1
    assert grew("cariflex_oadr_messages_total", service="EiReport", message="oadrUpdateReport", code="452") == 1
    assert grew("cariflex_poll_answers_total", answer="oadrRegisterReport") == 1
    assert grew("cariflex_poll_answers_total", answer="oadrResponse") == 1
    assert grew("cariflex_poll_answers_total", answer="oadrDistributeEvent") == 1
    assert grew("cariflex_event_deliveries_total") == 1
    assert grew("cariflex_opt_responses_total", message="oadrCreatedEvent", opt="optIn") == 1
    assert grew("cariflex_opt_responses_total", message="oadrCreateOpt", opt="optOut") == 1
    assert grew("cariflex_reports_received_total") == 2
    assert grew("cariflex_report_values_total", outcome="stored") == 6
    assert grew("cariflex_report_values_total", outcome="duplicate") == 3
    assert grew("cariflex_report_rejections_total", code="452") == 1
    assert grew("cariflex_http_requests_total", route="unmatched", status="404") == 1
    # the scrape before this one counts too: one /metrics request, answered 200
    assert grew("cariflex_http_requests_total", route="ops", status="200") == 1
    openadr = grew("cariflex_http_requests_total", route="openadr2b", status="200")
    assert openadr == total(after, "cariflex_oadr_messages_total") - total(before, "cariflex_oadr_messages_total") >= 10
    assert grew("cariflex_http_request_duration_seconds_count", route="openadr2b") == openadr
    assert total(after, "cariflex_store_call_duration_seconds_count") > total(
        before, "cariflex_store_call_duration_seconds_count"
    )
    assert value(after, "cariflex_vens_registered") == 1
    assert total(after, "cariflex_events_live") == 1
    assert value(after, "cariflex_store_up") == 1
    assert value(after, "cariflex_scheduler_running") == 1
    assert value(after, "cariflex_lifecycle_leader") == 1


async def test_a_ven_polling_normally_is_not_stale_until_it_stops(sqlite_url):
    """The stored last-seen time is written every SEEN_FLUSH_INTERVAL, so a VEN that polls every poll_interval
    has a stored time up to that much older than its last poll: the threshold allows for it."""
    async with running_vtn(config_for_tests(sqlite_url, metrics=MetricsSettings(public=True))) as vtn:
        async with aiohttp.ClientSession() as http:
            url = vtn.base_url + "/metrics"
            reg = await vtn.client.register("site-stale")
            assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
            polled_at = vtn.ctx.now()
            await vtn.process.sync.flush_seen()  # as the flush job does
            assert value(await scrape(http, url), "cariflex_vens_stale") == 0  # right after a poll
            # its later polls (every 10 s) are still in memory until the next flush: up to 30 s + 10 s unwritten,
            # and it only becomes stale after 3 missed polls on top of the flush period
            threshold = 3 * vtn.ctx.config.poll_interval + SEEN_FLUSH_INTERVAL
            vtn.ctx.clock = lambda: polled_at + timedelta(seconds=45)
            assert value(await scrape(http, url), "cariflex_vens_stale") == 0  # was 1 with 3 poll intervals alone
            vtn.ctx.clock = lambda: polled_at + threshold + timedelta(seconds=1)
            assert value(await scrape(http, url), "cariflex_vens_stale") == 1


async def test_made_up_message_names_are_counted_as_other(sqlite_url):
    """Any element name in the oadr namespace gets an answer (459), before any authentication: each made-up
    name must not become a series of its own."""
    body = (
        '<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07"><oadr:oadrSignedObject>'
        "<oadr:x{n}/></oadr:oadrSignedObject></oadr:oadrPayload>"
    )
    async with running_vtn(config_for_tests(sqlite_url)) as vtn:
        for n in range(20):
            await vtn.client.post("EiEvent", body.format(n=n).encode())
        series = vtn.ctx.tally.counts[metrics.OADR_MESSAGES]
    assert series == {("EiEvent", "other", str(int(ResponseCode.COMPLIANCE_ERROR))): 20}


async def test_metrics_need_the_bearer_token_unless_public(sqlite_url):
    settings = MetricsSettings(public=False, token=TOKEN)
    async with running_vtn(config_for_tests(sqlite_url, metrics=settings)) as vtn, aiohttp.ClientSession() as http:
        url = vtn.base_url + "/metrics"
        for headers, why in (
            ({}, "missing Authorization header"),
            ({"Authorization": "Basic dXNlcjpwYXNz"}, "Bearer <token>"),
            ({"Authorization": "Bearer wrong-token-wrong-token"}, "does not match"),
        ):
            async with http.get(url, headers=headers) as refused:
                assert refused.status == 401
                assert why in await refused.text()
                assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        samples = await scrape(http, url, TOKEN)
        assert value(samples, "cariflex_http_requests_total", route="ops", status="401") == 3
        for public in ("/healthz", "/readyz"):
            async with http.get(vtn.base_url + public) as answer:
                assert answer.status == 200, public


async def test_metrics_refused_when_not_public_and_no_token_configured(sqlite_url):
    async with running_vtn(config_for_tests(sqlite_url)) as vtn, aiohttp.ClientSession() as http:
        async with http.get(vtn.base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}) as refused:
            assert refused.status == 401
            assert "no [metrics] token is configured" in await refused.text()


async def test_readyz_says_503_when_the_schema_is_not_at_the_newest_migration(db_url):
    async with running_vtn(config_for_tests(db_url)) as vtn, aiohttp.ClientSession() as http:
        head = await vtn.ctx.store.call(ops_queries.schema_revision)
        await vtn.ctx.store.call(_stamp, "0001")  # as if an older release had migrated this store
        behind = await _readyz_once(http, vtn.base_url, 503)  # once the cached answer (READINESS_CACHE_S) expired
        assert behind["reasons"] == [f"store schema at revision 0001, this code needs {head}: run the migrations"]
        await vtn.ctx.store.call(_stamp, head)
        assert (await _readyz_once(http, vtn.base_url, 200))["status"] == "ready"


async def _readyz_once(http: aiohttp.ClientSession, base_url: str, status: int) -> dict:
    """The body of /readyz once it answers `status` (its answer is reused for up to READINESS_CACHE_S)."""
    found: list[dict] = []

    async def answers() -> bool:
        async with http.get(base_url + "/readyz") as answer:
            if answer.status == status:
                found.append(await answer.json())
        return bool(found)

    await eventually(answers, what=f"/readyz answering {status}")
    return found[0]


def _stamp(session, revision: str) -> None:
    session.execute(text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})


@pytest.mark.postgres
async def test_readyz_says_503_with_the_reason_when_the_database_is_gone(tmp_path):
    with fresh_database("postgresql", tmp_path) as url:
        async with running_vtn(config_for_tests(url, metrics=MetricsSettings(public=True))) as vtn:
            async with aiohttp.ClientSession() as http:
                async with http.get(vtn.base_url + "/readyz") as ready:
                    assert ready.status == 200 and (await ready.json())["status"] == "ready"
                with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
                body = await _readyz_once(http, vtn.base_url, 503)
                assert body["status"] == "not ready"
                assert body["reasons"] == ["store unreachable: StoreDown (details in the VTN's log)"], body
                assert "127.0.0.1" not in json.dumps(body)  # public: no host, database or user
                async with http.get(vtn.base_url + "/healthz") as alive:
                    assert alive.status == 200  # alive, just not ready
                down = await scrape(http, vtn.base_url + "/metrics")
                assert value(down, "cariflex_store_up") == 0
                # the rest still comes out: the gauges read from memory are there, with their values
                assert ("cariflex_scheduler_running", ()) in down and value(down, "cariflex_scheduler_running") == 1
                assert ("cariflex_vens_registered", ()) in down and value(down, "cariflex_vens_registered") == 0
                assert ("cariflex_http_requests_total", (("route", "ops"), ("status", "200"))) in down


async def test_a_cancelled_request_is_counted_as_499_not_500():
    """A handler cancelled before it answers (client gone, server stopping) is no failure of ours."""
    tally = Tally()
    started = asyncio.Event()
    handlers: list[asyncio.Task] = []

    async def hang(request: web.Request) -> web.Response:
        handlers.append(asyncio.current_task())
        started.set()
        await asyncio.Event().wait()  # until cancelled
        raise AssertionError("not reached")

    app = web.Application(middlewares=[request_metrics(tally)])
    app.router.add_post("/OpenADR2/Simple/2.0b/EiEvent", hang)
    async with TestServer(app) as server, aiohttp.ClientSession() as http:
        request = asyncio.create_task(http.post(server.make_url("/OpenADR2/Simple/2.0b/EiEvent"), data=b"x"))
        await started.wait()
        handlers[0].cancel()
        await asyncio.wait(handlers)
        request.cancel()
        await asyncio.gather(request, return_exceptions=True)
    assert tally.counts[metrics.HTTP_REQUESTS] == {("openadr2b", "499"): 1}


async def test_change_listener_up_follows_the_listener(db_url):
    """1 once the PostgreSQL change listener has LISTEN in place; always 0 without a listener (SQLite)."""
    async with running_vtn(config_for_tests(db_url, metrics=MetricsSettings(public=True))) as vtn:
        async with aiohttp.ClientSession() as http:
            url = vtn.base_url + "/metrics"
            listener = vtn.process.listener
            if listener is None:
                assert db_url.startswith("sqlite")
                samples = await scrape(http, url)
                assert ("cariflex_change_listener_up", ()) in samples and value(samples, "cariflex_change_listener_up") == 0
                return
            await eventually(lambda: listener.listening, what="LISTEN in place")
            assert value(await scrape(http, url), "cariflex_change_listener_up") == 1
            await listener.stop()  # as when its connection is lost
            assert value(await scrape(http, url), "cariflex_change_listener_up") == 0


async def test_a_readyz_flood_queues_one_store_query_while_the_store_is_stalled(sqlite_url, monkeypatch):
    """The store has one thread, shared with registrations, acks and report ingest. Waves of concurrent /readyz
    while it is stalled must put one readiness query in its queue, not one per request in front of real work."""
    monkeypatch.setattr(ops, "STORE_TIMEOUT_S", 0.2)  # give up waiting soon: the waves come quicker
    monkeypatch.setattr(ops, "READINESS_CACHE_S", 0.0)  # each wave runs the check again (caching: the next test)
    release = threading.Event()
    async with running_vtn(config_for_tests(sqlite_url)) as vtn, aiohttp.ClientSession() as http:

        def queued() -> int:  # store calls of the readiness query so far (each call is timed, even if given up)
            hist = vtn.ctx.tally.histograms.get(metrics.STORE_DURATION, {}).get(("schema_revision",))
            return sum(hist.counts) if hist is not None else 0

        stall = asyncio.create_task(vtn.ctx.store.call(lambda _session: release.wait(30)))
        try:
            for _wave in range(3):  # the 2nd and 3rd wait for the query the 1st queued, and queue no other
                answers = await asyncio.gather(*(http.get(vtn.base_url + "/readyz") for _ in range(20)))
                assert {a.status for a in answers} == {503}
                assert {tuple((await a.json())["reasons"]) for a in answers} == {("store did not answer within 0.2 s",)}
        finally:
            release.set()
            await stall
        await vtn.ctx.store.call(lambda _session: None)  # one thread, first in first out: the queued query ran
        assert queued() == 1
        assert (await _readyz_once(http, vtn.base_url, 200))["status"] == "ready"


async def test_single_flight_shares_a_run_and_reuses_its_result_for_max_age():
    now = [100.0]
    runs: list[int] = []
    gate = asyncio.Event()

    async def check() -> int:
        runs.append(len(runs) + 1)
        await gate.wait()
        return len(runs)

    shared = SingleFlight(check, max_age=1.0, clock=lambda: now[0])
    waiting = [asyncio.create_task(shared()) for _ in range(10)]
    await eventually(lambda: runs, what="the run")
    gate.set()
    assert await asyncio.gather(*waiting) == [1] * 10 and runs == [1]
    now[0] += 0.9
    assert await shared() == 1 and runs == [1]  # within max_age: the same answer, no new run
    now[0] += 0.2
    assert await shared() == 2 and runs == [1, 2]
