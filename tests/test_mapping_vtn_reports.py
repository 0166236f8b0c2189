"""The VTN's METADATA report schedule (mapping/oadr/vtn_reports.py): what is offered, when each one is due,
when a periodic request is over."""

from datetime import UTC, datetime, timedelta

import pytest

from mapping.oadr import report_model as r
from mapping.oadr.codes import OadrError, ResponseCode
from mapping.oadr.vtn_reports import following, is_due, is_expired, is_periodic, plan

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def request(specifier: str = "METADATA", report_back: timedelta = timedelta(0), start: datetime = NOW, duration=timedelta(0)):
    return r.ReportRequest("rr-1", specifier, timedelta(0), report_back, (r.SpecifierPayload("0"),), start, duration)


def test_only_metadata_is_offered():
    with pytest.raises(OadrError) as refused:
        plan(request("TELEMETRY_USAGE"), NOW)
    assert refused.value.code == ResponseCode.INVALID_ID and "METADATA" in str(refused.value)


def test_one_shot_goes_once():
    payload = plan(request(), NOW)
    assert payload == {"report_request_id": "rr-1"} and not is_periodic(payload) and is_due(payload, NOW)
    assert following(payload, NOW) is None


def test_periodic_every_report_back_until_the_interval_ends():
    payload = plan(request(report_back=MINUTE, duration=5 * MINUTE), NOW)
    assert is_periodic(payload) and payload["until"] == (NOW + 5 * MINUTE).isoformat()
    sent = [NOW]
    while (payload := following(payload, sent[-1])) is not None:
        due = datetime.fromisoformat(payload["not_before"])
        assert not is_due(payload, due - timedelta(seconds=1)) and is_due(payload, due)
        sent.append(due)
    assert sent == [NOW + i * MINUTE for i in range(5)]  # 12:00 … 12:04; 12:05 is the end


def test_open_ended_periodic_never_ends_by_itself_and_a_late_one_is_dropped():
    open_ended = plan(request(report_back=MINUTE), NOW)
    assert "until" not in open_ended and following(open_ended, NOW + timedelta(days=30)) is not None
    bounded = following(plan(request(report_back=MINUTE, duration=2 * MINUTE), NOW), NOW)
    assert bounded is not None and not is_expired(bounded, NOW + MINUTE) and is_expired(bounded, NOW + 2 * MINUTE)


def test_a_request_starting_later_waits_and_a_tiny_period_is_raised_to_a_second():
    payload = plan(request(report_back=timedelta(milliseconds=10), start=NOW + MINUTE, duration=MINUTE), NOW)
    assert not is_due(payload, NOW) and is_due(payload, NOW + MINUTE)
    assert payload["every_s"] == 1.0
