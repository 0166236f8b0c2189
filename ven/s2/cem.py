"""The VEN's S2 CEM: a WebSocket server each paired device's RM connects to, and per device the schedule in force,
the instructions the RM holds and whether it follows them.

A new FlexMeasures schedule (`dispatch`) becomes one instruction per quarter hour (mapping/s2.py); those in force
or starting within `lookahead` are sent now, the later ones as their time comes (`tick`, every second). A plan that
changes revokes (RevokeObject) what the RM holds and no longer fits, and sends the replacement. Instruction ids
come from the plan's content and slot, so a reconnected RM (or a restarted VEN) gets the same ids again: an
instruction already executed is not sent again, and one it holds is recognised as the same.

Not following, as for MQTT setpoints (ven/dispatch_mqtt.py): a device whose RM disconnects while it has something
to follow, refuses an instruction (ReceptionStatus not OK), reports one REJECTED or ABORTED, leaves one unanswered
past `reception_timeout`, or is metered only (NOT_CONTROLABLE), counts as not following; `on_change` is told its
site's name when that changes (the VEN re-plans and tells the VTN per on_breach), and again when it is back.
"""

import asyncio
import logging
import ssl
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus

from s2python.common import CommodityQuantity, InstructionStatus, InstructionStatusUpdate, ReceptionStatus, ReceptionStatusValues
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from mapping.grid import QUARTER
from mapping.refusal import Refused
from mapping.s2 import FRBC, NOT_CONTROLABLE, PEBC, FrbcDevice, PebcDevice, Step, changes, due, frbc_steps, pebc_steps
from ven.config import S2Settings, SiteConfig
from ven.s2 import codec
from ven.s2.pairing import DeviceKey, PairingBook
from ven.s2.session import POLICY, RmSession

log = logging.getLogger("cariflex.ven.s2")
#: how often instructions coming due are sent and unanswered ones checked (seconds)
TICK = 1.0


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@dataclass
class DeviceState:
    """One paired device, across its RM's connections."""

    key: DeviceKey
    session: RmSession | None = None
    resource_id: str = ""
    control_type: str | None = None
    frbc: FrbcDevice | None = None
    pebc: PebcDevice | None = None
    commodity: CommodityQuantity = CommodityQuantity.ELECTRIC_POWER_L1
    #: the RM described its device: instructions may be sent
    ready: bool = False
    fill_level: float | None = None
    measured_kw: float | None = None
    measured_at: datetime | None = None
    #: the schedule in force: (start, kW per quarter hour), and when it was handed over
    schedule: tuple[datetime, tuple[float, ...]] | None = None
    dispatched_at: datetime | None = None
    #: the instructions sent and not revoked, by slot
    held: dict[datetime, Step] = field(default_factory=dict)
    #: the ids the RM acknowledged (OK)
    accepted: set[str] = field(default_factory=set)
    #: sent instructions awaiting their ReceptionStatus: message id → (step, sent at)
    awaiting: dict[uuid.UUID, tuple[Step, datetime]] = field(default_factory=dict)
    failing: bool = False
    why: str = ""
    #: the plan's steps and what they were made from (made again only when that changes, not every tick)
    plan: list[Step] = field(default_factory=list)
    plan_of: tuple = ()


