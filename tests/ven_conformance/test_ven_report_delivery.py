"""When our VEN's reports go out (review issue 22; not certification cases): a one-shot request whose data is
not complete yet waits for it, never forgotten (finding 15); a VTN that answers a report with an HTTP error is
not hammered: the VEN backs off exponentially, with jitter, capped, and starts afresh once one is taken (16)."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.ven_conformance import create_report, report_request
from tests.ven_conformance.scripted_vtn import Raw, Th

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
    assert datetime.now(UTC) >= window_end
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


USAGE = "site-1:TELEMETRY_USAGE"
REFUSED = Raw(b"Internal Server Error", 500, "text/plain")


def _one_shot_usage():  # noqa: ANN202 - r.ReportRequest
    return report_request(USAGE, ("site-power",), granularity=1)


def _gaps(th: Th, after: int = 0) -> list[float]:
    """Seconds between the VEN's successive oadrUpdateReport attempts."""
    times = [x.at for x in th.vtn.received("oadrUpdateReport", after)]
    return [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]


@pytest.mark.slow  # six refusals in real time: about 6 s of back-off
async def test_a_refused_report_is_retried_with_exponential_back_off(th: Th):
    """Polls at 0.1 s, max_backoff 2 s: the retries of a report the VTN answers HTTP 500 come after 0.1–0.2 s,
    0.2–0.4, 0.4–0.8, 0.8–1.6, then 1–2 s (capped), not at every poll; once the VTN takes one, the next refusal
    starts from the shortest wait again."""
    await th.start_ven(max_backoff=timedelta(seconds=2))
    th.vtn.answer_next("oadrUpdateReport", *[REFUSED] * 6)
    await th.deliver(create_report(th.vtn.ven_id, _one_shot_usage()))
    await th.wait(lambda: len(th.vtn.received("oadrUpdateReport")) >= 7, "the report to get through", timeout=15)
    gaps = _gaps(th)[:6]
    assert gaps[3] >= 0.8 and gaps[4] >= 1.0, f"retried too soon: {gaps}"
    assert all(later >= earlier - 0.05 for earlier, later in zip(gaps, gaps[1:4], strict=False)), gaps  # doubling
    assert max(gaps) <= 2.0 + 0.5, f"the cap was not kept: {gaps}"  # 2 s, and the cycle that notices it is over

    mark = th.vtn.mark()
    th.vtn.answer_next("oadrUpdateReport", REFUSED)
    await th.deliver(create_report(th.vtn.ven_id, _one_shot_usage()))
    await th.wait(lambda: len(th.vtn.received("oadrUpdateReport", mark)) >= 2, "the second report to get through")
    (gap,) = _gaps(th, mark)[:1]
    assert gap < 0.8, f"the back-off was not reset by the report taken: {gap:.2f} s"
