"""Typed 2.0b report and opt messages (EiReport, EiOpt)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mapping.oadr.model import EiResponse, ItemUnit, Target


@dataclass(frozen=True)
class SamplingRate:
    """oadrSamplingRate of a report description."""

    min_period: timedelta
    max_period: timedelta
    on_change: bool = False


@dataclass(frozen=True)
class ReportDescription:
    """One data point a VEN (or VTN) can report: oadrReportDescription."""

    r_id: str
    report_type: str
    reading_type: str
    unit: ItemUnit | None = None
    sampling: SamplingRate | None = None
    market_context: str | None = None
    data_source: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportMetadata:
    """An oadrReport inside oadrRegisterReport: what one report specifier offers."""

    report_specifier_id: str
    report_name: str
    created: datetime
    descriptions: tuple[ReportDescription, ...] = ()
    duration: timedelta | None = None
    report_request_id: str = "0"


@dataclass(frozen=True)
class SpecifierPayload:
    """ei:specifierPayload: one rID asked for."""

    r_id: str
    reading_type: str = "x-notApplicable"
    unit: ItemUnit | None = None


@dataclass(frozen=True)
class ReportRequest:
    """oadrReportRequest: which rIDs, how often (granularity), how often sent (reportBackDuration), when."""

    report_request_id: str
    report_specifier_id: str
    granularity: timedelta
    report_back: timedelta
    payloads: tuple[SpecifierPayload, ...] = ()
    interval_start: datetime | None = None
    interval_duration: timedelta | None = None

    @property
    def interval_end(self) -> datetime | None:
        """The end of its reportInterval: None without one, or for a duration of 0 (open: up to now)."""
        if self.interval_start is None or not self.interval_duration or self.interval_duration <= timedelta(0):
            return None
        return self.interval_start + self.interval_duration


@dataclass(frozen=True)
class ResourceStatus:
    """oadrPayloadResourceStatus: online, manual override and load-control state (name → {current, min…})."""

    online: bool
    manual_override: bool
    load_control: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportPayload:
    """oadrReportPayload: a float value or a resource status, for one rID."""

    r_id: str
    value: float | None = None
    status: ResourceStatus | None = None
    confidence: int | None = None
    accuracy: float | None = None
    data_quality: str | None = None


@dataclass(frozen=True)
class ReportInterval:
    """One interval of reported data; dtstart may be absent (derived from the report's dtstart)."""

    payloads: tuple[ReportPayload, ...]
    dtstart: datetime | None = None
    duration: timedelta | None = None
    uid: str | None = None


@dataclass(frozen=True)
class ReportData:
    """An oadrReport inside oadrUpdateReport."""

    report_request_id: str
    report_specifier_id: str
    report_name: str | None
    created: datetime
    intervals: tuple[ReportInterval, ...] = ()
    dtstart: datetime | None = None
    duration: timedelta | None = None
    report_id: str | None = None


@dataclass(frozen=True)
class RegisterReport:
    """oadrRegisterReport."""

    request_id: str
    reports: tuple[ReportMetadata, ...] = ()
    ven_id: str | None = None
    report_request_id: str | None = None


@dataclass(frozen=True)
class RegisteredReport:
    """oadrRegisteredReport, possibly carrying report requests (piggy-backed oadrCreateReport)."""

    response: EiResponse
    ven_id: str
    report_requests: tuple[ReportRequest, ...] = ()


@dataclass(frozen=True)
class CreateReport:
    """oadrCreateReport."""

    request_id: str
    report_requests: tuple[ReportRequest, ...]
    ven_id: str | None = None


@dataclass(frozen=True)
class CancelReport:
    """oadrCancelReport."""

    request_id: str
    report_request_ids: tuple[str, ...]
    report_to_follow: bool
    ven_id: str | None = None


@dataclass(frozen=True)
class UpdateReport:
    """oadrUpdateReport."""

    request_id: str
    reports: tuple[ReportData, ...] = ()
    ven_id: str | None = None


@dataclass(frozen=True)
class UpdatedReport:
    """oadrUpdatedReport, possibly with a piggy-backed oadrCancelReport."""

    response: EiResponse
    ven_id: str
    cancel: CancelReport | None = None


@dataclass(frozen=True)
class CreateOpt:
    """oadrCreateOpt: an availability schedule (windows) or an opt on one event."""

    opt_id: str
    opt_type: str
    opt_reason: str
    ven_id: str
    created: datetime
    request_id: str
    market_context: str | None = None
    windows: tuple[tuple[datetime, timedelta], ...] = ()
    event_id: str | None = None
    modification_number: int | None = None
    target: Target = field(default_factory=Target)


@dataclass(frozen=True)
class CancelOpt:
    """oadrCancelOpt."""

    request_id: str
    opt_id: str
    ven_id: str


ReportMessage = (
    RegisterReport | RegisteredReport | CreateReport | CancelReport | UpdateReport | UpdatedReport | CreateOpt | CancelOpt
)
