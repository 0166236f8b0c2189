"""VTN reporting conformance of our VTN in pull mode (R1_3070…R1_3100, TH_VEN): the harness VEN asks the VTN
for the one report it offers, its METADATA report (mapping/oadr/vtn_reports.py), and cancels the request.
The VTN's metadata report is its oadrRegisterReport (it offers no data reports, so the registration lists
none), naming the request it answers in reportRequestID. Minutes are scaled down to seconds; waits are
computed from the request's own (whole-second) times."""

import asyncio
from datetime import datetime, timedelta

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.conformance import assert_ok_response, register

SECOND = timedelta(seconds=1)


def metadata_request(request_id: str, start: datetime, report_back: timedelta = timedelta(0), duration: timedelta = timedelta(0)):
    """An oadrReportRequest for the VTN's METADATA report (one-shot when `report_back` is zero)."""
    return r.ReportRequest(
        request_id, "METADATA", timedelta(0), report_back, (r.SpecifierPayload("0"),), start.replace(microsecond=0), duration
    )


async def create_report(vtn, ven_id: str, *requests: r.ReportRequest, request_id: str = "req-create") -> m.Acknowledgement:
    """The harness VEN's oadrCreateReport; the answer must be oadrCreatedReport 200 echoing the requestID."""
    answer = await vtn.client.send("EiReport", r.CreateReport(request_id, tuple(requests), ven_id))
    assert isinstance(answer, m.Acknowledgement) and answer.name == "oadrCreatedReport", answer
    assert answer.response.code == 200 and answer.response.request_id == request_id, answer.response
    return answer


async def cancel_report(vtn, ven_id: str, *request_ids: str, to_follow: bool = False) -> m.Acknowledgement:
    """The harness VEN's oadrCancelReport; the answer is returned (oadrCanceledReport expected)."""
    answer = await vtn.client.send("EiReport", r.CancelReport("req-cancel", request_ids, to_follow, ven_id))
    assert isinstance(answer, m.Acknowledgement) and answer.name == "oadrCanceledReport", answer
    return answer


async def poll_metadata(vtn, ven_id: str, report_request_id: str) -> None:
    """Poll: the VTN's oadrRegisterReport answering `report_request_id`; acknowledged with oadrRegisteredReport."""
    reply = await vtn.client.poll(ven_id)
    assert isinstance(reply, r.RegisterReport), reply
    assert reply.report_request_id == report_request_id and reply.reports == ()
    ack = r.RegisteredReport(response=m.EiResponse(request_id=reply.request_id), ven_id=ven_id)
    assert_ok_response(await vtn.client.send("EiReport", ack), ven_id)


async def sleep_until(vtn, moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - vtn.ctx.now()).total_seconds()) + 0.1)


async def test_R1_3070_TH_VEN(vtn):
    """R1_3070 (VTN Reporting - One Shot Report). Certification: the VEN asks for the VTN's METADATA report
    (oadrCreateReport, one-shot) and expects oadrCreatedReport 200, then the VTN's oadrRegisterReport on its
    next poll. Ours: the same (nothing pending), once; the poll after it is oadrResponse."""
    reg = await register(vtn, "th-ven")
    created = await create_report(vtn, reg.ven_id, metadata_request("rr-meta-1", vtn.ctx.now()))
    assert created.pending_reports == ()
    await poll_metadata(vtn, reg.ven_id, "rr-meta-1")
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)


