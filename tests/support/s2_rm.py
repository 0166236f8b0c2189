"""S2 Resource Managers for the tests: real s2-python RMs (its S2AsyncConnection, ResourceManagerHandler and
WebsocketClientMedium) over real WebSockets, describing a device as a battery's, an EV charger's or a PV inverter's
RM would, and recording what the CEM sends them; and a raw WebSocket client for what no well-behaved RM sends."""

import asyncio
import contextlib
import datetime
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from s2python.common import (
    Commodity,
    CommodityQuantity,
    Currency,
    Duration,
    InstructionStatus,
    InstructionStatusUpdate,
    NumberRange,
    PowerMeasurement,
    PowerRange,
    PowerValue,
    RevokeObject,
    Role,
    RoleType,
)
from s2python.connection import AssetDetails
from s2python.connection.async_ import S2AsyncConnection
from s2python.connection.async_.control_type.class_based import (
    FRBCControlType,
    NoControlControlType,
    PEBCControlType,
    ResourceManagerHandler,
)
from s2python.connection.async_.medium.websocket import WebsocketClientMedium
from s2python.frbc import (
    FRBCActuatorDescription,
    FRBCInstruction,
    FRBCLeakageBehaviour,
    FRBCLeakageBehaviourElement,
    FRBCOperationMode,
    FRBCOperationModeElement,
    FRBCStorageDescription,
    FRBCStorageStatus,
    FRBCSystemDescription,
    FRBCUsageForecast,
    FRBCUsageForecastElement,
)
from s2python.message import S2MessageWithID
from s2python.pebc import (
    PEBCAllowedLimitRange,
    PEBCInstruction,
    PEBCPowerConstraints,
    PEBCPowerEnvelopeConsequenceType,
    PEBCPowerEnvelopeLimitType,
)
from websockets.asyncio.client import ClientConnection, connect

L1 = CommodityQuantity.ELECTRIC_POWER_L1


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class Received:
    """What an RM got from the CEM."""

    frbc: list[FRBCInstruction] = field(default_factory=list)
    pebc: list[PEBCInstruction] = field(default_factory=list)
    revoked: list[uuid.UUID] = field(default_factory=list)
    activated: asyncio.Event = field(default_factory=asyncio.Event)


class _Frbc(FRBCControlType):
    """A storage whose actuator discharges (−power … 0 W) or charges (0 … +power W), fill level in %."""

    def __init__(self, rm: "SimulatedRm") -> None:
        self.rm = rm
        self.actuator = uuid.uuid4()
        self.discharge, self.charge = uuid.uuid4(), uuid.uuid4()

    def power_kw(self, instruction: FRBCInstruction) -> float:
        """What the device draws under `instruction` (the power its mode reaches at its factor)."""
        low, high = (-self.rm.power_w, 0.0) if instruction.operation_mode == self.discharge else (0.0, self.rm.power_w)
        return (low + instruction.operation_mode_factor * (high - low)) / 1000

    async def handle_instruction(self, connection, msg, send_okay) -> None:  # noqa: ANN001
        assert isinstance(msg, FRBCInstruction)
        self.rm.received.frbc.append(msg)
        await send_okay()
        if self.rm.reject:
            await connection.send_msg_and_await_reception_status(
                InstructionStatusUpdate(
                    message_id=uuid.uuid4(), instruction_id=msg.id, status_type=InstructionStatus.REJECTED, timestamp=now()
                )
            )

    def _mode(self, ident: uuid.UUID, low: float, high: float, label: str) -> FRBCOperationMode:
        element = FRBCOperationModeElement(
            fill_level_range=NumberRange(start_of_range=0.0, end_of_range=100.0),
            fill_rate=NumberRange(start_of_range=low / 3600, end_of_range=high / 3600),
            power_ranges=[PowerRange(start_of_range=low, end_of_range=high, commodity_quantity=L1)],
        )
        return FRBCOperationMode(id=ident, elements=[element], diagnostic_label=label, abnormal_condition_only=False)

    async def activate(self, connection: S2AsyncConnection) -> None:
        connection.register_handler(RevokeObject, self.rm.on_revoke)
        power = self.rm.power_w
        await connection.send_msg_and_await_reception_status(
            FRBCStorageStatus(message_id=uuid.uuid4(), present_fill_level=self.rm.soc)
        )
        await connection.send_msg_and_await_reception_status(
            FRBCSystemDescription(
                message_id=uuid.uuid4(),
                valid_from=now(),
                actuators=[
                    FRBCActuatorDescription(
                        id=self.actuator,
                        operation_modes=[
                            self._mode(self.discharge, -power, 0.0, "discharge"),
                            self._mode(self.charge, 0.0, power, "charge"),
                        ],
                        transitions=[],
                        timers=[],
                        supported_commodities=[Commodity.ELECTRICITY],
                    )
                ],
                storage=FRBCStorageDescription(
                    fill_level_range=NumberRange(start_of_range=self.rm.reserve, end_of_range=100.0),
                    fill_level_label="%",
                    diagnostic_label="home battery",
                    provides_fill_level_target_profile=False,
                    provides_leakage_behaviour=False,
                    provides_usage_forecast=False,
                ),
            )
        )
        self.rm.received.activated.set()

    async def deactivate(self, connection: S2AsyncConnection) -> None:
        """Nothing to undo."""


