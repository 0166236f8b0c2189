"""S2 messages in and out: what an RM sends, checked and parsed with s2-python's models (or the ReceptionStatus it
gets instead), its descriptions as mapping/s2.py's records, and the CEM's instructions built from a plan's steps."""

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError
from s2python.common import (
    CommodityQuantity,
    Duration,
    ReceptionStatus,
    ReceptionStatusValues,
    RevokableObjects,
    RevokeObject,
)
from s2python.frbc import (
    FRBCFillLevelTargetProfile,
    FRBCInstruction,
    FRBCLeakageBehaviour,
    FRBCSystemDescription,
    FRBCUsageForecast,
)
from s2python.message import S2Message
from s2python.pebc import (
    PEBCInstruction,
    PEBCPowerConstraints,
    PEBCPowerEnvelope,
    PEBCPowerEnvelopeElement,
    PEBCPowerEnvelopeLimitType,
)
from s2python.s2_parser import TYPE_TO_MESSAGE_CLASS
from s2python.s2_validation_error import S2ValidationError

from mapping.grid import QUARTER
from mapping.s2 import FrbcDevice, OperationMode, PebcDevice, Step

#: the subject of a ReceptionStatus about a message whose own id could not be read (S2's convention)
NIL = uuid.UUID(int=0)
#: what an RM may send a CEM; anything else of S2's is answered INVALID_CONTENT
FROM_RM = frozenset(
    {
        "Handshake",
        "ResourceManagerDetails",
        "ReceptionStatus",
        "InstructionStatusUpdate",
        "PowerMeasurement",
        "PowerForecast",
        "SessionRequest",
        "RevokeObject",
        "FRBC.SystemDescription",
        "FRBC.StorageStatus",
        "FRBC.ActuatorStatus",
        "FRBC.FillLevelTargetProfile",
        "FRBC.LeakageBehaviour",
        "FRBC.UsageForecast",
        "FRBC.TimerStatus",
        "PEBC.PowerConstraints",
        "PEBC.EnergyConstraint",
    }
)


@dataclass(frozen=True)
class Invalid:
    """A message the CEM does not take: the ReceptionStatus that answers it."""

    status: ReceptionStatusValues
    subject: uuid.UUID
    label: str


def reception(subject: uuid.UUID, status: ReceptionStatusValues = ReceptionStatusValues.OK, label: str = "") -> str:
    """A ReceptionStatus about the message `subject`, as JSON."""
    return ReceptionStatus(subject_message_id=subject, status=status, diagnostic_label=label or None).to_json()


