"""When our VEN's reports go out (review issue 22; not certification cases): a one-shot request whose data is
not complete yet waits for it, never forgotten (finding 15)."""

from datetime import timedelta

from tests.ven_conformance import create_report, report_request, utc_now
from tests.ven_conformance.scripted_vtn import Th

CURTAILMENT = "site-1:x-ACHIEVED_CURTAILMENT"
R_IDS = ("curtailment-baseline", "curtailment-measured", "curtailment-achieved")
QUARTER = 900.0


def _curtailment_ending_in(seconds: float):  # noqa: ANN202 - r.ReportRequest
    """The VTN's one-shot x-ACHIEVED_CURTAILMENT request right after an event that ended early: granularity PT15M,
    reportBackDuration 0, over a quarter hour that is over in `seconds` (the VTN asks for whole quarter hours)."""
    return report_request(CURTAILMENT, R_IDS, granularity=QUARTER, start_in=seconds - QUARTER, duration=QUARTER)


async def test_a_one_shot_request_waits_for_the_end_of_its_report_interval(th: Th):
    await th.start_ven()
    rq = _curtailment_ending_in(3)
    window_end = rq.interval_start + rq.interval_duration
    mark = await th.deliver(create_report(th.vtn.ven_id, rq))
    assert th.vtn.messages("oadrCreatedReport", mark)
    assert not th.vtn.updates_for(rq.report_request_id), "sent before its quarter hour was over"
    assert rq.report_request_id in th.pending_report_requests()  # held, not forgotten
    await th.wait(lambda: th.vtn.updates_for(rq.report_request_id), "the achieved curtailment", timeout=8)
    (data,) = th.vtn.updates_for(rq.report_request_id)
    assert utc_now() >= window_end - timedelta(milliseconds=1)
    assert data.intervals and data.intervals[0].dtstart >= rq.interval_start - timedelta(minutes=15)
    assert {p.r_id for i in data.intervals for p in i.payloads} == set(R_IDS)
    assert rq.report_request_id not in th.pending_report_requests()


async def test_a_waiting_one_shot_request_survives_a_restart(th: Th):
    await th.start_ven()
    rq = _curtailment_ending_in(4)
    await th.deliver(create_report(th.vtn.ven_id, rq))
    await th.stop_ven()
    await th.start_ven()
    await th.wait(lambda: th.vtn.updates_for(rq.report_request_id), "the achieved curtailment after a restart", timeout=8)
