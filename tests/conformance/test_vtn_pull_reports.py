"""Report conformance of our VTN in pull mode: OpenADR 2.0b certification cases R1_3010…R1_3190 with the
test harness playing the VEN (TH_VEN). Our VTN is the device under test; `vtn.client` plays the harness VEN.

Precondition of every case ("checkActiveRegistration", after N1_0020): the harness VEN is registered and
has registered its metadata — a TELEMETRY_STATUS report (one x-resourceStatus rID), a HISTORY_USAGE and
a TELEMETRY_USAGE report (an energyReal and a powerReal rID each), with fresh specifier IDs and rIDs at
every registration (`harness_ven`). The harness VEN takes no action on report requests piggy-backed on
that oadrRegisteredReport (the test configuration asks for TELEMETRY_USAGE there).

The operator prompts ("configure the VTN DUT such that it will send a report request as follows …") are
made through the admin API the CLI uses (`report_admin.request_report`, `report_admin.cancel_request`).
The harness checks every oadrCreateReport it polls against its conformance rules; `poll_create_report`
applies those rules (rIDs registered, reportRequestIDs non-zero and never reused, HISTORY_USAGE with zero
granularity and reportBackDuration, periodic telemetry with a reportInterval, granularity not below the
advertised minimum sampling period, no itemBase in specifierPayload, readingType x-notApplicable). Requests
piggy-backed on oadrRegisteredReport are not checked by the harness; ours checks them with the same rules
and finds a defect (`test_R1_3060_TH_VEN_reading_type`). Waits the harness makes (reportBackDuration,
"pause 2 minutes") are left out: our VTN does not time-gate updates; report data carries the times the
harness VEN would have used. The VTN reporting cases R1_3070…R1_3100 (the VTN's own METADATA report) are
in test_vtn_pull_vtn_reports.py.
"""

import asyncio
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest
from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.codes import ResponseCode
from mapping.oadr.encode import encode
from mapping.oadr.timefmt import format_datetime
from mapping.oadr.vocabulary import power_kw
from tests.conformance import assert_ok_response, register
from tests.support.vtn_harness import PROGRAM, running_vtn
from tests.support.vtn_harness import config_for_tests as make_config
from vtn.admin import reports as report_admin
from vtn.config import AutoReport
from vtn.store import report_repository

MINUTE = timedelta(minutes=1)
ZERO = timedelta(0)
GOOD = "Quality Good - Non Specific"
RESOURCE = "site-res-battery"


@pytest.fixture
async def vtn_status(db_url):
    """Our VTN configured (Prompt_024) to piggy-back a one-shot TELEMETRY_STATUS request (granularity and
    reportBackDuration PT0M) on every oadrRegisteredReport, on each store backend."""
    config = make_config(db_url, auto_reports=(AutoReport("TELEMETRY_STATUS", ZERO, ZERO),))
    async with running_vtn(config) as running:
        yield running


# --- the harness VEN ------------------------------------------------------------------------------


@dataclass
class HarnessVen:
    """The harness VEN's ids: its venID, and for each report name the specifierID and rIDs (by kind)."""

    ven_id: str
    reports: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    sampling: dict[str, r.SamplingRate | None] = field(default_factory=dict)
    request_ids_seen: set[str] = field(default_factory=set)

    def spec(self, name: str) -> str:
        return self.reports[name][0]

    def rid(self, name: str, kind: str) -> str:
        return self.reports[name][1][kind]

    def report_name(self, specifier_id: str) -> str:
        names = [name for name, (spec, _) in self.reports.items() if spec == specifier_id]
        assert names, f"reportSpecifierID {specifier_id} is not one the VEN registered"
        return names[0]


def _description(r_id: str, kind: str, sampling: r.SamplingRate | None) -> r.ReportDescription:
    if kind == "status":
        return r.ReportDescription(r_id, "x-resourceStatus", "x-notApplicable", None, sampling, PROGRAM, (RESOURCE,))
    unit = power_kw() if kind == "power" else m.ItemUnit("energyReal", "RealEnergy", "Wh", "none")
    return r.ReportDescription(r_id, "usage", "Direct Read", unit, sampling, PROGRAM, (RESOURCE,))


def harness_metadata(ven: HarnessVen) -> tuple[r.ReportMetadata, ...]:
    """The harness VEN's metadata (its Metadata_001 shape), with fresh specifier IDs and rIDs; `ven` learns them.

    TELEMETRY_STATUS: one status rID sampled every minute. HISTORY_USAGE: energy (1–10 min) and power (no
    sampling rate). TELEMETRY_USAGE: energy (1–10 min) and power (exactly 1 min)."""
    tag = uuid.uuid4().hex[:8]
    layout = {
        "TELEMETRY_STATUS": (timedelta(minutes=10), {"status": r.SamplingRate(MINUTE, MINUTE)}),
        "HISTORY_USAGE": (timedelta(hours=1), {"energy": r.SamplingRate(MINUTE, 10 * MINUTE), "power": None}),
        "TELEMETRY_USAGE": (
            timedelta(minutes=10),
            {"energy": r.SamplingRate(MINUTE, 10 * MINUTE), "power": r.SamplingRate(MINUTE, MINUTE)},
        ),
    }
    ven.reports.clear()
    ven.sampling.clear()
    metadata = []
    for index, (name, (duration, kinds)) in enumerate(layout.items()):
        spec = f"RS-{tag}-{index}"
        rids = {kind: f"rid-{tag}-{index}-{kind}" for kind in kinds}
        ven.reports[name] = (spec, rids)
        ven.sampling.update({rids[kind]: rate for kind, rate in kinds.items()})
        metadata.append(
            r.ReportMetadata(
                report_specifier_id=spec,
                report_name=f"METADATA_{name}",
                created=datetime.now().astimezone(),
                duration=duration,
                descriptions=tuple(_description(rids[kind], kind, rate) for kind, rate in kinds.items()),
            )
        )
    return tuple(metadata)


