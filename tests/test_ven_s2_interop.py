"""Interop: an S2 Resource Manager Cariflex did not design, against the VEN's CEM.

NOTE: the RM below is written here in the "third-party" style of s2-python's own example RM
(examples/async_frbc_rm.py in the s2-python repository: an FRBCControlType and a NoControlControlType subclass handed
to ResourceManagerHandler, an AssetDetails, WebsocketClientMedium + S2AsyncConnection, `run()`), kept minimal and
changed only where a CEM in the field requires it: the pairing token as a bearer token (WebsocketClientMedium's own
option) and a list that records the instructions instead of printing them. Its device is the example's: one actuator,
one mode from −200 W to +200 W, a fill level of 0–100 %, a target profile, a storage and an actuator status. Nothing
in it uses Cariflex code, so it shows what any s2-python RM meets.
"""

import asyncio
import datetime
import uuid

from s2python.common import (
    Commodity,
    CommodityQuantity,
    Currency,
    Duration,
    NumberRange,
    PowerRange,
    Role,
    RoleType,
)
from s2python.connection import AssetDetails
from s2python.connection.async_ import S2AsyncConnection
from s2python.connection.async_.control_type.class_based import FRBCControlType, NoControlControlType, ResourceManagerHandler
from s2python.connection.async_.medium.websocket import WebsocketClientMedium
from s2python.frbc import (
    FRBCActuatorDescription,
    FRBCActuatorStatus,
    FRBCFillLevelTargetProfile,
    FRBCFillLevelTargetProfileElement,
    FRBCInstruction,
    FRBCOperationMode,
    FRBCOperationModeElement,
    FRBCStorageDescription,
    FRBCStorageStatus,
    FRBCSystemDescription,
)

from mapping.grid import QUARTER, floor_slot
from tests.support.eventually import eventually
from ven.config import S2Settings, SiteConfig
from ven.s2.cem import S2Cem

TOKEN = "third-party-rm-token-0123456789"


# --- the third-party-style RM (see the module's note) ---------------------------------------------------


class MyFRBCControlType(FRBCControlType):
    def __init__(self) -> None:
        self.activated = asyncio.Event()
        self.received: list[FRBCInstruction] = []
        self.operation_mode_id = uuid.uuid4()

    async def handle_instruction(self, connection, msg, send_okay) -> None:  # noqa: ANN001
        if not isinstance(msg, FRBCInstruction):
            raise RuntimeError(f"Expected an FRBCInstruction but received a message of type {type(msg)}.")
        self.received.append(msg)

    async def activate(self, connection: S2AsyncConnection) -> None:
        actuator_id = uuid.uuid4()
        await connection.send_msg_and_await_reception_status(
            FRBCSystemDescription(
                message_id=uuid.uuid4(),
                valid_from=datetime.datetime.now(tz=datetime.UTC),
                actuators=[
                    FRBCActuatorDescription(
                        id=actuator_id,
                        operation_modes=[
                            FRBCOperationMode(
                                id=self.operation_mode_id,
                                elements=[
                                    FRBCOperationModeElement(
                                        fill_level_range=NumberRange(start_of_range=0.0, end_of_range=100.0),
                                        fill_rate=NumberRange(start_of_range=-5.0, end_of_range=5.0),
                                        power_ranges=[
                                            PowerRange(
                                                start_of_range=-200.0,
                                                end_of_range=200.0,
                                                commodity_quantity=CommodityQuantity.ELECTRIC_POWER_L1,
                                            )
                                        ],
                                    )
                                ],
                                diagnostic_label="Load & unload battery",
                                abnormal_condition_only=False,
                            )
                        ],
                        transitions=[],
                        timers=[],
                        supported_commodities=[Commodity.ELECTRICITY],
                    )
                ],
                storage=FRBCStorageDescription(
                    fill_level_range=NumberRange(start_of_range=0.0, end_of_range=100.0),
                    fill_level_label="%",
                    diagnostic_label="Imaginary battery",
                    provides_fill_level_target_profile=True,
                    provides_leakage_behaviour=False,
                    provides_usage_forecast=False,
                ),
            )
        )
        await connection.send_msg_and_await_reception_status(
            FRBCFillLevelTargetProfile(
                message_id=uuid.uuid4(),
                start_time=datetime.datetime.now(tz=datetime.UTC),
                elements=[
                    FRBCFillLevelTargetProfileElement(
                        duration=Duration.from_milliseconds(30_000),
                        fill_level_range=NumberRange(start_of_range=20.0, end_of_range=30.0),
                    ),
                    FRBCFillLevelTargetProfileElement(
                        duration=Duration.from_milliseconds(300_000),
                        fill_level_range=NumberRange(start_of_range=40.0, end_of_range=50.0),
                    ),
                ],
            )
        )
        await connection.send_msg_and_await_reception_status(FRBCStorageStatus(message_id=uuid.uuid4(), present_fill_level=10.0))
        await connection.send_msg_and_await_reception_status(
            FRBCActuatorStatus(
                message_id=uuid.uuid4(),
                actuator_id=actuator_id,
                active_operation_mode_id=self.operation_mode_id,
                operation_mode_factor=0.5,
            )
        )
        self.activated.set()

    async def deactivate(self, connection: S2AsyncConnection) -> None:
        pass


