"""Report and opt conformance of our VTN in push mode: R0_8010…R0_8190 (the relevant ones) and
P0_7010…P0_7050 with the test harness playing a push VEN (TH_VEN). What the VTN initiates
(oadrCreateReport, oadrCancelReport, oadrRegisterReport) is pushed to <transportAddress>/EiReport and the
harness answers in the HTTP response; what the VEN initiates (oadrRegisterReport, oadrUpdateReport,
oadrCreateOpt, oadrCancelOpt) is POSTed exactly as in pull mode. The harness VEN's metadata and data are
the pull cases' (tests/conformance/test_vtn_pull_reports.py)."""

from datetime import timedelta

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.conformance.push_helpers import (  # noqa: F401 (fixtures)
    drained,
    push_config,
    push_endpoint_fixture,
    push_ven_endpoint,
    push_vtn_fixture,
    register_push,
)
from tests.conformance.test_vtn_pull_reports import (
    HarnessVen,
    check_create_report,
    now_s,
    operator_cancels,
    operator_requests,
    points,
    register_metadata,
    state_of,
    status_reports,
    update,
    update_report,
)
from tests.support.reports import opt_schedule
from vtn.store import report_repository


async def push_harness_ven(vtn, endpoint) -> HarnessVen:
    """Precondition of the R0 cases: registered in push mode (N0_5020) with its metadata registered."""
    reg = await register_push(vtn, endpoint)
    ven = HarnessVen(reg.ven_id)
    await register_metadata(vtn, ven)
    await drained(vtn, ven.ven_id)
    return ven


async def pushed_create_report(endpoint, ven: HarnessVen) -> r.CreateReport:
    service, create = await endpoint.next(r.CreateReport)
    assert service == "EiReport"
    check_create_report(ven, create)
    return create


async def test_R0_8010_TH_VEN(vtn, endpoint):
    """R0_8010 (VEN Reporting - One Shot Report, push; mirrors R1_3010): the operator's request is pushed as
    oadrCreateReport; the oadrCreatedReport in the HTTP response marks it acknowledged; the VEN's posted
    oadrUpdateReport gets oadrUpdatedReport 200 and its status point is stored."""
    ven = await push_harness_ven(vtn, endpoint)
    request = await operator_requests(vtn, ven, "TELEMETRY_STATUS")
    create = await pushed_create_report(endpoint, ven)
    assert [q.report_request_id for q in create.report_requests] == [request.report_request_id]
    await drained(vtn, ven.ven_id)
    assert await state_of(vtn, ven, request.report_request_id) == "acknowledged"
    q = create.report_requests[0]
    await update_report(vtn, ven, update(ven, *status_reports(ven, q, now_s(vtn))))
    assert [p["report_request_id"] for p in await points(vtn, ven)] == [q.report_request_id]


async def test_R0_8040_TH_VEN(vtn, endpoint):
    """R0_8040 (VEN Reporting - Cancel Report, push; mirrors R1_3040): the operator's cancellation is pushed
    as oadrCancelReport naming that request; the oadrCanceledReport in the HTTP response ends it; it is
    pushed once."""
    ven = await push_harness_ven(vtn, endpoint)
    request = await operator_requests(vtn, ven, "TELEMETRY_STATUS", granularity=timedelta(minutes=1))
    await pushed_create_report(endpoint, ven)
    await drained(vtn, ven.ven_id)
    await operator_cancels(vtn, request)
    service, cancel = await endpoint.next(r.CancelReport)
    assert service == "EiReport" and cancel.report_request_ids == (request.report_request_id,)
    await drained(vtn, ven.ven_id)
    assert await state_of(vtn, ven, request.report_request_id) == "cancelled"
    await endpoint.nothing_more(0.5)


async def test_R0_8060_TH_VEN(vtn, endpoint):
    """R0_8060 (piggy-back request, push; mirrors R1_3060): the configured report requests ride on the
    oadrRegisteredReport answering the VEN's posted oadrRegisterReport, exactly as in pull mode."""
    ven = HarnessVen((await register_push(vtn, endpoint)).ven_id)
    answer = await register_metadata(vtn, ven)
    assert [q.report_specifier_id for q in answer.report_requests] == [ven.spec("TELEMETRY_USAGE")]


async def test_R0_8190_TH_VEN(vtn, endpoint):
    """R0_8190 (negative, push): an oadrCreatedReport answer with an error code is recorded like a posted
    one (the request is not acknowledged) and the message is not pushed again."""
    ven = await push_harness_ven(vtn, endpoint)
    endpoint.answers["oadrCreateReport"] = lambda msg: m.Acknowledgement(
        "oadrCreatedReport", m.EiResponse(452, "ERROR", msg.request_id), ven_id=ven.ven_id
    )
    request = await operator_requests(vtn, ven, "TELEMETRY_STATUS")
    await pushed_create_report(endpoint, ven)
    await drained(vtn, ven.ven_id)
    assert await state_of(vtn, ven, request.report_request_id) != "acknowledged"
    await endpoint.nothing_more(0.5)


async def test_P0_7010_TH_VEN(vtn, endpoint):
    """P0_7010 (VEN Opt - New Opt Schedule, push; the P1 cases run this body): the push VEN's posted
    oadrCreateOpt gets oadrCreatedOpt 200 and is stored."""
    reg = await register_push(vtn, endpoint)
    start = vtn.ctx.now().replace(microsecond=0) + timedelta(days=1)
    answer = await vtn.client.send("EiOpt", opt_schedule(reg.ven_id, "opt-1", start, timedelta(hours=4)))
    assert isinstance(answer, m.Acknowledgement) and answer.name == "oadrCreatedOpt" and answer.response.code == 200
    assert [o["opt_id"] for o in await vtn.ctx.store.call(report_repository.list_opts, reg.ven_id)] == ["opt-1"]


async def test_P0_7020_TH_VEN(vtn, endpoint):
    """P0_7020 (VEN Opt - Cancel Opt Schedule, push): oadrCancelOpt gets oadrCanceledOpt 200; an unknown
    optID gets 452."""
    reg = await register_push(vtn, endpoint)
    start = vtn.ctx.now().replace(microsecond=0) + timedelta(days=1)
    await vtn.client.send("EiOpt", opt_schedule(reg.ven_id, "opt-2", start, timedelta(hours=4)))
    answer = await vtn.client.send("EiOpt", r.CancelOpt(request_id="c", opt_id="opt-2", ven_id=reg.ven_id))
    assert isinstance(answer, m.Acknowledgement) and answer.response.code == 200
    answer = await vtn.client.send("EiOpt", r.CancelOpt(request_id="c2", opt_id="nope", ven_id=reg.ven_id))
    assert isinstance(answer, m.Acknowledgement) and answer.response.code == 452