class S2Cem:
    """The CEM of every S2-paired device of this VEN process."""

    def __init__(
        self,
        settings: S2Settings,
        sites: Iterable[SiteConfig],
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.pairing = PairingBook(sites)
        self.ssl_context = ssl_context
        self.clock = clock
        self.devices: dict[DeviceKey, DeviceState] = {key: DeviceState(key) for key in self.pairing.devices()}
        self.counters: Counter[str] = Counter()
        #: called with a site's name when its device starts or stops following (the VEN re-plans and tells the VTN)
        self.on_change: Callable[[str], None] | None = None
        #: the bound port (after `start`)
        self.port: int | None = None
        self._server: Server | None = None
        self._ticker: asyncio.Task | None = None

    # --- the server -------------------------------------------------------------------------

    async def start(self, tick: bool = True) -> None:
        """Listen; with `tick`, send instructions as they come due and check unanswered ones every second."""
        self._server = await serve(
            self._serve,
            self.settings.host,
            self.settings.port,
            ssl=self.ssl_context,
            process_request=self._pair,
            max_size=self.settings.max_frame_bytes,
            # no per-message deflate: it costs ~100 kB per connection and S2 messages are small
            compression=None,
            max_queue=4,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        scheme = "wss" if self.ssl_context else "ws"
        log.info("S2 CEM on %s://%s:%s/ for %d paired devices", scheme, self.settings.host, self.port, len(self.devices))
        if tick and self._ticker is None:
            self._ticker = asyncio.create_task(self._tick_forever(), name="s2-cem-tick")

    async def stop(self) -> None:
        """Close every RM connection and stop listening (the closings re-plan nothing: the VEN is stopping)."""
        self.on_change = None
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _pair(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse (401, before any S2 message) an RM without a known pairing token."""
        if self.pairing.device(request.headers.get("Authorization")) is not None:
            return None
        self.counters["unpaired"] += 1
        log.warning("S2: connection from %s refused: no known pairing token", connection.remote_address)
        return connection.respond(
            HTTPStatus.UNAUTHORIZED,
            "S2 pairing refused: send the device's s2_token (sites.toml) as 'Authorization: Bearer <token>'\n",
        )

    async def _serve(self, connection: ServerConnection) -> None:
        key = self.pairing.device(connection.request.headers.get("Authorization") if connection.request else None)
        if key is None:  # _pair refused it already
            return
        state = self.devices[key]
        if state.session is not None:
            log.warning("%s/%s: a new connection of its RM replaces the one open", key.site, key.kind)
            await state.session.close(POLICY, "replaced by a newer connection of the same device")
        session = RmSession(connection, state, self)
        state.session, state.ready, state.control_type = session, False, None
        self.counters["connections"] += 1
        try:
            await session.run()
        finally:
            if state.session is session:
                await self._detached(state)

    async def _detached(self, state: DeviceState) -> None:
        state.session, state.ready = None, False
        state.awaiting.clear()
        self.counters["disconnections"] += 1
        log.warning("%s/%s: its RM disconnected", state.key.site, state.key.kind)
        if state.schedule is not None:
            self._set_failing(state, True, "its RM disconnected")

    # --- what the VEN asks ------------------------------------------------------------------

    def paired(self, site: str, kind: str) -> bool:
        """Whether `site`'s device of `kind` is dispatched over S2."""
        return DeviceKey(site, kind) in self.devices

    def state(self, site: str, kind: str) -> DeviceState | None:
        """What the CEM knows of that device (None: not paired)."""
        return self.devices.get(DeviceKey(site, kind))

    async def dispatch(self, site: str, kind: str, start: datetime, values_kw: Iterable[float]) -> None:
        """Make this schedule (kW per quarter hour from `start`) the one `site`'s device follows: what is due is
        sent now when its RM is connected, else once it is."""
        state = self.devices[DeviceKey(site, kind)]
        schedule = (start, tuple(round(v, 3) for v in values_kw))
        if state.schedule == schedule:
            return
        state.schedule, state.dispatched_at = schedule, self.clock()
        await self._sync(state)

    def following(self, site: str, kind: str) -> bool | None:
        """True when the RM accepted the instructions it was sent; False when it does not follow (disconnected,
        refused, unanswered, metered only); None while unknown (nothing sent yet)."""
        state = self.devices.get(DeviceKey(site, kind))
        if state is None or state.schedule is None:
            return None
        if state.failing:
            return False
        if state.ready and state.control_type == NOT_CONTROLABLE:
            return False
        return True if any(step.id in state.accepted for step in state.held.values()) else None

    async def tick(self) -> None:
        """Send the instructions that came due; count an instruction unanswered past the timeout, or a device
        whose RM has not connected since its schedule was made, as not followed."""
        now = self.clock()
        timeout = self.settings.reception_timeout
        for state in self.devices.values():
            if state.session is not None and state.ready:
                await self._sync(state)
            for message_id, (step, sent) in list(state.awaiting.items()):
                if now - sent > timeout:
                    del state.awaiting[message_id]
                    self.counters["unanswered"] += 1
                    self._set_failing(state, True, f"no ReceptionStatus for instruction {step.id} within {timeout}")
            stale = state.session is None and state.dispatched_at is not None and now - state.dispatched_at > timeout
            if stale and not state.failing:
                self._set_failing(state, True, f"its RM has not connected within {timeout} of its schedule")

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            try:
                await self.tick()
            except Exception:  # a defect must not stop dispatching: logged, and the next tick tries again
                log.exception("S2: unexpected error sending due instructions")

    # --- what the sessions report -----------------------------------------------------------

    async def ready(self, state: DeviceState) -> None:
        """The RM described its device (or is metered only): hold it to its schedule from now on."""
        state.ready = True
        if state.control_type == NOT_CONTROLABLE:
            log.warning("%s/%s: its RM is NOT_CONTROLABLE: metered only, no schedule reaches it", state.key.site, state.key.kind)
            if self.on_change is not None:
                self.on_change(state.key.site)
            return
        sent = await self._sync(state, fresh=True)
        if not sent:
            self._set_failing(state, False, "its RM is back and holds its instructions")

    async def reception(self, state: DeviceState, status: ReceptionStatus) -> None:
        """A ReceptionStatus: for an instruction, whether the RM takes it."""
        entry = state.awaiting.pop(status.subject_message_id, None)
        if entry is None:
            return  # about the handshake or a control type selection, or too late
        step = entry[0]
        if status.status == ReceptionStatusValues.OK:
            state.accepted.add(step.id)
            self.counters["accepted"] += 1
            if state.held.get(step.slot) == step:
                self._set_failing(state, False, "its RM accepts its instructions again")
            return
        self.counters["refused"] += 1
        why = f"its RM refused instruction {step.id} ({status.status.value}: {status.diagnostic_label or 'no reason given'})"
        self._set_failing(state, True, why)

    async def status_update(self, state: DeviceState, update: InstructionStatusUpdate) -> None:
        """An InstructionStatusUpdate: REJECTED or ABORTED means the device does not follow that instruction."""
        instruction = str(update.instruction_id)
        if not any(step.id == instruction for step in state.held.values()):
            return
        if update.status_type in (InstructionStatus.REJECTED, InstructionStatus.ABORTED):
            self.counters["aborted"] += 1
            self._set_failing(state, True, f"its RM reports instruction {instruction} {update.status_type.value}")

    # --- instructions -----------------------------------------------------------------------

    def _plan(self, state: DeviceState) -> list[Step]:
        frbc = (state.frbc.actuator_id, state.frbc.modes) if state.frbc is not None else None
        made_of = (state.schedule, state.control_type, frbc, state.pebc)
        if made_of != state.plan_of:
            state.plan, state.plan_of = self._make_plan(state), made_of
        return state.plan

    def _make_plan(self, state: DeviceState) -> list[Step]:
        if state.schedule is None:
            return []
        start, values = state.schedule
        site, kind = state.key.site, state.key.kind
        try:
            if state.control_type == FRBC and state.frbc is not None:
                return frbc_steps(site, kind, start, values, state.frbc)
            if state.control_type == PEBC and state.pebc is not None:
                return pebc_steps(site, kind, start, values, state.pebc)
        except Refused as exc:
            log.error("%s/%s: schedule not sent: %s", site, kind, exc)
        return []

    async def _sync(self, state: DeviceState, fresh: bool = False) -> int:
        """Bring what the RM holds in line with the plan; with `fresh` (a new connection), send again what it may
        have lost: the steps still to come (same ids) and the one in force unless it already acknowledged it.
        Returns how many instructions were sent."""
        session = state.session
        if session is None or not state.ready or state.control_type not in (FRBC, PEBC):
            return 0
        now = self.clock()
        # only the steps the RM may hold now: what it holds was due when sent, so nothing outside them is held
        plan = due(self._plan(state), now, self.settings.lookahead)
        revoke, send = changes(state.held, plan, now)
        pebc = state.control_type == PEBC
        for old in revoke:
            del state.held[old.slot]
            state.accepted.discard(old.id)
            self.counters["revoked"] += 1
            if not await session.send(codec.revoke(old, pebc)):
                return 0
        if fresh:
            again = [s for s in state.held.values() if s.slot + QUARTER > now and (s.slot > now or s.id not in state.accepted)]
            send = again + send
        sent = 0
        for step in due(send, now, self.settings.lookahead):
            message = codec.pebc_instruction(step, state.commodity) if pebc else codec.frbc_instruction(step)
            state.held[step.slot] = step
            state.awaiting[message.message_id] = (step, now)
            if not await session.send(message):
                return sent
            sent += 1
            self.counters["sent"] += 1
        for slot in [slot for slot in state.held if slot + QUARTER <= now]:  # over: nothing more to revoke or send
            state.accepted.discard(state.held.pop(slot).id)
        return sent

    def _set_failing(self, state: DeviceState, failing: bool, why: str) -> None:
        if state.failing == failing:
            return
        state.failing, state.why = failing, why
        site, kind = state.key.site, state.key.kind
        if failing:
            log.warning("%s/%s: %s: the device counts as not following its schedule (the site is re-planned)", site, kind, why)
        else:
            log.info("%s/%s: %s: following again", site, kind, why)
        if self.on_change is not None:
            self.on_change(site)
