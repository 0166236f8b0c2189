"""EiReport on our VTN: registration both ways, requests at any time, ingest, cancellation, bad data."""

import asyncio
import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import ResponseCode
from mapping.oadr.encode import encode
from tests.support.reports import NOW, USAGE_RIDS, register_reports, status_metadata, update, usage_metadata
from vtn.admin import reports as report_admin
from vtn.store import report_repository as reports


async def _registered_with_reports(vtn, name: str = "site-reports") -> tuple[str, r.ReportRequest]:
    """A VEN that registered, drained its poll queue and registered TELEMETRY_USAGE; returns the piggy-backed request."""
    reg = await vtn.client.register(name)
    assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
    answer = await vtn.client.send("EiReport", register_reports(reg.ven_id, usage_metadata(), status_metadata()))
    assert isinstance(answer, r.RegisteredReport) and answer.response.code == 200
    assert len(answer.report_requests) == 1  # TELEMETRY_USAGE is configured, TELEMETRY_STATUS is not
    return reg.ven_id, answer.report_requests[0]


async def _points(vtn, ven_id: str) -> list[dict]:
    return await vtn.ctx.store.call(reports.points, ven_id=ven_id)


async def test_N1_0020_vtn_registers_its_reports_after_registration(vtn):
    reg = await vtn.client.register("site-n1-0020")
    first = await vtn.client.poll(reg.ven_id)
    assert isinstance(first, r.RegisterReport) and first.ven_id == reg.ven_id
    assert isinstance(await vtn.client.send("EiReport", r.RegisteredReport(m.EiResponse(), reg.ven_id)), m.Response)
    assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)


