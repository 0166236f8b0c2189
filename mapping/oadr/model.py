"""Typed 2.0b wire models: what a message says, independent of how it is stored."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from mapping.oadr.codes import ResponseCode


class EventStatus(StrEnum):
    """ei:eventStatus. A member equals its wire text (`EventStatus.CANCELLED == "cancelled"`), so decoded
    messages and stored rows, which hold the text, compare equal to it."""

    NONE = "none"
    FAR = "far"
    NEAR = "near"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class OptType(StrEnum):
    """ei:optType of an eventResponse or an oadrCreateOpt; equal to its wire text."""

    OPT_IN = "optIn"
    OPT_OUT = "optOut"


@dataclass(frozen=True)
class EiResponse:
    """eiResponse: the answer code to a request, echoing its requestID."""

    code: int = ResponseCode.OK
    description: str = "OK"
    request_id: str = ""


@dataclass(frozen=True)
class Target:
    """eiTarget: who an event (or signal) is for. All empty means every VEN."""

    ven_ids: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()
    resource_ids: tuple[str, ...] = ()
    party_ids: tuple[str, ...] = ()
    end_device_assets: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        """True when the target names nobody, i.e. addresses every VEN."""
        return not (self.ven_ids or self.group_ids or self.resource_ids or self.party_ids)


@dataclass(frozen=True)
class PowerAttributes:
    """power:powerAttributes of a power item."""

    hertz: float = 50.0
    voltage: float = 230.0
    ac: bool = True


@dataclass(frozen=True)
class ItemUnit:
    """An emix itemBase: `kind` is its element name (powerReal, currencyPerKWh, customUnit…)."""

    kind: str
    description: str
    units: str
    scale: str = "none"
    power: PowerAttributes | None = None


@dataclass(frozen=True)
class Interval:
    """One interval of a signal; `dtstart` is only set when the sender gave one."""

    duration: timedelta
    value: float
    uid: int
    dtstart: datetime | None = None


@dataclass(frozen=True)
class Signal:
    """eiEventSignal."""

    name: str
    type: str
    signal_id: str
    intervals: tuple[Interval, ...]
    unit: ItemUnit | None = None
    target: Target | None = None
    current_value: float = 0.0


@dataclass(frozen=True)
class Event:
    """oadrEvent: an eiEvent with its oadrResponseRequired."""

    event_id: str
    modification_number: int
    market_context: str
    created: datetime
    status: str
    dtstart: datetime
    duration: timedelta
    signals: tuple[Signal, ...]
    target: Target = field(default_factory=Target)
    priority: int | None = None
    modification_datetime: datetime | None = None
    modification_reason: str | None = None
    test_event: str = "false"
    vtn_comment: str | None = None
    start_after: timedelta | None = None
    notification: timedelta | None = None
    ramp_up: timedelta | None = None
    recovery: timedelta | None = None
    response_required: str = "always"
    baseline: Signal | None = None


# --- messages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryRegistration:
    """oadrQueryRegistration."""

    request_id: str


@dataclass(frozen=True)
class CreatePartyRegistration:
    """oadrCreatePartyRegistration."""

    request_id: str
    profile_name: str
    transport_name: str
    report_only: bool
    xml_signature: bool
    registration_id: str | None = None
    ven_id: str | None = None
    transport_address: str | None = None
    ven_name: str | None = None
    http_pull_model: bool | None = None


@dataclass(frozen=True)
class CreatedPartyRegistration:
    """oadrCreatedPartyRegistration."""

    response: EiResponse
    vtn_id: str
    registration_id: str | None = None
    ven_id: str | None = None
    poll_freq: timedelta | None = None
    profiles: tuple[tuple[str, tuple[str, ...]], ...] = (("2.0b", ("simpleHttp",)),)


@dataclass(frozen=True)
class CancelPartyRegistration:
    """oadrCancelPartyRegistration."""

    request_id: str
    registration_id: str
    ven_id: str | None = None


@dataclass(frozen=True)
class CanceledPartyRegistration:
    """oadrCanceledPartyRegistration."""

    response: EiResponse
    registration_id: str | None = None
    ven_id: str | None = None


@dataclass(frozen=True)
class RequestReregistration:
    """oadrRequestReregistration."""

    ven_id: str


@dataclass(frozen=True)
class RequestEvent:
    """oadrRequestEvent."""

    request_id: str
    ven_id: str
    reply_limit: int | None = None


@dataclass(frozen=True)
class DistributeEvent:
    """oadrDistributeEvent."""

    request_id: str
    vtn_id: str
    events: tuple[Event, ...]
    response: EiResponse | None = None


@dataclass(frozen=True)
class EventResponse:
    """One eventResponse inside oadrCreatedEvent."""

    code: int
    description: str
    request_id: str
    event_id: str
    modification_number: int
    opt_type: str


@dataclass(frozen=True)
class CreatedEvent:
    """oadrCreatedEvent."""

    response: EiResponse
    ven_id: str
    event_responses: tuple[EventResponse, ...] = ()


@dataclass(frozen=True)
class Poll:
    """oadrPoll."""

    ven_id: str


@dataclass(frozen=True)
class Response:
    """oadrResponse."""

    response: EiResponse
    ven_id: str | None = None


@dataclass(frozen=True)
class Acknowledgement:
    """A reply that carries only an eiResponse plus ids: oadrCreatedReport, oadrCanceledOpt…

    `name` is the message element (one of ACKNOWLEDGEMENTS); `opt_id` is used by the opt replies.
    """

    name: str
    response: EiResponse
    ven_id: str = ""
    opt_id: str = ""
    pending_reports: tuple[str, ...] = ()


ACKNOWLEDGEMENTS = (
    "oadrCreatedReport",
    "oadrCanceledReport",
    "oadrCreatedOpt",
    "oadrCanceledOpt",
)


@dataclass(frozen=True)
class Unhandled:
    """A schema-valid message this codec does not decode: its name and ids, so it can be refused properly."""

    name: str
    ven_id: str | None
    request_id: str | None


Message = (
    QueryRegistration
    | CreatePartyRegistration
    | CreatedPartyRegistration
    | CancelPartyRegistration
    | CanceledPartyRegistration
    | RequestReregistration
    | RequestEvent
    | DistributeEvent
    | CreatedEvent
    | Poll
    | Response
    | Acknowledgement
    | Unhandled
)