class _Pebc(PEBCControlType):
    """A PV inverter that may be curtailed from its full production (−power W) to none."""

    def __init__(self, rm: "SimulatedRm") -> None:
        self.rm = rm
        self.constraints = uuid.uuid4()

    async def handle_instruction(self, connection, msg, send_okay) -> None:  # noqa: ANN001
        assert isinstance(msg, PEBCInstruction)
        self.rm.received.pebc.append(msg)
        await send_okay()

    async def activate(self, connection: S2AsyncConnection) -> None:
        connection.register_handler(RevokeObject, self.rm.on_revoke)
        boundary = NumberRange(start_of_range=-self.rm.power_w, end_of_range=0.0)
        ranges = [
            PEBCAllowedLimitRange(commodity_quantity=L1, limit_type=kind, range_boundary=boundary, abnormal_condition_only=False)
            for kind in (PEBCPowerEnvelopeLimitType.LOWER_LIMIT, PEBCPowerEnvelopeLimitType.UPPER_LIMIT)
        ]
        await connection.send_msg_and_await_reception_status(
            PEBCPowerConstraints(
                message_id=uuid.uuid4(),
                id=self.constraints,
                valid_from=now(),
                consequence_type=PEBCPowerEnvelopeConsequenceType.VANISH,
                allowed_limit_ranges=ranges,
            )
        )
        self.rm.received.activated.set()

    async def deactivate(self, connection: S2AsyncConnection) -> None:
        """Nothing to undo."""


class _Metered(NoControlControlType):
    def __init__(self, rm: "SimulatedRm") -> None:
        self.rm = rm

    async def activate(self, connection: S2AsyncConnection) -> None:
        value = PowerValue(commodity_quantity=L1, value=1200.0)
        await connection.send_msg_and_await_reception_status(
            PowerMeasurement(message_id=uuid.uuid4(), measurement_timestamp=now(), values=[value])
        )
        self.rm.received.activated.set()

    async def deactivate(self, connection: S2AsyncConnection) -> None:
        """Nothing to undo."""