async def test_registered_metadata_is_stored_with_measurement_from_the_element(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    stored = await vtn.ctx.store.call(reports.descriptions, ven_id)
    usage = [d for spec, _name, d in stored if spec == "usage-spec"]
    assert sorted(d.r_id for d in usage) == sorted(USAGE_RIDS)
    assert {d.unit.kind for d in usage} == {"powerReal"}  # from power:powerReal, not from itemDescription
    assert request.interval_start is not None and request.interval_duration is not None  # always a reportInterval
    assert request.granularity == timedelta(minutes=1) and request.report_back == timedelta(minutes=5)
    assert sorted(p.r_id for p in request.payloads) == sorted(USAGE_RIDS)


async def test_report_requested_at_any_time_goes_out_on_poll_and_is_acknowledged(vtn):
    ven_id, _ = await _registered_with_reports(vtn)
    request = await vtn.admin(
        report_admin.request_report,
        ven_id,
        "TELEMETRY_STATUS",
        vtn.ctx.now(),
        granularity=timedelta(minutes=5),
        report_back=timedelta(minutes=5),
    )
    sent = await vtn.client.poll(ven_id)
    assert isinstance(sent, r.CreateReport)
    assert [q.report_request_id for q in sent.report_requests] == [request.report_request_id]
    assert sent.report_requests[0].report_specifier_id == "status-spec"
    ack = m.Acknowledgement(
        "oadrCreatedReport", m.EiResponse(request_id=sent.request_id), ven_id=ven_id, pending_reports=(request.report_request_id,)
    )
    assert isinstance(await vtn.client.send("EiReport", ack), m.Response)
    states = {q.report_request_id: state for _v, q, _n, state in await vtn.ctx.store.call(reports.list_requests, ven_id)}
    assert states[request.report_request_id] == "acknowledged"


async def test_one_shot_history_and_metadata_requests(vtn):
    ven_id, _ = await _registered_with_reports(vtn)
    now = vtn.ctx.now()
    one_shot = await vtn.admin(report_admin.request_report, ven_id, "TELEMETRY_USAGE", now)
    history = await vtn.admin(
        report_admin.request_report,
        ven_id,
        "TELEMETRY_USAGE",
        now,
        granularity=timedelta(minutes=15),
        start=now - timedelta(days=1),
        duration=timedelta(hours=2),
    )
    metadata = await vtn.admin(report_admin.request_report, ven_id, "METADATA", now)
    sent = [await vtn.client.poll(ven_id) for _ in range(3)]
    got = {q.report_request_id: q for msg in sent for q in msg.report_requests}
    assert got[one_shot.report_request_id].granularity == timedelta(0) and got[
        one_shot.report_request_id
    ].report_back == timedelta(0)
    assert got[history.report_request_id].interval_start == history.interval_start
    assert got[history.report_request_id].interval_duration == timedelta(hours=2)
    assert got[metadata.report_request_id].report_specifier_id == "METADATA"


async def test_request_for_a_report_the_ven_did_not_register_is_refused(vtn):
    reg = await vtn.client.register("site-no-metadata")
    with pytest.raises(report_admin.ReportRefused, match="has not registered a TELEMETRY_USAGE report"):
        await vtn.admin(report_admin.request_report, reg.ven_id, "TELEMETRY_USAGE", vtn.ctx.now())


async def test_update_with_many_payloads_and_derived_interval_starts_is_stored(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    values = [[5.0, -2.0, 1.5], [4.0, -2.5, 0.5]]
    answer = await vtn.client.send("EiReport", update(ven_id, request, values, first_only_dtstart=True))
    assert isinstance(answer, r.UpdatedReport) and answer.response.code == 200 and answer.cancel is None
    points = await _points(vtn, ven_id)
    assert len(points) == 6
    by_time = sorted({p["dtstart"] for p in points})
    assert by_time == ["2026-11-26T22:00:00Z", "2026-11-26T22:01:00Z"]
    site = [p["value"] for p in points if p["r_id"] == "site-power"]
    assert site == [5.0, 4.0]
    assert {p["reading_type"] for p in points} == {"Direct Read"}


async def test_duplicate_update_is_acknowledged_and_not_stored_twice(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    message = update(ven_id, request, [[1.0, 2.0, 3.0]])
    await vtn.client.send("EiReport", message)
    again = await vtn.client.send("EiReport", message)
    assert again.response.code == 200 and "already stored" in again.response.description
    assert len(await _points(vtn, ven_id)) == 3


async def test_empty_report_is_accepted(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    answer = await vtn.client.send("EiReport", update(ven_id, request, []))
    assert answer.response.code == 200
    empty = r.UpdateReport(request_id="empty", reports=(), ven_id=ven_id)
    assert (await vtn.client.send("EiReport", empty)).response.code == 200


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (
            lambda req: r.ReportRequest("rr-unknown", req.report_specifier_id, req.granularity, req.report_back),
            ResponseCode.INVALID_ID,
        ),
        (lambda req: req, ResponseCode.INVALID_ID),  # with an unknown rID, see below
    ],
    ids=["unknown-request", "unknown-rid"],
)
async def test_unknown_request_or_rid_is_refused_and_nothing_is_stored(vtn, mutate, code):
    ven_id, request = await _registered_with_reports(vtn)
    good = update(ven_id, request, [[1.0, 2.0, 3.0]]).reports[0]
    rids = ("site-power", "pv-power", "no-such-rid") if mutate(request) is request else USAGE_RIDS
    bad = update(ven_id, mutate(request), [[1.0, 2.0, 3.0]], start=NOW + timedelta(hours=1), rids=rids).reports[0]
    answer = await vtn.client.send("EiReport", r.UpdateReport(request_id="mixed", reports=(good, bad), ven_id=ven_id))
    assert isinstance(answer, r.UpdatedReport) and answer.response.code == code
    assert await _points(vtn, ven_id) == []  # the good report in the same message is not stored either


async def test_intervals_out_of_order_are_refused(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    ordered = update(ven_id, request, [[1, 2, 3], [4, 5, 6]])
    report = ordered.reports[0]
    message = replace(ordered, reports=(replace(report, intervals=report.intervals[::-1]),))  # the later one first
    answer = await vtn.client.send("EiReport", message)
    assert answer.response.code == ResponseCode.INVALID_DATA and "out of time order" in answer.response.description
    assert await _points(vtn, ven_id) == []


@pytest.mark.parametrize(("text", "code"), [("NaN", ResponseCode.INVALID_DATA), ("lots", ResponseCode.BAD_REQUEST)])
async def test_values_that_are_not_numbers_are_refused(vtn, text, code):
    ven_id, request = await _registered_with_reports(vtn)
    body = encode(update(ven_id, request, [[1.5, 2.0, 3.0]])).replace(b">1.5<", f">{text}<".encode())
    reply = await vtn.client.post("EiReport", body)
    assert reply.status == 200 and isinstance(reply.message, r.UpdatedReport)
    assert reply.message.response.code == code
    assert await _points(vtn, ven_id) == []


async def test_cancel_is_piggy_backed_on_the_next_updated_report(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    await vtn.admin(report_admin.cancel_request, request.report_request_id, vtn.ctx.now(), True)
    answer = await vtn.client.send("EiReport", update(ven_id, request, [[1, 2, 3]]))
    assert isinstance(answer, r.UpdatedReport) and answer.cancel is not None
    assert answer.cancel.report_request_ids == (request.report_request_id,) and answer.cancel.report_to_follow
    assert isinstance(await vtn.client.poll(ven_id), m.Response)  # not sent a second time


async def test_cancel_on_poll_and_canceled_report_closes_the_request(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    await vtn.admin(report_admin.cancel_request, request.report_request_id, vtn.ctx.now(), False)
    sent = await vtn.client.poll(ven_id)
    assert isinstance(sent, r.CancelReport) and sent.report_request_ids == (request.report_request_id,)
    ack = m.Acknowledgement("oadrCanceledReport", m.EiResponse(request_id=sent.request_id), ven_id=ven_id)
    assert isinstance(await vtn.client.send("EiReport", ack), m.Response)
    states = {q.report_request_id: s for _v, q, _n, s in await vtn.ctx.store.call(reports.list_requests, ven_id)}
    assert states[request.report_request_id] == "cancelled"


async def test_ven_asking_the_vtn_for_a_report_gets_452(vtn):
    ven_id, request = await _registered_with_reports(vtn)
    answer = await vtn.client.send("EiReport", r.CreateReport(request_id="c1", report_requests=(request,), ven_id=ven_id))
    assert isinstance(answer, m.Acknowledgement) and answer.name == "oadrCreatedReport"
    assert answer.response.code == ResponseCode.INVALID_ID


async def test_a_report_queued_while_another_is_being_stored_is_answered_promptly(vtn):
    """Issue 22: report B, queued while report A's batch was in a store call, waited for some later report."""
    ven_a, request_a = await _registered_with_reports(vtn, "site-big")
    ven_b, request_b = await _registered_with_reports(vtn, "site-small")
    for ven_id, request in ((ven_a, request_a), (ven_b, request_b)):  # what the checks load, loaded before the store is held
        assert (await vtn.client.send("EiReport", update(ven_id, request, [[0, 0, 0]], request_id="warm"))).response.code == 200
    # the store's one thread held: report A's batch waits in its store call, as a slow write of 3,000 values does
    release = threading.Event()
    held = asyncio.create_task(vtn.ctx.store.call(lambda _session: release.wait(20)))
    big = update(ven_a, request_a, [[1.0, 2.0, 3.0]] * 1000, start=NOW + timedelta(hours=1))
    a = asyncio.create_task(vtn.client.send("EiReport", big))
    await asyncio.sleep(0.5)  # A decoded, checked and taken by the flusher (it lingers 2 ms)
    small = update(ven_b, request_b, [[7.0, 8.0, 9.0]], start=NOW + timedelta(hours=2))
    b = asyncio.create_task(vtn.client.send("EiReport", small))
    await asyncio.sleep(0.5)  # B queued while A is in its store call
    release.set()
    await held
    answer_a, answer_b = await asyncio.wait_for(asyncio.gather(a, b), timeout=5)
    assert answer_a.response.code == 200 and "stored 3000 values" in answer_a.response.description
    assert answer_b.response.code == 200 and "stored 3 values" in answer_b.response.description
    assert len(await _points(vtn, ven_b)) == 3 + 3
