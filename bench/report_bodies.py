"""EiReport bodies for the report benchmark, built with our codec (mapping.oadr).

A benchmark VEN offers METADATA_TELEMETRY_USAGE with three power rIDs; after
the VTN requested it, the VEN sends oadrUpdateReport messages, each carrying
one interval (a distinct dtstart, one minute after the VEN's previous one) with
one payload per rID. Bodies are single-line strings (one per line in the files
the load generators rotate through).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from mapping.oadr.encode import encode
from mapping.oadr.timefmt import format_datetime
from mapping.oadr.vocabulary import power_kw

USAGE_RIDS = ("site-power", "pv-power", "battery-power")
SPECIFIER = "bench-usage"
STEP = timedelta(minutes=1)
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
#: dtstart of a VEN's first update; update k of a VEN starts k minutes later
BASE = datetime(2026, 1, 1, tzinfo=UTC)
_SENTINEL_TIME = datetime(1999, 9, 9, 9, 9, 9, tzinfo=UTC)
_SENTINEL_REQUEST = "upd-SENTINEL"
SHAPES = {"1x3": "1 interval x 3 payloads", "3x1": "3 intervals x 1 payload (same dtstart)"}


@dataclass(frozen=True)
class Subscription:
    """A VEN and the TELEMETRY_USAGE request the VTN made to it."""

    ven_id: str
    report_request_id: str
    report_specifier_id: str


def _single_line(body: bytes) -> str:
    """Our codec puts a newline after the XML declaration; the body files need one line per body."""
    return body.decode().replace("\n", "")


def usage_metadata() -> r.ReportMetadata:
    """METADATA_TELEMETRY_USAGE: three power:powerReal rIDs, sampling PT1M..PT15M."""
    sampling = r.SamplingRate(timedelta(minutes=1), timedelta(minutes=15))
    descriptions = tuple(
        r.ReportDescription(r_id=rid, report_type="usage", reading_type="Direct Read", unit=power_kw(), sampling=sampling)
        for rid in USAGE_RIDS
    )
    return r.ReportMetadata(
        report_specifier_id=SPECIFIER,
        report_name="METADATA_TELEMETRY_USAGE",
        created=CREATED,
        duration=timedelta(hours=1),
        descriptions=descriptions,
    )


def register_report(ven_id: str) -> str:
    """oadrRegisterReport (EiReport) with the VEN's usage metadata."""
    return _single_line(encode(r.RegisterReport(request_id=f"rr-{ven_id}", reports=(usage_metadata(),), ven_id=ven_id)))


def created_report(ven_id: str, report_request_id: str) -> str:
    """oadrCreatedReport acknowledging the request piggy-backed on oadrRegisteredReport."""
    ack = m.Acknowledgement(
        "oadrCreatedReport", m.EiResponse(request_id=f"rr-{ven_id}"), ven_id=ven_id, pending_reports=(report_request_id,)
    )
    return _single_line(encode(ack))


def parse_registered_report(body: bytes) -> tuple[str, str]:
    """(reportRequestID, reportSpecifierID) of the request for our specifier in an oadrRegisteredReport.

    Raises ValueError if the answer is not an accepted oadrRegisteredReport requesting it.
    """
    root = etree.fromstring(body)
    signed = root.find("{*}oadrSignedObject")
    kind = None if signed is None or len(signed) == 0 else etree.QName(signed[0]).localname
    if kind != "oadrRegisteredReport":
        raise ValueError(f"expected oadrRegisteredReport, got {kind}: {body[:300]!r}")
    code = root.findtext(".//{*}eiResponse/{*}responseCode")
    if code is None or code.strip() != "200":
        raise ValueError(f"oadrRegisterReport refused with responseCode {code}: {body[:500]!r}")
    for request in root.iter("{*}oadrReportRequest"):
        request_id = request.findtext("{*}reportRequestID")
        specifier = request.findtext("{*}reportSpecifier/{*}reportSpecifierID")
        if request_id and specifier and specifier.strip() == SPECIFIER:
            return request_id.strip(), specifier.strip()
    raise ValueError(f"oadrRegisteredReport requests no {SPECIFIER} report: {body[:800]!r}")