async def test_R1_3080_TH_VEN(vtn):
    """R1_3080 (VTN Reporting - Periodic Report). Certification: as R1_3070 with a periodic request
    (reportBackDuration, reportInterval): oadrCreatedReport 200 listing it pending, then the VTN's
    oadrRegisterReport again every reportBackDuration until the interval ends. Ours (seconds): every 2 s over
    a 6 s interval: one at once, the next 2 s after it, none before its time; one not taken before the
    interval's end is dropped (none after the end)."""
    reg = await register(vtn, "th-ven")
    start = vtn.ctx.now().replace(microsecond=0)
    request = metadata_request("rr-meta-p", start, report_back=2 * SECOND, duration=6 * SECOND)
    created = await create_report(vtn, reg.ven_id, request)
    assert created.pending_reports == ("rr-meta-p",)
    await poll_metadata(vtn, reg.ven_id, "rr-meta-p")
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)  # the next one is not due yet
    await sleep_until(vtn, vtn.ctx.now() + 2 * SECOND)  # the next one was due 2 s after the first went out
    if vtn.ctx.now() < start + 5 * SECOND:  # well inside the interval (a very slow machine may be past it)
        await poll_metadata(vtn, reg.ven_id, "rr-meta-p")
    await sleep_until(vtn, start + 7 * SECOND)
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)  # the interval is over: nothing more


async def test_R1_3090_TH_VEN(vtn):
    """R1_3090 (VTN Reporting - Multiple Report Request Payloads). Certification: as R1_3080 with two
    periodic requests in turn: the first oadrCreatedReport lists one pending, the second two; the VTN's
    metadata goes out for each. Ours: the same; both requests are answered by their own oadrRegisterReport."""
    reg = await register(vtn, "th-ven")
    now = vtn.ctx.now()
    first = await create_report(vtn, reg.ven_id, metadata_request("rr-a", now, 60 * SECOND, 300 * SECOND), request_id="req-1")
    assert first.pending_reports == ("rr-a",)
    second = await create_report(vtn, reg.ven_id, metadata_request("rr-b", now, 60 * SECOND, 300 * SECOND), request_id="req-2")
    assert sorted(second.pending_reports) == ["rr-a", "rr-b"]
    answered = []
    for _ in range(2):
        reply = await vtn.client.poll(reg.ven_id)
        assert isinstance(reply, r.RegisterReport), reply
        answered.append(reply.report_request_id)
    assert sorted(answered) == ["rr-a", "rr-b"]
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)  # the next ones are a minute away
    twice = await vtn.client.send("EiReport", r.CreateReport("req-3", (metadata_request("rr-a", now, 60 * SECOND),), reg.ven_id))
    assert isinstance(twice, m.Acknowledgement) and twice.response.code == 452, twice  # rr-a is pending already


async def test_R1_3100_TH_VEN(vtn):
    """R1_3100 (VTN Reporting - Cancel Report). Certification: the VEN's periodic METADATA request is
    running; the VEN cancels it (oadrCancelReport) and expects oadrCanceledReport 200. Ours: 200 with nothing
    pending, and no further oadrRegisterReport for it; a reportRequestID the VTN does not hold → 452; an
    oadrCreateReport for anything but METADATA → 452 (the VTN offers nothing else)."""
    reg = await register(vtn, "th-ven")
    start = vtn.ctx.now().replace(microsecond=0)
    await create_report(vtn, reg.ven_id, metadata_request("rr-meta-c", start, report_back=1 * SECOND, duration=60 * SECOND))
    await poll_metadata(vtn, reg.ven_id, "rr-meta-c")
    canceled = await cancel_report(vtn, reg.ven_id, "rr-meta-c")
    assert canceled.response.code == 200 and canceled.pending_reports == ()
    await asyncio.sleep(1.5)  # past when the next one would have been due
    assert_ok_response(await vtn.client.poll(reg.ven_id), reg.ven_id)
    unknown = await vtn.client.send("EiReport", r.CancelReport("req-x", ("rr-meta-c",), False, reg.ven_id))
    assert isinstance(unknown, m.Acknowledgement) and unknown.response.code == 452, unknown
    other = r.ReportRequest("rr-usage", "TELEMETRY_USAGE", SECOND, SECOND, (r.SpecifierPayload("0"),), start, SECOND)
    refused = await vtn.client.send("EiReport", r.CreateReport("req-y", (other,), reg.ven_id))
    assert isinstance(refused, m.Acknowledgement) and refused.response.code == 452, refused
    assert "METADATA" in refused.response.description