async def register_metadata(vtn, ven: HarnessVen, request_id: str = "req-metadata") -> r.RegisteredReport:
    """The harness VEN's oadrRegisterReport; the answer must be oadrRegisteredReport 200 echoing the requestID."""
    answer = await vtn.client.send(
        "EiReport", r.RegisterReport(request_id=request_id, reports=harness_metadata(ven), ven_id=ven.ven_id)
    )
    assert isinstance(answer, r.RegisteredReport), answer
    assert answer.response.code == 200 and answer.response.request_id == request_id, answer.response
    assert answer.ven_id == ven.ven_id
    return answer


async def harness_ven(vtn, name: str = "th-ven") -> HarnessVen:
    """Precondition of the R1 cases: registered (N1_0020) with its metadata registered; nothing queued."""
    reg = await register(vtn, name)
    ven = HarnessVen(reg.ven_id)
    await register_metadata(vtn, ven)
    assert_ok_response(await vtn.client.poll(ven.ven_id), ven.ven_id)
    return ven


# --- operator prompts and the harness's side of the exchange ------------------------------------


async def operator_requests(vtn, ven: HarnessVen, report_name: str, **options: object) -> r.ReportRequest:
    """The operator makes the VTN request a report (as `cariflex reports request` does)."""
    return await vtn.admin(report_admin.request_report, ven.ven_id, report_name, vtn.ctx.now(), **options)


async def operator_cancels(vtn, request: r.ReportRequest, report_to_follow: bool = False) -> None:
    """The operator makes the VTN cancel a report request (as `cariflex reports cancel` does)."""
    await vtn.admin(report_admin.cancel_request, request.report_request_id, vtn.ctx.now(), report_to_follow)


def check_create_report(ven: HarnessVen, create: r.CreateReport) -> None:
    """The harness's conformance rules on a received oadrCreateReport."""
    assert create.ven_id == ven.ven_id
    assert create.report_requests
    for q in create.report_requests:
        assert q.report_request_id not in ("", "0"), q.report_request_id
        assert q.report_request_id not in ven.request_ids_seen, f"reportRequestID {q.report_request_id} reused"
        ven.request_ids_seen.add(q.report_request_id)
        if q.report_specifier_id == "METADATA":
            continue
        name = ven.report_name(q.report_specifier_id)
        registered = set(ven.reports[name][1].values())
        assert {p.r_id for p in q.payloads} <= registered, (q.payloads, registered)
        assert all(p.unit is None for p in q.payloads), "itemBase in specifierPayload"
        assert {p.reading_type for p in q.payloads} == {"x-notApplicable"}, q.payloads
        if name == "HISTORY_USAGE":
            assert (q.granularity, q.report_back) == (ZERO, ZERO)
        if name.startswith("TELEMETRY_") and q.report_back > ZERO:
            assert q.interval_start is not None and q.interval_duration is not None
        if q.granularity > ZERO:
            for p in q.payloads:
                rate = ven.sampling[p.r_id]
                assert rate is None or q.granularity >= rate.min_period, (p.r_id, q.granularity, rate)


async def poll_create_report(vtn, ven: HarnessVen) -> r.CreateReport:
    """Poll; the answer must be an oadrCreateReport that passes the harness's conformance rules."""
    create = await vtn.client.poll(ven.ven_id)
    assert isinstance(create, r.CreateReport), create
    check_create_report(ven, create)
    return create


async def created_report(vtn, ven: HarnessVen, create: r.CreateReport, code: int = 200, pending: tuple[str, ...] = ()) -> None:
    """oadrCreatedReport for a received oadrCreateReport, listing its requests (and `pending` ones) as
    pending; the answer must be oadrResponse 200."""
    ack = m.Acknowledgement(
        "oadrCreatedReport",
        m.EiResponse(code, "OK" if code == 200 else "ERROR", create.request_id),
        ven_id=ven.ven_id,
        pending_reports=tuple(q.report_request_id for q in create.report_requests) + pending,
    )
    assert_ok_response(await vtn.client.send("EiReport", ack), ven.ven_id)


async def poll_cancel_report(vtn, ven: HarnessVen) -> r.CancelReport:
    cancel = await vtn.client.poll(ven.ven_id)
    assert isinstance(cancel, r.CancelReport), cancel
    assert cancel.ven_id == ven.ven_id
    return cancel


async def canceled_report(vtn, ven: HarnessVen, cancel: r.CancelReport, pending: tuple[str, ...], code: int = 200) -> None:
    """oadrCanceledReport as the harness sends it (pendingReports as given); the answer must be oadrResponse 200."""
    ack = m.Acknowledgement(
        "oadrCanceledReport",
        m.EiResponse(code, "OK" if code == 200 else "ERROR", cancel.request_id),
        ven_id=ven.ven_id,
        pending_reports=pending,
    )
    assert_ok_response(await vtn.client.send("EiReport", ack), ven.ven_id)


