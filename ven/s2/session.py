"""One RM's WebSocket connection to the CEM: the S2 handshake, the control type, what the RM describes, and an S2
answer to every message it sends — a bad one (oversized, not S2, of a type a CEM does not take) gets the
ReceptionStatus that says so and never ends more than this connection.

The sequence (docs/ven.md, "S2 dispatch"): RM Handshake → OK, the CEM's Handshake and HandshakeResponse;
ResourceManagerDetails → SelectControlType, OK; FRBC.SystemDescription or PEBC.PowerConstraints → OK, and from then
on the device's instructions (cem.py); NOT_CONTROLABLE: the device is metered only.
"""

import asyncio
import logging
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

from s2python.common import ControlType as S2ControlType
from s2python.common import (
    EnergyManagementRole,
    Handshake,
    HandshakeResponse,
    InstructionStatusUpdate,
    PowerMeasurement,
    ReceptionStatus,
    ReceptionStatusValues,
    ResourceManagerDetails,
    SelectControlType,
    SessionRequest,
)
from s2python.frbc import (
    FRBCFillLevelTargetProfile,
    FRBCLeakageBehaviour,
    FRBCStorageStatus,
    FRBCSystemDescription,
    FRBCUsageForecast,
)
from s2python.message import S2Message
from s2python.pebc import PEBCPowerConstraints
from s2python.version import S2_VERSION
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from mapping.refusal import Refused
from mapping.s2 import FRBC, NOT_CONTROLABLE, PEBC, select_control_type, select_protocol_version, usable_modes
from ven.s2 import codec
from ven.s2.limits import RateLimit

if TYPE_CHECKING:
    from ven.s2.cem import DeviceState, S2Cem

log = logging.getLogger("cariflex.ven.s2")
#: WebSocket close code for a policy violation (RFC 6455): no handshake, a flood, a control type the CEM cannot use
POLICY = 1008
#: a connection that has had this many messages dropped in a row for the rate bound is closed
FLOOD_DROPS = 200