def _template(sub: Subscription, values: tuple[float, ...], shape: str) -> str:
    """An update with sentinel dtstart/requestID, to be filled in by ``str.replace``."""
    payloads = tuple(r.ReportPayload(r_id=rid, value=v) for rid, v in zip(USAGE_RIDS, values, strict=True))
    if shape == "1x3":
        groups = (payloads,)
    elif shape == "3x1":
        groups = tuple((p,) for p in payloads)
    else:
        raise ValueError(f"unknown shape {shape!r}; choose from {sorted(SHAPES)}")
    intervals = tuple(
        r.ReportInterval(payloads=group, dtstart=_SENTINEL_TIME, duration=STEP, uid=str(i)) for i, group in enumerate(groups)
    )
    report = r.ReportData(
        report_request_id=sub.report_request_id,
        report_specifier_id=sub.report_specifier_id,
        report_name="TELEMETRY_USAGE",
        created=CREATED,
        intervals=intervals,
        duration=STEP,
    )
    return _single_line(encode(r.UpdateReport(request_id=_SENTINEL_REQUEST, reports=(report,), ven_id=sub.ven_id)))


def update_bodies(subs: list[Subscription], first_step: int, count: int, shape: str = "1x3") -> tuple[list[str], int]:
    """``count`` oadrUpdateReport bodies cycling through the VENs.

    Body ``i`` belongs to VEN ``i % len(subs)`` and starts ``first_step + i // len(subs)``
    minutes after BASE, so no two bodies carry the same (VEN, dtstart). Returns the
    bodies and the first step still unused (for the next phase).
    """
    templates = [_template(s, (1.0 + i % 7, -0.5 * (i % 5), 0.25 * (i % 3)), shape) for i, s in enumerate(subs)]
    time_text = format_datetime(_SENTINEL_TIME)
    steps = (count + len(subs) - 1) // len(subs)
    times = [format_datetime(BASE + (first_step + k) * STEP) for k in range(steps)]
    bodies = []
    for i in range(count):
        k, v = divmod(i, len(subs))
        body = templates[v].replace(time_text, times[k]).replace(_SENTINEL_REQUEST, f"upd-{first_step + k}")
        bodies.append(body)
    return bodies, first_step + steps


def check_against_schema() -> None:
    """Validate one body of each kind (both shapes) against openleadr's bundled 2.0b XSD."""
    from openleadr.messaging import validate_xml_schema

    sub = Subscription("ven-0", "rr-0", SPECIFIER)
    samples = [register_report("ven-0"), created_report("ven-0", "rr-0")]
    samples += [update_bodies([sub], 0, 1, shape)[0][0] for shape in SHAPES]
    for sample in samples:
        validate_xml_schema(sample.encode())


def big_register_report(ven_id: str, rids: int = 2500) -> bytes:
    """oadrRegisterReport (EiReport) with one METADATA_TELEMETRY_USAGE report of `rids` rIDs: about 1.9 MB at
    2,500 rIDs, the body of issue 22's finding 2 (big valid bodies stalling the loop)."""
    sampling = r.SamplingRate(timedelta(minutes=1), timedelta(minutes=15))
    descriptions = tuple(
        r.ReportDescription(
            r_id=f"site-{i:05d}/feeder-north/transformer-03/main-meter/power-real/phase-total/net-import-export-kw-{i:05d}",
            report_type="usage",
            reading_type="Direct Read",
            unit=power_kw(),
            sampling=sampling,
        )
        for i in range(rids)
    )
    metadata = r.ReportMetadata(
        report_specifier_id=f"{SPECIFIER}-big",
        report_name="METADATA_TELEMETRY_USAGE",
        created=CREATED,
        duration=timedelta(hours=1),
        descriptions=descriptions,
    )
    return encode(r.RegisterReport(request_id=f"rr-big-{ven_id}", reports=(metadata,), ven_id=ven_id))