async def update_report(vtn, ven: HarnessVen, update: r.UpdateReport, code: int = 200) -> r.UpdatedReport:
    """Send oadrUpdateReport; the answer must be oadrUpdatedReport with `code`, echoing the requestID."""
    answer = await vtn.client.send("EiReport", update)
    assert isinstance(answer, r.UpdatedReport), answer
    assert answer.response.code == code, answer.response
    assert answer.response.request_id == update.request_id
    assert answer.ven_id == ven.ven_id
    return answer


def _report(ven: HarnessVen, q: r.ReportRequest, intervals: tuple[r.ReportInterval, ...], **fields: object) -> r.ReportData:
    return r.ReportData(
        report_request_id=q.report_request_id,
        report_specifier_id=q.report_specifier_id,
        report_name=ven.report_name(q.report_specifier_id),
        created=datetime.now().astimezone(),
        intervals=intervals,
        **fields,  # type: ignore[arg-type]
    )


def status_reports(
    ven: HarnessVen, q: r.ReportRequest, start: datetime, load_control: dict[str, dict[str, float]] | None = None
) -> tuple[r.ReportData, ...]:
    """The harness's status data (its Update_001): one oadrReport per requested rID, dtstart on the report,
    one interval without dtstart or duration, an oadrPayloadResourceStatus (online, no manual override)."""
    status = r.ResourceStatus(online=True, manual_override=False, load_control=load_control or {})
    return tuple(
        _report(
            ven,
            q,
            (r.ReportInterval(payloads=(r.ReportPayload(p.r_id, status=status, data_quality=GOOD),), uid="0"),),
            dtstart=start,
            report_id=f"RP-{uuid.uuid4().hex[:8]}",
        )
        for p in q.payloads
    )


def usage_report(
    ven: HarnessVen,
    q: r.ReportRequest,
    rows: list[tuple[float, ...]],
    start: datetime,
    step: timedelta,
    *,
    interval_dtstart: bool = True,
) -> r.ReportData:
    """Float data: one `step`-long interval per row, one payload per requested rID (confidence 100,
    accuracy 0); without interval dtstarts when `interval_dtstart` is false (derived from the report's)."""
    intervals = tuple(
        r.ReportInterval(
            payloads=tuple(
                r.ReportPayload(p.r_id, value=v, confidence=100, accuracy=0.0, data_quality=GOOD)
                for p, v in zip(q.payloads, row, strict=True)
            ),
            dtstart=start + i * step if interval_dtstart else None,
            duration=step,
            uid=str(i),
        )
        for i, row in enumerate(rows)
    )
    return _report(ven, q, intervals, dtstart=start, duration=step * len(rows))


def update(ven: HarnessVen, *reports: r.ReportData) -> r.UpdateReport:
    """oadrUpdateReport with a fresh requestID."""
    return r.UpdateReport(request_id=f"upd-{uuid.uuid4().hex[:8]}", reports=reports, ven_id=ven.ven_id)


async def points(vtn, ven: HarnessVen) -> list[dict]:
    return await vtn.ctx.store.call(report_repository.points, ven_id=ven.ven_id)


async def state_of(vtn, ven: HarnessVen, request_id: str) -> str:
    rows = await vtn.ctx.store.call(report_repository.list_requests, ven.ven_id)
    return {q.report_request_id: state for _v, q, _n, state in rows}[request_id]


def now_s(vtn) -> datetime:
    """The VTN's clock in whole seconds (as times go on the wire)."""
    return vtn.ctx.now().replace(microsecond=0)


def status_point(p: dict) -> tuple[str, bool, bool]:
    return p["r_id"], p["status"]["online"], p["status"]["manual_override"]


# --- R1_*: VEN reporting (the VTN requests, the harness VEN reports) -------------------------------


async def test_R1_3010_TH_VEN(vtn):
    """R1_3010 (VEN Reporting - One Shot Report). Certification (Prompt_019): the VTN is configured to
    request TELEMETRY_STATUS with granularity and reportBackDuration PT0M; the VEN polls and must get
    oadrCreateReport, answers oadrCreatedReport (oadrResponse expected) and sends its one status report
    (oadrUpdatedReport expected). Ours: one request for the VEN's status specifier and its status rID,
    granularity and reportBackDuration 0; the oadrCreatedReport marks it acknowledged; the update gets
    oadrUpdatedReport 200 echoing the requestID and the status point is stored; nothing else is queued."""
    ven = await harness_ven(vtn)
    request = await operator_requests(vtn, ven, "TELEMETRY_STATUS")
    create = await poll_create_report(vtn, ven)
    assert [q.report_request_id for q in create.report_requests] == [request.report_request_id]
    q = create.report_requests[0]
    assert q.report_specifier_id == ven.spec("TELEMETRY_STATUS")
    assert (q.granularity, q.report_back) == (ZERO, ZERO)
    assert [p.r_id for p in q.payloads] == [ven.rid("TELEMETRY_STATUS", "status")]

    await created_report(vtn, ven, create)
    assert await state_of(vtn, ven, q.report_request_id) == "acknowledged"
    answer = await update_report(vtn, ven, update(ven, *status_reports(ven, q, now_s(vtn))))
    assert answer.cancel is None
    stored = await points(vtn, ven)
    assert [status_point(p) for p in stored] == [(ven.rid("TELEMETRY_STATUS", "status"), True, False)]
    assert stored[0]["report_request_id"] == q.report_request_id and stored[0]["data_quality"] == GOOD
    assert_ok_response(await vtn.client.poll(ven.ven_id), ven.ven_id)