class MyNoControlControlType(NoControlControlType):
    async def activate(self, connection: S2AsyncConnection) -> None:
        pass

    async def deactivate(self, connection: S2AsyncConnection) -> None:
        pass


async def start_s2_session(url: str, rm_id: uuid.UUID, frbc: MyFRBCControlType) -> S2AsyncConnection:
    rm_handler = ResourceManagerHandler(
        asset_details=AssetDetails(
            resource_id=rm_id,
            name="Some asset",
            instruction_processing_delay=Duration.from_milliseconds(20),
            roles=[Role(role=RoleType.ENERGY_CONSUMER, commodity=Commodity.ELECTRICITY)],
            currency=Currency.EUR,
            provides_forecast=False,
            provides_power_measurements=[CommodityQuantity.ELECTRIC_POWER_L1],
        ),
        control_types=[frbc, MyNoControlControlType()],
    )
    ws_medium = WebsocketClientMedium(url=url, verify_certificate=False, bearer_token=TOKEN)
    await ws_medium.connect()
    s2_conn = S2AsyncConnection(medium=ws_medium)
    rm_handler.register_handlers(s2_conn)
    return s2_conn


# --- the test ------------------------------------------------------------------------------------------


async def test_s2_pythons_example_style_rm_is_paired_described_and_instructed() -> None:
    site = SiteConfig("interop", "interop", asset={"kind": "battery"}, s2_token=TOKEN)
    cem = S2Cem(S2Settings(port=0, lookahead=datetime.timedelta(minutes=20)), [site])
    await cem.start(tick=False)
    frbc = MyFRBCControlType()
    connection = await start_s2_session(f"ws://127.0.0.1:{cem.port}/ws/{uuid.uuid4()}", uuid.uuid4(), frbc)
    running = asyncio.create_task(connection.run())
    try:
        await asyncio.wait_for(frbc.activated.wait(), 10)
        state = cem.state("interop", "battery")
        # FRBC chosen over NOT_CONTROLABLE; its description read: ±0.2 kW, its fill level, its targets
        assert state is not None and state.control_type == "FILL_RATE_BASED_CONTROL"
        assert state.frbc is not None and [(m.low_kw, m.high_kw) for m in state.frbc.modes] == [(-0.2, 0.2)]
        assert state.frbc.fill_level == 10.0 and [t[2:] for t in state.frbc.targets] == [(20.0, 30.0), (40.0, 50.0)]
        start = floor_slot(datetime.datetime.now(datetime.UTC))
        await cem.dispatch("interop", "battery", start, [0.1, -0.2])
        await eventually(lambda: len(frbc.received) == 2, "the example RM's instructions")
        # its one mode at the factor that draws the kW: −0.2 + f × 0.4
        assert [(i.operation_mode, i.operation_mode_factor) for i in frbc.received] == [
            (frbc.operation_mode_id, 0.75),
            (frbc.operation_mode_id, 0.0),
        ]
        assert [i.execution_time for i in frbc.received] == [start, start + QUARTER]
        # the example's handler never calls send_okay: s2-python answers OK for it, which the CEM counts
        await eventually(lambda: cem.following("interop", "battery") is True, "the example RM's ReceptionStatus")
    finally:
        await connection.stop()
        await asyncio.gather(running, return_exceptions=True)
        await cem.stop()