class SimulatedRm:
    """One device's RM: `control` "frbc" (battery, EV), "pebc" (PV) or "none" (metered only)."""

    def __init__(
        self, url: str, token: str, control: str = "frbc", power_w: float = 5000.0, soc: float = 60.0, reserve: float = 10.0
    ) -> None:
        self.url, self.token, self.control = url, token, control
        self.power_w, self.soc, self.reserve = power_w, soc, reserve
        self.reject = False
        #: check the CEM's certificate on wss:// (s2-python checks it against the system's CAs only)
        self.verify = True
        self.received = Received()
        self.frbc = _Frbc(self)
        self.resource_id = uuid.uuid4()
        self._connection: S2AsyncConnection | None = None
        self._medium: WebsocketClientMedium | None = None
        self._task: asyncio.Task | None = None

    async def on_revoke(self, connection, msg, send_okay) -> None:  # noqa: ANN001
        assert isinstance(msg, RevokeObject)
        self.received.revoked.append(msg.object_id)
        await send_okay()

    async def start(self) -> None:
        """Connect (raises s2-python's MediumCouldNotConnectError when refused) and run the session."""
        control = {"frbc": self.frbc, "pebc": _Pebc(self), "none": _Metered(self)}[self.control]
        handler = ResourceManagerHandler(
            asset_details=AssetDetails(
                resource_id=self.resource_id,
                name=f"test {self.control} RM",
                instruction_processing_delay=Duration.from_milliseconds(20),
                roles=[Role(role=RoleType.ENERGY_STORAGE, commodity=Commodity.ELECTRICITY)],
                currency=Currency.EUR,
                provides_forecast=False,
                provides_power_measurements=[L1],
            ),
            control_types=[control],
        )
        self._medium = WebsocketClientMedium(url=self.url, verify_certificate=self.verify, bearer_token=self.token)
        await self._medium.connect()
        self._connection = S2AsyncConnection(medium=self._medium)
        handler.register_handlers(self._connection)
        self._task = asyncio.create_task(self._connection.run())

    async def send(self, message: S2MessageWithID) -> None:
        """Send one more message of the RM's own (a forecast, a leakage behaviour…) and wait for its OK."""
        assert self._connection is not None, "start the RM first"
        await self._connection.send_msg_and_await_reception_status(message)

    async def stop(self) -> None:
        """Disconnect."""
        if self._connection is not None:
            await self._connection.stop()
        if self._medium is not None:
            await self._medium.disconnect()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        self.received.activated = asyncio.Event()


@contextlib.asynccontextmanager
async def running_rm(url: str, token: str, again: SimulatedRm | None = None, **options: object) -> AsyncIterator[SimulatedRm]:
    """A connected RM whose control type is active (`again`: that RM, reconnecting with what it received
    forgotten), disconnected on the way out."""
    rm = again or SimulatedRm(url, token, **options)  # type: ignore[arg-type]
    rm.received = Received()
    await rm.start()
    try:
        await asyncio.wait_for(rm.received.activated.wait(), 10)
        yield rm
    finally:
        await rm.stop()


@contextlib.asynccontextmanager
async def raw_client(url: str, token: str) -> AsyncIterator[ClientConnection]:
    """A bare WebSocket to the CEM with a pairing token: it sends whatever a test writes."""
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None) as ws:
        yield ws


async def answer(ws: ClientConnection, timeout: float = 5.0) -> dict:
    """The next message the CEM sends, as JSON."""
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def leakage_behaviour(percent_per_s: float) -> FRBCLeakageBehaviour:
    """An FRBC.LeakageBehaviour: `percent_per_s` of fill level lost per second, whatever the level."""
    element = FRBCLeakageBehaviourElement(
        fill_level_range=NumberRange(start_of_range=0.0, end_of_range=100.0), leakage_rate=percent_per_s
    )
    return FRBCLeakageBehaviour(message_id=uuid.uuid4(), valid_from=now(), elements=[element])


def usage_forecast(start: datetime.datetime, percent_per_s: float, duration: datetime.timedelta) -> FRBCUsageForecast:
    """An FRBC.UsageForecast: `percent_per_s` of fill level used per second for `duration` from `start`."""
    element = FRBCUsageForecastElement(duration=Duration.from_timedelta(duration), usage_rate_expected=percent_per_s)
    return FRBCUsageForecast(message_id=uuid.uuid4(), start_time=start, elements=[element])
