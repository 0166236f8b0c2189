"""The VEN's report profile (`[reports] profile`): what it offers and how it shapes what it sends."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mapping.oadr import report_model as r
from mapping.oadr.report_profile import ReportProfile, offered_reports, shaped_report
from mapping.settings import ConfigError
from tests.support.ven_toml import load_ven_toml

T0 = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
ONLINE = r.ResourceStatus(online=True, manual_override=False)


def _report() -> r.ReportData:
    interval = r.ReportInterval(
        payloads=(
            r.ReportPayload("site-power", 1.5),
            r.ReportPayload("asset-power", 0.0),
            r.ReportPayload("status", status=ONLINE),
        ),
        dtstart=T0,
        duration=timedelta(seconds=1),
        uid="0",
    )
    return r.ReportData("rr-1", "site:TELEMETRY_USAGE", "TELEMETRY_USAGE", T0, (interval,), T0, timedelta(seconds=1))


def test_the_openleadr_profile_sends_one_float_payload_per_interval():
    shaped = shaped_report(_report(), ReportProfile.OPENLEADR)
    assert [(i.dtstart, i.uid, [p.r_id for p in i.payloads]) for i in shaped.intervals] == [
        (T0, "0", ["site-power"]),
        (T0, "1", ["asset-power"]),
    ]


def test_the_standard_profile_sends_the_report_as_made():
    assert shaped_report(_report(), ReportProfile.STANDARD) == _report()


def test_the_openleadr_profile_offers_no_resource_status():
    status = r.ReportDescription("status", "x-resourceStatus", "x-notApplicable")
    power = r.ReportDescription("site-power", "usage", "Direct Read")
    reports = (
        r.ReportMetadata("s:STATUS", "METADATA_TELEMETRY_STATUS", T0, (status,)),
        r.ReportMetadata("s:USAGE", "METADATA_TELEMETRY_USAGE", T0, (power,)),
    )
    assert [m.report_specifier_id for m in offered_reports(reports, ReportProfile.OPENLEADR)] == ["s:USAGE"]
    assert offered_reports(reports, ReportProfile.STANDARD) == reports


def _load(tmp_path: Path, reports: str):  # noqa: ANN202
    return load_ven_toml(tmp_path, f'[vtn]\nvtn_id = "CARIFLEX-VTN"\n[reports]\n{reports}')


def test_the_profile_is_read_from_ven_toml(tmp_path: Path):
    assert _load(tmp_path, "").report_profile is ReportProfile.STANDARD
    assert _load(tmp_path, 'profile = "openleadr"\n').report_profile is ReportProfile.OPENLEADR


def test_an_unknown_profile_is_refused_naming_the_key(tmp_path: Path):
    with pytest.raises(ConfigError, match=re.escape("reports.profile: expected one of standard, openleadr")):
        _load(tmp_path, 'profile = "epri"\n')
