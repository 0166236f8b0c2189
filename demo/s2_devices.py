"""The demo's S2 Resource Managers: each home battery, EV charger and V2G car of the site simulator is an s2-python RM
(S2AsyncConnection, ResourceManagerHandler, WebsocketClientMedium) on a real WebSocket to its VEN's CEM, paired with
its site's token, and runs at the power of the FRBC instruction in force — nothing else.

What it describes is what the simulated device is (demo/world.py `Storage`): a discharge mode (−power … 0 W; none for
a one-way EV charger) and a charge mode (0 … +power W), its fill level in % from its reserve to full, its state of
charge (FRBC.StorageStatus, again every STATUS_EVERY and whenever it changes a whole percent, with a PowerMeasurement of
its own power). An EV not plugged in
can move nothing: its RM describes one mode of 0 W until the car arrives, then the car's own.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta

from s2python.common import (
    Commodity,
    CommodityQuantity,
    Currency,
    Duration,
    NumberRange,
    PowerMeasurement,
    PowerRange,
    PowerValue,
    ReceptionStatusValues,
    RevokableObjects,
    RevokeObject,
    Role,
    RoleType,
)
from s2python.connection import AssetDetails
from s2python.connection.async_ import S2AsyncConnection
from s2python.connection.async_.control_type.class_based import FRBCControlType, ResourceManagerHandler
from s2python.connection.async_.medium.websocket import WebsocketClientMedium
from s2python.frbc import (
    FRBCActuatorDescription,
    FRBCInstruction,
    FRBCOperationMode,
    FRBCOperationModeElement,
    FRBCStorageDescription,
    FRBCStorageStatus,
    FRBCSystemDescription,
)

from demo.simulator import SimulatedSite
from demo.world import Storage
from mapping.backoff import backoff_delay

log = logging.getLogger("cariflex.demo.s2")
#: a session held this long (s) was a good one: the back-off starts again from its shortest delay
STABLE_SESSION_S = 60.0
#: the device kinds the demo dispatches over S2 (its PV roofs keep MQTT setpoints: docs/ven.md, "The demo's devices")
S2_KINDS = frozenset({"battery", "evse", "v2g"})
#: an RM repeats its state of charge this often even when it did not change a whole percent
STATUS_EVERY = timedelta(minutes=1)
#: how often an RM looks at its device (plugged in or not, state of charge), seconds
WATCH_EVERY = 2.0
#: the namespace of the RMs' own ids (uuid5): the same site, the same ids at every run
_IDS = uuid.UUID("0b5e3c1e-9a37-4b8e-8d0e-51a2d6f0c7b3")
L1 = CommodityQuantity.ELECTRIC_POWER_L1


def _id(site: str, what: str) -> uuid.UUID:
    return uuid.uuid5(_IDS, f"{site}/{what}")


class Instructions:
    """The FRBC instructions a device holds. The one in force at a time is the latest whose execution time has come
    (S2: an instruction holds until the next); a revoked one is forgotten. What it asks is read through `power`
    (operation mode, factor → kW, None for a mode the device no longer has: an EV's once its car left or came)."""

    def __init__(self, power: Callable[[uuid.UUID, float], float | None]) -> None:
        self.power = power
        #: id → (execution time, order received, operation mode, factor)
        self._held: dict[uuid.UUID, tuple[datetime, int, uuid.UUID, float]] = {}
        self._received = 0

    def take(self, ident: uuid.UUID, execution_time: datetime, mode: uuid.UUID, factor: float) -> None:
        """Hold one instruction (again: the same id replaces itself); those a day older than it are dropped."""
        self._received += 1
        self._held[ident] = (execution_time, self._received, mode, factor)
        old = [i for i, held in self._held.items() if held[0] < execution_time - timedelta(days=1)]
        for i in old:
            del self._held[i]

    def revoke(self, ident: uuid.UUID) -> bool:
        """Forget one instruction; False when it is not held."""
        return self._held.pop(ident, None) is not None

    def at(self, when: datetime) -> float | None:
        """The power (kW, charging positive) the instruction in force at `when` asks; None before any, or when it
        names a mode the device does not have now (it then does what it would on its own)."""
        started = [held for held in self._held.values() if held[0] <= when]
        if not started:
            return None
        _, _, mode, factor = max(started, key=lambda held: held[:2])
        return self.power(mode, factor)


def _mode(ident: uuid.UUID, low_kw: float, high_kw: float, label: str, storage: Storage | None) -> FRBCOperationMode:
    """One operation mode from `low_kw` to `high_kw`; its fill rate in % of the capacity per second, at the cells."""
    rates = [0.0, 0.0]
    if storage is not None:
        per_kw = 100 / storage.capacity_kwh / 3600
        rates = [kw * per_kw * (storage.efficiency if kw >= 0 else 1 / storage.efficiency) for kw in (low_kw, high_kw)]
    element = FRBCOperationModeElement(
        fill_level_range=NumberRange(start_of_range=0.0, end_of_range=100.0),
        fill_rate=NumberRange(start_of_range=rates[0], end_of_range=rates[1]),
        power_ranges=[PowerRange(start_of_range=low_kw * 1000, end_of_range=high_kw * 1000, commodity_quantity=L1)],
    )
    return FRBCOperationMode(id=ident, elements=[element], diagnostic_label=label, abnormal_condition_only=False)


class StorageRm(FRBCControlType):
    """The FRBC side of one simulated storage device's RM: describes it, takes its instructions, reports its charge."""

    def __init__(self, site: SimulatedSite) -> None:
        self.site = site
        self.instructions = Instructions(self.kw_of)
        site.schedule = self.instructions  # the device runs at what the instruction in force asks, and nothing else
        name = site.config.name
        self.actuator = _id(name, "actuator")
        self.discharge, self.charge, self.idle = _id(name, "discharge"), _id(name, "charge"), _id(name, "idle")
        #: mode id → (low, high) kW, as last described
        self.modes: dict[uuid.UUID, tuple[float, float]] = {}
        #: the storage last described (an EV's changes with each arrival; None: not plugged in)
        self.described: Storage | None = None
        #: the CEM selected FRBC and took the description: the device follows its instructions
        self.active = False
        self._watch: asyncio.Task | None = None

    def _reserve_percent(self, storage: Storage) -> float:
        return round(100 * storage.floor_kwh / storage.capacity_kwh, 2)

    def describe(self) -> FRBCSystemDescription:
        """The device as it is now: its modes, from its reserve to full."""
        storage = self.site.storage
        self.described = storage
        if storage is None:  # an EV charger without its car: nothing it can draw or give
            self.modes = {self.idle: (0.0, 0.0)}
            modes = [_mode(self.idle, 0.0, 0.0, "no car plugged in", None)]
            reserve = 0.0
        else:
            reserve = self._reserve_percent(storage)
            self.modes = {self.charge: (0.0, storage.charge_kw)}
            modes = [_mode(self.charge, 0.0, storage.charge_kw, "charge", storage)]
            if storage.discharge_kw > 0:
                self.modes[self.discharge] = (-storage.discharge_kw, 0.0)
                modes.insert(0, _mode(self.discharge, -storage.discharge_kw, 0.0, "discharge", storage))
        return FRBCSystemDescription(
            message_id=uuid.uuid4(),
            valid_from=datetime.now(UTC),
            actuators=[
                FRBCActuatorDescription(
                    id=self.actuator,
                    operation_modes=modes,
                    transitions=[],
                    timers=[],
                    supported_commodities=[Commodity.ELECTRICITY],
                )
            ],
            storage=FRBCStorageDescription(
                fill_level_range=NumberRange(start_of_range=reserve, end_of_range=100.0),
                fill_level_label="%",
                diagnostic_label=f"{self.site.kind} of {self.site.config.name}",
                provides_fill_level_target_profile=False,
                provides_leakage_behaviour=False,
                provides_usage_forecast=False,
            ),
        )

    def kw_of(self, mode: uuid.UUID, factor: float) -> float | None:
        """The power (kW) an operation mode draws at `factor`; None for a mode the device does not have now."""
        span = self.modes.get(mode)
        if span is None:
            return None
        low, high = span
        return round(low + factor * (high - low), 3)

    async def handle_instruction(self, connection, msg, send_okay) -> None:  # noqa: ANN001 - s2-python's signature
        """Hold an instruction; refuse (INVALID_CONTENT) one naming another actuator or a mode it never had."""
        if not isinstance(msg, FRBCInstruction):
            return
        # a mode described before (an EV's, before its car came or left) is taken: the CEM may not have read the new
        # description yet; the instruction is then not carried out (`Instructions.at`) until its replacement comes
        if msg.actuator_id != self.actuator or msg.operation_mode not in (self.idle, self.charge, self.discharge):
            log.warning("%s: an FRBC instruction for a mode it does not have (%s): refused", self.site.config.name, msg.id)
            await connection.respond_with_reception_status(
                msg.message_id, ReceptionStatusValues.INVALID_CONTENT, f"no operation mode {msg.operation_mode} on this device"
            )
            return
        self.instructions.take(msg.id, msg.execution_time, msg.operation_mode, msg.operation_mode_factor)
        await send_okay()

    async def on_revoke(self, connection, msg, send_okay) -> None:  # noqa: ANN001 - s2-python's signature
        """Forget a revoked instruction."""
        if isinstance(msg, RevokeObject) and msg.object_type == RevokableObjects.FRBC_Instruction:
            self.instructions.revoke(msg.object_id)
        await send_okay()

    def status(self) -> FRBCStorageStatus:
        """The state of charge now (0 without a car)."""
        storage = self.site.storage
        return FRBCStorageStatus(message_id=uuid.uuid4(), present_fill_level=storage.soc_percent if storage else 0.0)

    def measurement(self) -> PowerMeasurement:
        """The device's own power over the last step (W, consumption positive)."""
        value = PowerValue(commodity_quantity=L1, value=round(self.site.device_kw * 1000, 1))
        return PowerMeasurement(message_id=uuid.uuid4(), measurement_timestamp=datetime.now(UTC), values=[value])

    async def activate(self, connection: S2AsyncConnection) -> None:
        """Describe the device and its charge, then keep them current."""
        connection.register_handler(RevokeObject, self.on_revoke)
        await connection.send_msg_and_await_reception_status(self.status())
        await connection.send_msg_and_await_reception_status(self.describe())
        self.active = True
        self._watch = asyncio.create_task(self._keep_current(connection), name=f"s2-rm-{self.site.config.name}")

    async def deactivate(self, connection: S2AsyncConnection) -> None:
        """Stop reporting."""
        self.active = False
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None

    async def _keep_current(self, connection: S2AsyncConnection) -> None:
        """A new description when the car arrives or leaves; the state of charge every STATUS_EVERY or whole percent."""
        sent_at, sent = datetime.now(UTC), self.status().present_fill_level
        while True:
            await asyncio.sleep(WATCH_EVERY)
            if self.site.storage is not self.described:
                await connection.send_msg_and_await_reception_status(self.status())
                await connection.send_msg_and_await_reception_status(self.describe())
            status = self.status()
            if abs(status.present_fill_level - sent) >= 1.0 or datetime.now(UTC) - sent_at >= STATUS_EVERY:
                await connection.send_msg_and_await_reception_status(status)
                await connection.send_msg_and_await_reception_status(self.measurement())
                sent_at, sent = datetime.now(UTC), status.present_fill_level


class ResourceManager:
    """One device's RM and its connection to the CEM, connecting again (with back-off) whenever it is lost."""

    def __init__(self, site: SimulatedSite, url: str) -> None:
        if not site.config.s2_token:
            raise ValueError(f"{site.config.name}: no s2_token to pair its RM with")
        self.site, self.url = site, url
        self.frbc = StorageRm(site)
        self.details = AssetDetails(
            resource_id=_id(site.config.name, "resource"),
            name=f"{site.kind} of {site.config.name}",
            instruction_processing_delay=Duration.from_milliseconds(100),
            roles=[Role(role=RoleType.ENERGY_STORAGE, commodity=Commodity.ELECTRICITY)],
            currency=Currency.EUR,
            provides_forecast=False,
            provides_power_measurements=[L1],
        )
        #: sessions opened (1 when it never lost its connection)
        self.sessions = 0
        self._stopping = asyncio.Event()

    @property
    def paired(self) -> bool:
        """Connected, FRBC selected and the device described."""
        return self.frbc.active

    async def run(self) -> None:
        """Connect and hold the session until `stop`; a lost or refused connection is tried again."""
        failures = 0
        while not self._stopping.is_set():
            medium = WebsocketClientMedium(url=self.url, bearer_token=self.site.config.s2_token)
            try:
                await medium.connect()
                connection = S2AsyncConnection(medium=medium)
                ResourceManagerHandler(control_types=[self.frbc], asset_details=self.details).register_handlers(connection)
                self.sessions += 1
                began = asyncio.get_running_loop().time()
                session = asyncio.create_task(connection.run())
                stopping = asyncio.create_task(self._stopping.wait())
                await asyncio.wait({session, stopping}, return_when=asyncio.FIRST_COMPLETED)
                await connection.stop()
                stopping.cancel()
                await asyncio.gather(session, stopping, return_exceptions=True)
                # a session the CEM ends at once counts as a failure: a CEM closing every session does not get
                # a reconnection every second for ever
                held = asyncio.get_running_loop().time() - began
                failures = 0 if held >= STABLE_SESSION_S else failures + 1
            except Exception as exc:  # noqa: BLE001 - the device keeps trying, as a real RM would; the log says why
                failures += 1
                log.warning(
                    "%s: S2 connection to the CEM at %s failed (%s): trying again; the VENs' log (ven.log) says why",
                    self.site.config.name,
                    self.url,
                    exc,
                )
            finally:
                with contextlib.suppress(Exception):
                    await medium.disconnect()
            if not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff_delay(failures, 1.0, 30.0))

    def stop(self) -> None:
        """End the session (the device then follows nothing new)."""
        self._stopping.set()


@contextlib.asynccontextmanager
async def resource_managers(sites: Iterable[SimulatedSite], url: str) -> AsyncIterator[list[ResourceManager]]:
    """An RM per simulated site that has an s2_token, connected to the CEM at `url` while inside."""
    rms = [ResourceManager(site, url) for site in sites if site.config.s2_token]
    tasks = [asyncio.create_task(rm.run(), name=f"s2-rm:{rm.site.config.name}") for rm in rms]
    try:
        yield rms
    finally:
        for rm in rms:
            rm.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