async def test_R1_3020_TH_VEN(vtn):
    """R1_3020 (VEN Reporting - Periodic Report). Certification (Prompt_020): TELEMETRY_STATUS with
    granularity 1 minute (or the minimum sampling rate, whichever is greater), reportBackDuration =
    granularity, reportInterval starting now for 5 minutes; the VEN polls oadrCreateReport, answers
    oadrCreatedReport, then sends the same oadrUpdateReport twice; each must get oadrUpdatedReport.
    Ours: the request carries exactly those values (the reportInterval the harness requires of periodic
    telemetry); both updates get 200, the repeated one is acknowledged as already stored and not stored
    twice."""
    ven = await harness_ven(vtn)
    start = now_s(vtn)
    await operator_requests(
        vtn, ven, "TELEMETRY_STATUS", granularity=MINUTE, report_back=MINUTE, start=start, duration=5 * MINUTE
    )
    create = await poll_create_report(vtn, ven)
    q = create.report_requests[0]
    assert (q.granularity, q.report_back) == (MINUTE, MINUTE)
    assert (q.interval_start, q.interval_duration) == (start, 5 * MINUTE)
    await created_report(vtn, ven, create)

    message = update(ven, *status_reports(ven, q, start))
    first = await update_report(vtn, ven, message)
    again = await update_report(vtn, ven, message)
    assert "already stored" not in first.response.description
    assert "already stored" in again.response.description
    assert len(await points(vtn, ven)) == 1


