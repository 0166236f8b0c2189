"""What the 2.0b edge refuses before anything reaches the store, the same on SQLite and PostgreSQL (issue 22):
text longer than the store's column, times past the calendar's end, numbers beyond xs:float, negative durations.
Each refusal has the eiResponse code of a caller's mistake (452 an identifier, 454 other data), names the
field, and stores nothing."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import ResponseCode
from mapping.oadr.encode import encode
from tests.support.reports import NOW, opt_schedule, register_reports, update, usage_metadata
from vtn.store import report_repository as reports

END_OF_CALENDAR = datetime(9999, 12, 31, 12, 0, tzinfo=UTC)


def _registration(**fields: object) -> m.CreatePartyRegistration:
    base = m.CreatePartyRegistration(
        request_id="req-edge",
        profile_name="2.0b",
        transport_name="simpleHttp",
        report_only=False,
        xml_signature=False,
        ven_name="site-edge",
        http_pull_model=True,
    )
    return replace(base, **fields)


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"ven_name": "n" * 304}, "oadrVenName", ResponseCode.INVALID_DATA),
        ({"ven_id": "v" * 204}, "venID", ResponseCode.INVALID_ID),
        ({"request_id": "q" * 10_000}, "requestID", ResponseCode.INVALID_ID),
    ],
    ids=["venName", "venID", "requestID"],
)
async def test_a_registration_with_text_longer_than_the_store_holds_is_refused(vtn, fields, field, code):
    answer = await vtn.client.send("EiRegisterParty", _registration(**fields))
    assert answer.response.code == code, answer.response
    assert field in answer.response.description and "at most" in answer.response.description, answer.response.description
    assert vtn.ctx.live.vens == {}


async def _registered_with_reports(vtn) -> tuple[str, r.ReportRequest]:
    reg = await vtn.client.register("site-edge-reports")
    assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
    answer = await vtn.client.send("EiReport", register_reports(reg.ven_id, usage_metadata()))
    assert answer.response.code == 200
    return reg.ven_id, answer.report_requests[0]


async def test_a_report_registration_with_an_overlong_rid_is_refused(vtn):
    reg = await vtn.client.register("site-edge-rid")
    metadata = usage_metadata()
    long_rid = replace(metadata.descriptions[0], r_id="r" * 300)
    message = register_reports(reg.ven_id, replace(metadata, descriptions=(long_rid, *metadata.descriptions[1:])))
    answer = await vtn.client.send("EiReport", message)
    assert answer.response.code == ResponseCode.INVALID_ID and "rID" in answer.response.description, answer.response
    assert await vtn.ctx.store.call(reports.descriptions, reg.ven_id) == []


async def test_an_opt_with_an_overlong_opt_id_is_refused(vtn):
    reg = await vtn.client.register("site-edge-opt")
    answer = await vtn.client.send("EiOpt", opt_schedule(reg.ven_id, "o" * 300, NOW, timedelta(hours=1)))
    assert answer.response.code == ResponseCode.INVALID_ID and "optID" in answer.response.description, answer.response


async def test_an_opt_window_past_the_end_of_the_calendar_is_refused(vtn):
    reg = await vtn.client.register("site-edge-calendar")
    answer = await vtn.client.send("EiOpt", opt_schedule(reg.ven_id, "opt-late", END_OF_CALENDAR, timedelta(days=1)))
    assert answer.response.code == ResponseCode.INVALID_DATA and "9999" in answer.response.description, answer.response


async def test_a_report_interval_past_the_end_of_the_calendar_is_refused(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    late = update(ven_id, request, [[1, 2, 3]], start=END_OF_CALENDAR, step=timedelta(days=1))
    answer = await vtn.client.send("EiReport", late)
    assert answer.response.code == ResponseCode.INVALID_DATA and "9999" in answer.response.description, answer.response
    assert await vtn.ctx.store.call(reports.points, ven_id=ven_id) == []


async def test_a_report_value_beyond_xs_float_is_refused(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    body = encode(update(ven_id, request, [[1.5, 2.0, 3.0]])).replace(b">1.5<", b">1e39<")
    reply = await vtn.client.post("EiReport", body)
    assert reply.message.response.code == ResponseCode.INVALID_DATA, reply.message.response
    assert "value" in reply.message.response.description and "xs:float" in reply.message.response.description
    assert await vtn.ctx.store.call(reports.points, ven_id=ven_id) == []


async def test_a_negative_report_interval_duration_is_refused(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    answer = await vtn.client.send("EiReport", update(ven_id, request, [[1, 2, 3]], step=timedelta(minutes=-5)))
    assert answer.response.code == ResponseCode.INVALID_DATA, answer.response
    assert "duration" in answer.response.description and "-PT5M" in answer.response.description, answer.response
    assert await vtn.ctx.store.call(reports.points, ven_id=ven_id) == []
