"""A report request the VEN never answers (review issue 22, finding 12: the EPRI VEN ignores the oadrCreateReport
piggy-backed on oadrRegisteredReport) is sent again as a standalone oadrCreateReport, a bounded number of times, then
shown to the operator as `unanswered`."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.support.reports import register_reports, usage_metadata
from tests.support.vtn_harness import config_for_tests, running_vtn
from vtn.config import load_config, parse_config
from vtn.oadr.report_resend import resend_unanswered
from vtn.store import report_repository as reports

AFTER = timedelta(seconds=60)


def _config(sqlite_url: str):  # noqa: ANN202 - VtnConfig
    return replace(config_for_tests(sqlite_url), report_resend_after=AFTER, report_resend_max=2)


async def _state(vtn, request_id: str) -> str:
    return {q.report_request_id: s for _v, q, _n, s in await vtn.ctx.store.call(reports.list_requests)}[request_id]


async def test_an_ignored_piggy_backed_request_is_sent_again_then_shown_unanswered(sqlite_url):
    clock = {"now": datetime.now(UTC).replace(microsecond=0)}
    async with running_vtn(_config(sqlite_url)) as vtn:
        vtn.ctx.clock = lambda: clock["now"]
        reg = await vtn.client.register("site-epri")
        assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
        registered = await vtn.client.send("EiReport", register_reports(reg.ven_id, usage_metadata()))
        (piggy_backed,) = registered.report_requests  # the VEN ignores it
        request_id = piggy_backed.report_request_id

        clock["now"] += AFTER - timedelta(seconds=1)
        await resend_unanswered(vtn.ctx)
        assert isinstance(await vtn.client.poll(reg.ven_id), m.Response), "sent again too early"

        for _ in range(2):
            clock["now"] += AFTER
            await resend_unanswered(vtn.ctx)
            await resend_unanswered(vtn.ctx)  # queued once, however often the job runs
            sent = await vtn.client.poll(reg.ven_id)
            assert isinstance(sent, r.CreateReport) and [q.report_request_id for q in sent.report_requests] == [request_id]
            assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)
            assert await _state(vtn, request_id) == "requested"

        clock["now"] += AFTER
        await resend_unanswered(vtn.ctx)
        assert isinstance(await vtn.client.poll(reg.ven_id), m.Response), "sent more often than report_resend_max"
        assert await _state(vtn, request_id) == "unanswered"


async def test_an_answered_request_is_not_sent_again(sqlite_url):
    clock = {"now": datetime.now(UTC).replace(microsecond=0)}
    async with running_vtn(_config(sqlite_url)) as vtn:
        vtn.ctx.clock = lambda: clock["now"]
        reg = await vtn.client.register("site-answers")
        await vtn.client.poll(reg.ven_id)
        registered = await vtn.client.send("EiReport", register_reports(reg.ven_id, usage_metadata()))
        request_id = registered.report_requests[0].report_request_id
        answer = m.EiResponse(request_id="x")
        await vtn.client.send(
            "EiReport", m.Acknowledgement("oadrCreatedReport", answer, ven_id=reg.ven_id, pending_reports=(request_id,))
        )
        clock["now"] += 10 * AFTER
        await resend_unanswered(vtn.ctx)
        assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)
        assert await _state(vtn, request_id) == "acknowledged"


def test_the_shipped_configuration_and_its_keys(tmp_path):
    shipped = load_config()
    assert (shipped.report_resend_after, shipped.report_resend_max) == (timedelta(seconds=60), 3)
    data = {"reports": {"resend_after": "PT2M", "resend_max": 0}}
    parsed = parse_config(data, tmp_path, {})
    assert (parsed.report_resend_after, parsed.report_resend_max) == (timedelta(minutes=2), 0)