async def test_R1_3025_TH_VEN(vtn):
    """R1_3025 (VEN Reporting - Delayed Periodic Report, loadControlState). Certification (Prompt_055):
    TELEMETRY_STATUS with granularity PT0M (on change), reportBackDuration PT1M, reportInterval starting in
    2 minutes for 5 minutes; the VEN polls oadrCreateReport, answers oadrCreatedReport, waits for the
    interval's dtstart, then sends an oadrUpdateReport inside an oadrSignedObject carrying an oadr:Id attribute,
    with a 100+-character eiReportID and an oadrLoadControlState (capacity, levelOffset, percentOffset,
    setPoint, each min/max/current/normal); oadrUpdatedReport expected. Ours, scaled to about a second:
    the interval starts when asked and lasts 5 minutes; the VEN advertised its status rID as sampled every
    minute, not on change, so the VTN fits granularity 0 into that sampling range (1 minute); the update is
    accepted (200) and every load-control value is stored."""
    ven = await harness_ven(vtn)
    start = now_s(vtn) + timedelta(seconds=1)
    await operator_requests(vtn, ven, "TELEMETRY_STATUS", granularity=ZERO, report_back=MINUTE, start=start, duration=5 * MINUTE)
    create = await poll_create_report(vtn, ven)
    q = create.report_requests[0]
    assert (q.report_back, q.interval_start, q.interval_duration) == (MINUTE, start, 5 * MINUTE)
    assert q.granularity == MINUTE  # granularity 0 fitted into the advertised 1-minute sampling range
    await created_report(vtn, ven, create)

    await asyncio.sleep(max(0.0, (start - vtn.ctx.now()).total_seconds()) + 0.05)  # wait for dtstart
    load_control = {
        "capacity": {"min": 0.5, "max": 1.0, "current": 0.7, "normal": 0.65},
        "levelOffset": {"min": -4, "max": 3, "current": 1, "normal": 0},
        "percentOffset": {"min": -0.1, "max": 0.15, "current": -0.05, "normal": 0},
        "setPoint": {"min": 60, "max": 80, "current": 70, "normal": 72},
    }
    (report,) = status_reports(ven, q, now_s(vtn), load_control)
    report = replace(report, report_id="RP_" + "0123456789" * 10)
    report = replace(report, intervals=(replace(report.intervals[0], dtstart=report.dtstart),))
    message = update(ven, report)
    root = etree.fromstring(encode(message))
    signed = root[0]
    assert etree.QName(signed).localname == "oadrSignedObject"
    signed.set(f"{{{etree.QName(signed).namespace}}}Id", "A1700000000000")  # oadr:Id (attributes are qualified)
    reply = await vtn.client.post("EiReport", etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert reply.status == 200 and isinstance(reply.message, r.UpdatedReport), reply.body[:500]
    assert reply.message.response.code == 200 and reply.message.response.request_id == message.request_id
    (stored,) = await points(vtn, ven)
    assert stored["status"]["load_control"] == load_control


async def test_R1_3027_TH_VEN(vtn):
    """R1_3027 (VEN Reporting - Short Duration). Certification (Prompt_064): TELEMETRY_STATUS, granularity
    and reportBackDuration PT1M, reportInterval starting now for only 2 minutes; the VEN polls
    oadrCreateReport, answers oadrCreatedReport, sends its report, waits one reportBackDuration and sends it
    again; oadrUpdatedReport expected each time. Ours: the request carries the 2-minute window; both
    updates get 200 (the second one, identical, is not stored twice)."""
    ven = await harness_ven(vtn)
    start = now_s(vtn)
    await operator_requests(
        vtn, ven, "TELEMETRY_STATUS", granularity=MINUTE, report_back=MINUTE, start=start, duration=2 * MINUTE
    )
    create = await poll_create_report(vtn, ven)
    q = create.report_requests[0]
    assert (q.granularity, q.report_back, q.interval_start, q.interval_duration) == (MINUTE, MINUTE, start, 2 * MINUTE)
    await created_report(vtn, ven, create)
    message = update(ven, *status_reports(ven, q, start))
    await update_report(vtn, ven, message)
    await update_report(vtn, ven, message)
    assert len(await points(vtn, ven)) == 1


async def test_R1_3030_TH_VEN(vtn):
    """R1_3030 (VEN Reporting - Multiple Report Request Payloads). Certification (Prompt_020, then
    Prompt_021): a periodic TELEMETRY_STATUS request (now, 5 minutes); poll, oadrCreatedReport, report;
    then a second one (granularity = reportBackDuration = 1 minute, starting in 15 seconds, for 10
    minutes); poll, oadrCreatedReport, report; then both reports are sent again; every update must get
    oadrUpdatedReport (the harness does not require unique reportRequestIDs here). Ours: two distinct
    requests with those windows, each acknowledged; all four updates get 200; one point per request
    is stored."""
    ven = await harness_ven(vtn)
    start = now_s(vtn)
    await operator_requests(
        vtn, ven, "TELEMETRY_STATUS", granularity=MINUTE, report_back=MINUTE, start=start, duration=5 * MINUTE
    )
    create_1 = await poll_create_report(vtn, ven)
    await created_report(vtn, ven, create_1)
    update_1 = update(ven, *status_reports(ven, create_1.report_requests[0], start))
    await update_report(vtn, ven, update_1)

    later = start + timedelta(seconds=15)
    await operator_requests(
        vtn, ven, "TELEMETRY_STATUS", granularity=MINUTE, report_back=MINUTE, start=later, duration=10 * MINUTE
    )
    create_2 = await poll_create_report(vtn, ven)
    q1, q2 = create_1.report_requests[0], create_2.report_requests[0]
    assert q1.report_request_id != q2.report_request_id
    assert (q2.interval_start, q2.interval_duration) == (later, 10 * MINUTE)
    await created_report(vtn, ven, create_2)
    update_2 = update(ven, *status_reports(ven, q2, later))
    await update_report(vtn, ven, update_2)

    await update_report(vtn, ven, update_1)
    await update_report(vtn, ven, update_2)
    stored = await points(vtn, ven)
    assert sorted(p["report_request_id"] for p in stored) == sorted([q1.report_request_id, q2.report_request_id])
    assert {await state_of(vtn, ven, q.report_request_id) for q in (q1, q2)} == {"acknowledged"}


async def _periodic_status_reported(vtn, duration: timedelta = 5 * MINUTE) -> tuple[HarnessVen, r.ReportRequest]:
    """Prompt_020 (or Prompt_056 with duration 0): a periodic TELEMETRY_STATUS request polled,
    acknowledged with oadrCreatedReport and reported once."""
    ven = await harness_ven(vtn)
    start = now_s(vtn)
    await operator_requests(vtn, ven, "TELEMETRY_STATUS", granularity=MINUTE, report_back=MINUTE, start=start, duration=duration)
    create = await poll_create_report(vtn, ven)
    q = create.report_requests[0]
    assert (q.interval_start, q.interval_duration) == (start, duration)
    await created_report(vtn, ven, create)
    await update_report(vtn, ven, update(ven, *status_reports(ven, q, start)))
    return ven, q


async def test_R1_3040_TH_VEN(vtn):
    """R1_3040 (VEN Reporting - Cancel Report). Certification: a periodic TELEMETRY_STATUS request
    (Prompt_020) is polled, acknowledged and reported once; the operator makes the VTN cancel it
    (Prompt_022); the VEN polls and must get oadrCancelReport, and answers oadrCanceledReport listing the
    request in oadrPendingReports (oadrResponse expected). Ours: the oadrCancelReport names exactly that
    request (reportToFollow false), the oadrCanceledReport gets 200, the request is no longer active, and
    the cancellation is sent only once."""
    ven, q = await _periodic_status_reported(vtn)
    await operator_cancels(vtn, q)
    cancel = await poll_cancel_report(vtn, ven)
    assert cancel.report_request_ids == (q.report_request_id,)
    assert cancel.report_to_follow is False
    await canceled_report(vtn, ven, cancel, pending=(q.report_request_id,))
    assert await state_of(vtn, ven, q.report_request_id) in ("cancelling", "cancelled")
    assert_ok_response(await vtn.client.poll(ven.ven_id), ven.ven_id)


async def test_R1_3045_TH_VEN(vtn):
    """R1_3045 (VEN Reporting - Cancel Open Ended Report, reportToFollow). Certification: TELEMETRY_STATUS
    with granularity = reportBackDuration = 1 minute, starting now, duration 0 (open ended, Prompt_056);
    polled, acknowledged, reported; the operator cancels it with reportToFollow true (Prompt_057); the VEN
    polls oadrCancelReport, answers oadrCanceledReport, then sends its final report, which must get
    oadrUpdatedReport. Ours: the request goes out with a zero-length (open-ended) reportInterval; the
    oadrCancelReport carries reportToFollow true; the final report is accepted (200, stored) without the
    cancellation being repeated on it."""
    ven, q = await _periodic_status_reported(vtn, duration=ZERO)
    await operator_cancels(vtn, q, report_to_follow=True)
    cancel = await poll_cancel_report(vtn, ven)
    assert cancel.report_request_ids == (q.report_request_id,) and cancel.report_to_follow is True
    await canceled_report(vtn, ven, cancel, pending=(q.report_request_id,))
    final = await update_report(vtn, ven, update(ven, *status_reports(ven, q, now_s(vtn) + MINUTE)))
    assert final.cancel is None
    assert len(await points(vtn, ven)) == 2


async def test_R1_3050_TH_VEN(vtn):
    """R1_3050 (VEN Reporting - piggy back Cancellation). Certification: a periodic TELEMETRY_STATUS request
    (Prompt_020) is polled and acknowledged; the operator makes the VTN piggy-back a cancellation on its
    next oadrUpdatedReport (Prompt_023); the VEN sends its report and the oadrUpdatedReport must carry an
    oadrCancelReport with at least one reportRequestID — one of those in the delivered report (harness
    rule). Ours: the oadrUpdatedReport (200) carries oadrCancelReport for exactly that request, the data
    is stored, and the next poll does not send the cancellation again."""
    ven = await harness_ven(vtn)
    start = now_s(vtn)
    await operator_requests(
        vtn, ven, "TELEMETRY_STATUS", granularity=MINUTE, report_back=MINUTE, start=start, duration=5 * MINUTE
    )
    create = await poll_create_report(vtn, ven)
    q = create.report_requests[0]
    await created_report(vtn, ven, create)
    await operator_cancels(vtn, q)
    answer = await update_report(vtn, ven, update(ven, *status_reports(ven, q, start)))
    assert answer.cancel is not None
    assert answer.cancel.report_request_ids == (q.report_request_id,)
    assert len(await points(vtn, ven)) == 1
    assert_ok_response(await vtn.client.poll(ven.ven_id), ven.ven_id)


async def test_R1_3060_TH_VEN(vtn_status):
    """R1_3060 (VEN Reporting - piggy back request). Certification (Prompt_024): the VTN is configured to
    piggy-back a TELEMETRY_STATUS request (granularity and reportBackDuration PT0M) on its
    oadrRegisteredReport; the VEN sends oadrRegisterReport and the oadrRegisteredReport must carry at
    least one oadrReportRequest; the VEN answers oadrCreatedReport (oadrResponse expected) and reports
    (oadrUpdatedReport expected). Ours (VTN configured with that request in `[[reports.on_registration]]`):
    the re-registration's answer carries one request for the new status specifier and rID, which passes
    the harness's rules; the oadrCreatedReport and the report are accepted and the data stored."""
    vtn = vtn_status
    ven = await harness_ven(vtn)
    answer = await register_metadata(vtn, ven, "req-metadata-3060")
    assert len(answer.report_requests) >= 1
    piggy_backed = r.CreateReport(request_id="req-metadata-3060", report_requests=answer.report_requests, ven_id=ven.ven_id)
    check_create_report(ven, piggy_backed)
    (q,) = answer.report_requests
    assert q.report_specifier_id == ven.spec("TELEMETRY_STATUS")
    assert [p.r_id for p in q.payloads] == [ven.rid("TELEMETRY_STATUS", "status")]
    assert (q.granularity, q.report_back) == (ZERO, ZERO)

    await created_report(vtn, ven, piggy_backed)
    assert await state_of(vtn, ven, q.report_request_id) == "acknowledged"
    await update_report(vtn, ven, update(ven, *status_reports(ven, q, now_s(vtn))))
    assert [p["report_request_id"] for p in await points(vtn, ven)] == [q.report_request_id]


async def test_R1_3060_TH_VEN_reading_type(vtn):
    """R1_3060 (VEN Reporting - piggy back request), with a piggy-backed request for usage data (the test
    configuration asks for TELEMETRY_USAGE on every report registration). Certification: the harness applies
    its oadrCreateReport conformance rules — among them "specifierPayload readingType is x-notApplicable" —
    to every oadrCreateReport it receives, but not to requests piggy-backed on oadrRegisteredReport, so the
    harness itself would not notice this. Ours: a piggy-backed request must satisfy the same rules as a
    polled one, readingType included (as the same request does when it goes out in oadrCreateReport)."""
    ven = await harness_ven(vtn)
    answer = await register_metadata(vtn, ven, "req-metadata-again")
    (q,) = answer.report_requests
    assert q.report_specifier_id == ven.spec("TELEMETRY_USAGE")
    check_create_report(ven, r.CreateReport(request_id="req-metadata-again", report_requests=(q,), ven_id=ven.ven_id))


async def test_R1_3130_TH_VEN(vtn):
    """R1_3130 (VEN Reporting - Historical Usage Report, optional). Certification (Prompt_043): HISTORY_USAGE
    for the powerReal and energyReal rIDs, granularity 0, reportBackDuration PT0M, reportInterval starting
    now with duration PT0M ("all data"); the harness checks the request names the VEN's HISTORY_USAGE
    specifier with exactly those two rIDs, a dtstart within 2 minutes of now and a duration of 0 or at least
    60 minutes; it answers oadrCreatedReport and sends six 10-minute intervals of both rIDs (oadrUpdatedReport
    expected). Ours: that request exactly; the 12 values are stored."""
    ven = await harness_ven(vtn)
    start = now_s(vtn)
    await operator_requests(vtn, ven, "HISTORY_USAGE", start=start, duration=ZERO)
    create = await poll_create_report(vtn, ven)
    (q,) = create.report_requests
    assert q.report_specifier_id == ven.spec("HISTORY_USAGE")
    assert {p.r_id for p in q.payloads} == {ven.rid("HISTORY_USAGE", "energy"), ven.rid("HISTORY_USAGE", "power")}
    assert abs(q.interval_start - vtn.ctx.now()) < 2 * MINUTE
    assert q.interval_duration == ZERO
    await created_report(vtn, ven, create)

    rows = [(500, 400), (530, 430), (540, 410), (570, 450), (520, 440), (520, 410)]
    await update_report(vtn, ven, update(ven, usage_report(ven, q, rows, start, 10 * MINUTE)))
    stored = await points(vtn, ven)
    assert len(stored) == 12
    first = q.payloads[0].r_id
    assert [p["value"] for p in stored if p["r_id"] == first] == [row[0] for row in rows]


async def test_R1_3140_TH_VEN(vtn):
    """R1_3140 (VEN Reporting - Historical Usage Report Subset, optional). Certification (Prompt_044):
    HISTORY_USAGE for the energyReal rID only, granularity 0, reportBackDuration PT0M, from 30 minutes ago
    for 30 minutes; the harness checks the specifier, the single energy rID and a dtstart within 2 minutes
    of now − 30 minutes; it answers oadrCreatedReport and sends three 10-minute intervals that carry only
    durations (starts derived from the report's dtstart). Ours: that request; the three values are stored
    at now − 30, − 20 and − 10 minutes."""
    ven = await harness_ven(vtn)
    start = now_s(vtn) - 30 * MINUTE
    energy = ven.rid("HISTORY_USAGE", "energy")
    await operator_requests(vtn, ven, "HISTORY_USAGE", start=start, duration=30 * MINUTE, r_ids=(energy,))
    create = await poll_create_report(vtn, ven)
    (q,) = create.report_requests
    assert q.report_specifier_id == ven.spec("HISTORY_USAGE")
    assert [p.r_id for p in q.payloads] == [energy]
    assert abs(q.interval_start - (vtn.ctx.now() - 30 * MINUTE)) < 2 * MINUTE
    assert (q.granularity, q.report_back, q.interval_duration) == (ZERO, ZERO, 30 * MINUTE)
    await created_report(vtn, ven, create)

    report = usage_report(ven, q, [(500,), (530,), (540,)], start, 10 * MINUTE, interval_dtstart=False)
    await update_report(vtn, ven, update(ven, report))
    stored = await points(vtn, ven)
    assert [(p["dtstart"], p["value"]) for p in stored] == [
        (format_datetime(start + i * 10 * MINUTE), v) for i, v in enumerate((500, 530, 540))
    ]


async def test_R1_3150_TH_VEN(vtn):
    """R1_3150 (VEN Reporting - Telemetry Usage, One Shot). Certification (Prompt_045): a one-shot
    TELEMETRY_USAGE request for the powerReal and energyReal rIDs, granularity = minimum sampling rate,
    reportBackDuration PT0M, no reportInterval; the harness checks the VEN's TELEMETRY_USAGE specifier, the
    two rIDs and reportBackDuration 0; it answers oadrCreatedReport and sends one 1-minute interval with
    both values (oadrUpdatedReport expected). Ours: that request — except that our VTN always sends a
    reportInterval (here starting now, length 0), which the schema allows and the harness does not check;
    both values are stored."""
    ven = await harness_ven(vtn)
    await operator_requests(vtn, ven, "TELEMETRY_USAGE", granularity=MINUTE, duration=ZERO)
    create = await poll_create_report(vtn, ven)
    (q,) = create.report_requests
    assert q.report_specifier_id == ven.spec("TELEMETRY_USAGE")
    assert {p.r_id for p in q.payloads} == {ven.rid("TELEMETRY_USAGE", "energy"), ven.rid("TELEMETRY_USAGE", "power")}
    assert (q.granularity, q.report_back) == (MINUTE, ZERO)
    await created_report(vtn, ven, create)
    await update_report(vtn, ven, update(ven, usage_report(ven, q, [(500, 400)], now_s(vtn), MINUTE)))
    assert sorted(p["value"] for p in await points(vtn, ven)) == [400, 500]


async def test_R1_3160_TH_VEN(vtn):
    """R1_3160 (VEN Reporting - Telemetry Usage, Periodic). Certification (Prompt_046): TELEMETRY_USAGE for
    the powerReal rID only, granularity 1 minute, reportBackDuration 2 minutes, starting in 15 seconds for
    10 minutes; the harness checks specifier, the single power rID, PT2M and PT1M; it answers
    oadrCreatedReport, and after 1 and after 2 more minutes sends a report of two 1-minute samples
    (oadrUpdatedReport expected each time). Ours: that request; both reports (the second one two minutes
    later, without waiting) are accepted and all four samples stored."""
    ven = await harness_ven(vtn)
    start = now_s(vtn) + timedelta(seconds=15)
    power = ven.rid("TELEMETRY_USAGE", "power")
    await operator_requests(
        vtn, ven, "TELEMETRY_USAGE", granularity=MINUTE, report_back=2 * MINUTE, start=start, duration=10 * MINUTE, r_ids=(power,)
    )
    create = await poll_create_report(vtn, ven)
    (q,) = create.report_requests
    assert q.report_specifier_id == ven.spec("TELEMETRY_USAGE") and [p.r_id for p in q.payloads] == [power]
    assert (q.granularity, q.report_back, q.interval_start, q.interval_duration) == (MINUTE, 2 * MINUTE, start, 10 * MINUTE)
    await created_report(vtn, ven, create)
    for period in range(2):
        samples = usage_report(ven, q, [(400,), (410,)], start + period * 2 * MINUTE, MINUTE)
        samples = replace(samples, intervals=tuple(replace(i, duration=None) for i in samples.intervals))
        await update_report(vtn, ven, update(ven, samples))
    assert [p["value"] for p in await points(vtn, ven)] == [400, 410, 400, 410]


async def test_R1_3170_TH_VEN(vtn):
    """R1_3170 (VEN Reporting - Metadata Report Request). Certification: a placeholder for self test — on a
    real device the harness skips it (Prompt_036). Self-test flow: the VTN sends a report request (polled,
    acknowledged, reported); then a METADATA request (the harness expects reportSpecifierID METADATA,
    granularity PT0M and — its own VTN's setting — reportBackDuration PT1M); the VEN acknowledges it listing
    both requests as pending and re-registers its metadata (oadrRegisteredReport expected); the VTN then
    cancels the first request; the VEN polls oadrCancelReport and answers oadrCanceledReport 452 (the
    request belongs to the replaced metadata), oadrResponse expected. Mirrored anyway: the same flow with
    the operator making both requests and the cancellation; our METADATA request has reportBackDuration 0
    (a one-shot ask to re-register), the rest as in the self test."""
    ven = await harness_ven(vtn)
    first = await operator_requests(vtn, ven, "TELEMETRY_STATUS")
    create_1 = await poll_create_report(vtn, ven)
    await created_report(vtn, ven, create_1)
    await update_report(vtn, ven, update(ven, *status_reports(ven, create_1.report_requests[0], now_s(vtn))))

    await operator_requests(vtn, ven, "METADATA")
    create_2 = await poll_create_report(vtn, ven)
    (q,) = create_2.report_requests
    assert q.report_specifier_id == "METADATA" and q.granularity == ZERO
    await created_report(vtn, ven, create_2, pending=(first.report_request_id,))
    await register_metadata(vtn, ven, "req-metadata-3170")

    await operator_cancels(vtn, first)
    cancel = await poll_cancel_report(vtn, ven)
    assert cancel.report_request_ids == (first.report_request_id,)
    await canceled_report(vtn, ven, cancel, pending=(first.report_request_id,), code=ResponseCode.INVALID_ID)


async def test_R1_3180_TH_VEN(vtn):
    """R1_3180 (VEN Reporting - Same Payload, Multiple Requests and Updates). Certification (Prompt_058):
    two one-shot requests — TELEMETRY_STATUS (granularity and reportBackDuration PT0M) and TELEMETRY_USAGE
    (granularity = minimum sampling rate, reportBackDuration PT0M, powerReal and energyReal) — either in
    one oadrCreateReport or in two; the VEN acknowledges them and sends ONE oadrUpdateReport carrying both
    reports (status, and one 1-minute interval of both usage values); oadrUpdatedReport expected. Ours: two
    oadrCreateReports (one request each), both acknowledged; the combined update gets 200 and all three
    values are stored. (The harness's own update reuses a template rID, "123", for the status report; our
    VTN would refuse that rID with 452 since the VEN never registered it — here the registered rID is used.)"""
    ven = await harness_ven(vtn)
    status = await operator_requests(vtn, ven, "TELEMETRY_STATUS")
    usage = await operator_requests(vtn, ven, "TELEMETRY_USAGE", granularity=MINUTE, duration=ZERO)
    creates = [await poll_create_report(vtn, ven), await poll_create_report(vtn, ven)]
    requests = [q for c in creates for q in c.report_requests]
    assert [q.report_request_id for q in requests] == [status.report_request_id, usage.report_request_id]
    assert [len(c.report_requests) for c in creates] == [1, 1]
    for create in creates:
        await created_report(vtn, ven, create)

    q_status, q_usage = requests
    start = now_s(vtn)
    (status_data,) = status_reports(ven, q_status, start)
    await update_report(vtn, ven, update(ven, status_data, usage_report(ven, q_usage, [(500, 400)], start, MINUTE)))
    stored = await points(vtn, ven)
    assert sorted(p["report_request_id"] for p in stored) == sorted([status.report_request_id] + [usage.report_request_id] * 2)
    assert_ok_response(await vtn.client.poll(ven.ven_id), ven.ven_id)


async def test_R1_3190_TH_VEN(vtn):
    """R1_3190 (VEN Reporting - Negative Test Scenarios), real-device branch (Prompt_050 yes). Certification
    (many harness rules relaxed): a one-shot TELEMETRY_STATUS request (Prompt_019) is polled and
    acknowledged; the VEN then reports with reportRequestID INVALID_REPORT_REQUEST_ID and must get
    oadrUpdatedReport with 452. Ours: 452, and nothing of that message is stored."""
    ven = await harness_ven(vtn)
    await operator_requests(vtn, ven, "TELEMETRY_STATUS")
    create = await poll_create_report(vtn, ven)
    await created_report(vtn, ven, create)
    (report,) = status_reports(ven, create.report_requests[0], now_s(vtn))
    bad = update(ven, replace(report, report_request_id="INVALID_REPORT_REQUEST_ID"))
    await update_report(vtn, ven, bad, code=ResponseCode.INVALID_ID)
    assert await points(vtn, ven) == []


async def test_R1_3190_TH_VEN_refused_requests(vtn):
    """R1_3190, self-test branch (Prompt_050 no; the harness's VEN side of a VTN-vs-VEN self test): the VEN
    polls two oadrCreateReports and refuses each with oadrCreatedReport 452; the VTN must answer
    oadrResponse. Ours: both refusals get oadrResponse 200 and neither request is marked acknowledged."""
    ven = await harness_ven(vtn)
    requests = [
        await operator_requests(vtn, ven, "TELEMETRY_STATUS"),
        await operator_requests(vtn, ven, "TELEMETRY_USAGE", granularity=MINUTE, duration=ZERO),
    ]
    for _ in requests:
        create = await poll_create_report(vtn, ven)
        await created_report(vtn, ven, create, code=ResponseCode.INVALID_ID)
    for request in requests:
        assert await state_of(vtn, ven, request.report_request_id) != "acknowledged"