class RmSession:
    """One connected RM, speaking for the device `state` (the pairing token named it)."""

    def __init__(self, ws: ServerConnection, state: "DeviceState", cem: "S2Cem") -> None:
        self.ws = ws
        self.state = state
        self.cem = cem
        settings = cem.settings
        self.limit = RateLimit(settings.max_messages_per_second, 2 * settings.max_messages_per_second)
        self.handshaken = False
        self._dropped_in_row = 0
        self._closing: asyncio.Task | None = None

    @property
    def name(self) -> str:
        """The device, for log lines."""
        return f"{self.state.key.site}/{self.state.key.kind}"

    async def send(self, message: S2Message | str) -> bool:
        """Send one message; False when the connection is gone (the CEM then counts the device as disconnected)."""
        try:
            await self.ws.send(message if isinstance(message, str) else message.to_json())
            return True
        except ConnectionClosed:
            return False

    async def close(self, code: int, reason: str) -> None:
        """Close the connection, saying why (the reason is cut to what a close frame holds). In the background:
        the read loop goes on taking (and dropping) what the RM still sends, so its close frame is read behind
        them rather than waited for until the close timeout."""
        if self._closing is None:
            self._closing = asyncio.create_task(self.ws.close(code, reason[:120]))

    async def run(self) -> None:
        """Read and answer the RM's messages until it goes (or is closed)."""
        watchdog = asyncio.create_task(self._handshake_watchdog())
        try:
            async for raw in self.ws:
                await self.handle(raw)
        except ConnectionClosed:
            pass
        finally:
            watchdog.cancel()
            if self._closing is not None:
                await asyncio.gather(self._closing, return_exceptions=True)

    async def _handshake_watchdog(self) -> None:
        await asyncio.sleep(self.cem.settings.handshake_timeout.total_seconds())
        if self.state.control_type is None:
            log.warning("%s: the RM did not complete the S2 handshake in time: disconnected", self.name)
            await self.close(POLICY, f"no S2 handshake within {self.cem.settings.handshake_timeout.total_seconds():g} s")

    async def handle(self, raw: str | bytes) -> None:
        """One frame: rate-bounded, parsed, answered; an error handling it is logged and answered, never raised."""
        if self._closing is not None:
            return
        if not self.limit.allow():
            self._dropped_in_row += 1
            self.cem.counters["rate_limited"] += 1
            if self._dropped_in_row == 1:
                log.warning("%s: the RM sends more than %g messages/s: messages dropped", self.name, self.limit.rate)
                await self.send(
                    codec.reception(codec.NIL, ReceptionStatusValues.TEMPORARY_ERROR, "too many messages: dropped; slow down")
                )
            elif self._dropped_in_row >= FLOOD_DROPS:
                log.warning("%s: the RM keeps flooding the CEM: disconnected", self.name)
                await self.close(POLICY, f"flood: more than {self.limit.rate:g} messages/s")
            return
        self._dropped_in_row = 0
        message = codec.parse(raw, self.cem.settings.max_message_bytes)
        if isinstance(message, codec.Invalid):
            self.cem.counters["invalid"] += 1
            log.info("%s: message refused (%s): %s", self.name, message.status.value, message.label)
            await self.send(codec.reception(message.subject, message.status, message.label))
            return
        try:
            await self._take(message)
        except Exception:  # a defect here must not end the VEN (nor this connection): logged, answered
            log.exception("%s: unexpected error handling %s", self.name, message.message_type)
            subject = getattr(message, "message_id", codec.NIL)
            await self.send(codec.reception(subject, ReceptionStatusValues.TEMPORARY_ERROR, "the CEM failed on this message"))

    async def _ok(self, message: S2Message) -> None:
        await self.send(codec.reception(message.message_id))  # type: ignore[attr-defined]

    async def _refuse(self, message: S2Message, status: ReceptionStatusValues, why: str) -> None:
        self.cem.counters["invalid"] += 1
        log.info("%s: %s refused: %s", self.name, message.message_type, why)
        await self.send(codec.reception(message.message_id, status, why))  # type: ignore[attr-defined]

    async def _take(self, message: S2Message) -> None:
        state = self.state
        if isinstance(message, ReceptionStatus):
            await self.cem.reception(state, message)
            return
        if isinstance(message, Handshake):
            await self._handshake(message)
            return
        if not self.handshaken:
            await self._refuse(message, ReceptionStatusValues.INVALID_CONTENT, "Handshake first")
            return
        if isinstance(message, ResourceManagerDetails):
            await self._details(message)
        elif isinstance(message, FRBCSystemDescription):
            if state.control_type != FRBC:
                await self._refuse(message, ReceptionStatusValues.INVALID_CONTENT, f"control type is {state.control_type}")
                return
            if not message.actuators or not all(mode.elements for a in message.actuators for mode in a.operation_modes):
                await self._refuse(message, ReceptionStatusValues.INVALID_CONTENT, "an actuator with operation modes is needed")
                return
            if len(message.actuators) > 1:
                log.warning("%s: %d actuators described; only the first is instructed", self.name, len(message.actuators))
            device = codec.frbc_device(message, state.frbc)
            if not usable_modes(device):
                await self._refuse(message, ReceptionStatusValues.INVALID_CONTENT, "no operation mode a schedule may use")
                return
            state.frbc = device if device.fill_level is not None else replace(device, fill_level=state.fill_level)
            await self._ok(message)
            await self.cem.ready(state)
        elif isinstance(message, FRBCStorageStatus):
            await self._ok(message)
            state.fill_level = message.present_fill_level
            if state.frbc is not None:
                state.frbc = replace(state.frbc, fill_level=message.present_fill_level)
        elif isinstance(message, FRBCFillLevelTargetProfile):
            await self._ok(message)
            if state.frbc is not None:
                state.frbc = replace(state.frbc, targets=codec.targets(message))
        elif isinstance(message, FRBCLeakageBehaviour | FRBCUsageForecast):
            # in the flex-model as soc-usage (mapping/s2.py); kept across new descriptions
            await self._ok(message)
            if state.frbc is None:
                log.info("%s: %s before the system description: not used", self.name, message.message_type)
            elif isinstance(message, FRBCLeakageBehaviour):
                state.frbc = replace(state.frbc, leakage=codec.leakage(message))
            else:
                state.frbc = replace(state.frbc, usage=codec.usage(message))
        elif isinstance(message, PEBCPowerConstraints):
            if state.control_type != PEBC:
                await self._refuse(message, ReceptionStatusValues.INVALID_CONTENT, f"control type is {state.control_type}")
                return
            state.pebc, state.commodity = codec.pebc_device(message)
            await self._ok(message)
            await self.cem.ready(state)
        elif isinstance(message, InstructionStatusUpdate):
            await self._ok(message)
            await self.cem.status_update(state, message)
        elif isinstance(message, PowerMeasurement):
            await self._ok(message)
            state.measured_kw = sum(v.value for v in message.values) / 1000
            state.measured_at = message.measurement_timestamp
        elif isinstance(message, SessionRequest):
            await self._ok(message)
            await self.close(1000, f"session request {message.request.value}")
        else:  # power forecasts, actuator and timer status: taken, not used yet
            await self._ok(message)

    async def _handshake(self, message: Handshake) -> None:
        if message.role != EnergyManagementRole.RM:
            await self._refuse(message, ReceptionStatusValues.INVALID_CONTENT, "the CEM talks to an RM only")
            return
        versions = message.supported_protocol_versions or []
        try:
            selected = select_protocol_version(S2_VERSION, versions)
        except Refused as exc:
            await self.send(codec.reception(message.message_id, ReceptionStatusValues.PERMANENT_ERROR, exc.reason))
            await self.close(POLICY, exc.reason)
            return
        if selected != S2_VERSION:
            log.warning(
                "%s: the RM lists S2 %s, not this CEM's %s: %s selected; its messages are validated as %s (a difference "
                "is answered naming its field)",
                self.name,
                ", ".join(versions),
                S2_VERSION,
                selected,
                S2_VERSION,
            )
        await self._ok(message)
        self.handshaken = True
        await self.send(
            Handshake(message_id=uuid.uuid4(), role=EnergyManagementRole.CEM, supported_protocol_versions=[S2_VERSION])
        )
        await self.send(HandshakeResponse(message_id=uuid.uuid4(), selected_protocol_version=selected))

    async def _details(self, message: ResourceManagerDetails) -> None:
        offered = [c.value for c in message.available_control_types]
        try:
            control_type = select_control_type(self.state.key.kind, offered)
        except Refused as exc:
            await self._refuse(message, ReceptionStatusValues.PERMANENT_ERROR, str(exc))
            await self.close(POLICY, str(exc))
            return
        self.state.resource_id = str(message.resource_id)
        self.state.control_type = control_type
        # the details acknowledged once acted on (as FlexMeasures' own CEM does): an RM that reads its answers in
        # order, as flexmeasures-client's example RM does, finds the selection right after the handshake's messages
        await self.send(SelectControlType(message_id=uuid.uuid4(), control_type=S2ControlType(control_type)))
        await self._ok(message)
        log.info("%s: RM %s paired; control type %s", self.name, message.resource_id, control_type)
        if control_type == NOT_CONTROLABLE:
            await self.cem.ready(self.state)