def parse(raw: str | bytes, max_bytes: int) -> S2Message | Invalid:
    """One frame from an RM: its S2 message, or what to answer when it is oversized (INVALID_DATA), not a JSON
    object with a message id (INVALID_DATA), of an unknown type or one an RM does not send (INVALID_CONTENT), or
    not valid against S2's schema (INVALID_MESSAGE, S2's value for exactly that)."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode())
    if size > max_bytes:
        return Invalid(ReceptionStatusValues.INVALID_DATA, NIL, f"message of {size} bytes refused: at most {max_bytes}")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return Invalid(ReceptionStatusValues.INVALID_DATA, NIL, f"not JSON: {exc}")
    if not isinstance(body, dict):
        return Invalid(ReceptionStatusValues.INVALID_DATA, NIL, "not a JSON object")
    subject = _uuid(body.get("message_id"))
    kind = body.get("message_type")
    if not isinstance(kind, str):
        return Invalid(ReceptionStatusValues.INVALID_DATA, subject or NIL, "no message_type in the message")
    if kind not in TYPE_TO_MESSAGE_CLASS:
        return Invalid(ReceptionStatusValues.INVALID_CONTENT, subject or NIL, f"unknown message type {str(kind)[:64]!r}")
    if kind not in FROM_RM:
        return Invalid(ReceptionStatusValues.INVALID_CONTENT, subject or NIL, f"a CEM does not take {kind} from an RM")
    if subject is None and kind != "ReceptionStatus":
        return Invalid(ReceptionStatusValues.INVALID_DATA, NIL, "no message_id (a UUID) in the message")
    try:
        return TYPE_TO_MESSAGE_CLASS[kind].from_dict(body)
    except (S2ValidationError, ValidationError, TypeError, ValueError) as exc:
        cause = exc.__cause__ or exc
        return Invalid(ReceptionStatusValues.INVALID_MESSAGE, subject or NIL, f"{kind} not valid: {str(cause)[:300]}")


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def frbc_device(description: FRBCSystemDescription, previous: FrbcDevice | None) -> FrbcDevice:
    """An FRBC system description as mapping's record (its first actuator; power in kW: the sum of each element's
    phases, a mode reaching from its lowest to its highest element), keeping the fill level and targets known."""
    actuator = description.actuators[0]
    modes = []
    for mode in actuator.operation_modes:
        lows = [sum(r.start_of_range for r in e.power_ranges) / 1000 for e in mode.elements]
        highs = [sum(r.end_of_range for r in e.power_ranges) / 1000 for e in mode.elements]
        modes.append(OperationMode(str(mode.id), min(lows), max(highs), bool(mode.abnormal_condition_only)))
    storage = description.storage
    return FrbcDevice(
        actuator_id=str(actuator.id),
        modes=tuple(modes),
        fill_min=storage.fill_level_range.start_of_range,
        fill_max=storage.fill_level_range.end_of_range,
        fill_label=(storage.fill_level_label or "%").strip(),
        fill_level=previous.fill_level if previous else None,
        targets=previous.targets if previous else (),
        leakage=previous.leakage if previous else (),
        usage=previous.usage if previous else (),
    )


def targets(profile: FRBCFillLevelTargetProfile) -> tuple[tuple, ...]:
    """A fill level target profile as (start, end, lowest, highest) per element."""
    found, start = [], profile.start_time
    for element in profile.elements:
        end = start + timedelta(milliseconds=element.duration.root)
        found.append((start, end, element.fill_level_range.start_of_range, element.fill_level_range.end_of_range))
        start = end
    return tuple(found)


def leakage(behaviour: FRBCLeakageBehaviour) -> tuple[tuple[float, float, float], ...]:
    """A leakage behaviour as (lowest, highest fill level, leakage per second) per element."""
    return tuple((e.fill_level_range.start_of_range, e.fill_level_range.end_of_range, e.leakage_rate) for e in behaviour.elements)


def usage(forecast: FRBCUsageForecast) -> tuple[tuple, ...]:
    """A usage forecast as (start, end, expected usage per second) per element."""
    found, start = [], forecast.start_time
    for element in forecast.elements:
        end = start + timedelta(milliseconds=element.duration.root)
        found.append((start, end, element.usage_rate_expected))
        start = end
    return tuple(found)


def pebc_device(constraints: PEBCPowerConstraints) -> tuple[PebcDevice, CommodityQuantity]:
    """PEBC power constraints as mapping's record (the lowest lower limit, the highest upper limit, kW) and the
    commodity quantity its envelopes must be given in."""
    ranges = constraints.allowed_limit_ranges
    lower = [r.range_boundary.start_of_range for r in ranges if r.limit_type == PEBCPowerEnvelopeLimitType.LOWER_LIMIT]
    upper = [r.range_boundary.end_of_range for r in ranges if r.limit_type == PEBCPowerEnvelopeLimitType.UPPER_LIMIT]
    commodity = ranges[0].commodity_quantity if ranges else CommodityQuantity.ELECTRIC_POWER_L1
    return PebcDevice(str(constraints.id), min(lower, default=-1e6) / 1000, max(upper, default=0.0) / 1000), commodity


def frbc_instruction(step: Step) -> FRBCInstruction:
    """The FRBC.Instruction of one step (a fresh message id; the instruction id is the step's)."""
    return FRBCInstruction(
        message_id=uuid.uuid4(),
        id=uuid.UUID(step.id),
        actuator_id=uuid.UUID(step.target_id),
        operation_mode=uuid.UUID(step.mode_id),
        operation_mode_factor=step.factor,
        execution_time=step.slot,
        abnormal_condition=False,
    )


def pebc_instruction(step: Step, commodity: CommodityQuantity) -> PEBCInstruction:
    """The PEBC.Instruction of one step: one envelope element of a quarter hour (W)."""
    element = PEBCPowerEnvelopeElement(
        duration=Duration.from_timedelta(QUARTER), upper_limit=step.upper_kw * 1000, lower_limit=step.lower_kw * 1000
    )
    envelope = PEBCPowerEnvelope(
        id=str(uuid.uuid5(uuid.UUID(step.id), "envelope")), commodity_quantity=commodity, power_envelope_elements=[element]
    )
    return PEBCInstruction(
        message_id=uuid.uuid4(),
        id=uuid.UUID(step.id),
        execution_time=step.slot,
        abnormal_condition=False,
        power_constraints_id=uuid.UUID(step.target_id),
        power_envelopes=[envelope],
    )


def revoke(step: Step, pebc: bool) -> RevokeObject:
    """The RevokeObject that withdraws one step's instruction."""
    kind = RevokableObjects.PEBC_Instruction if pebc else RevokableObjects.FRBC_Instruction
    return RevokeObject(message_id=uuid.uuid4(), object_type=kind, object_id=uuid.UUID(step.id))
