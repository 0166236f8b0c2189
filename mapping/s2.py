"""S2 (EN 50491-12-2) dispatch, the pure half: which control type a device gets, what its Resource Manager (RM)
says about it in place of sites.toml, and a FlexMeasures schedule as FRBC instructions or PEBC envelopes.

The VEN's CEM (ven/s2/) turns S2 messages into the plain records below and back; nothing here knows the wire.
Power is kW, consumption positive, as everywhere in Cariflex (S2 carries W with the same sign: the CEM
converts). One instruction per quarter hour of the schedule; its id is derived from the site, the device, the
slot and what it asks (`step_id`), so the same plan made twice, or sent again after a reconnection or a VEN
restart, carries the same ids: an RM recognises an instruction it already holds and never applies it twice.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mapping.flex.devices import STORAGE_KINDS, Device
from mapping.grid import QUARTER
from mapping.refusal import Refused

#: S2's control type names (s2-python's ControlType values)
FRBC = "FILL_RATE_BASED_CONTROL"
PEBC = "POWER_ENVELOPE_BASED_CONTROL"
NOT_CONTROLABLE = "NOT_CONTROLABLE"
#: what each device kind is dispatched with, best first; NOT_CONTROLABLE last: the device is then metered only
PREFERRED = {kind: (FRBC, NOT_CONTROLABLE) for kind in STORAGE_KINDS} | {"pv": (PEBC, NOT_CONTROLABLE)}
#: the namespace of instruction ids (uuid5): fixed, so ids survive a VEN restart
_IDS = uuid.UUID("6f0f5c52-5d0e-4c1b-9a51-2c0de5f1e7a1")
#: a kW difference below this is no difference (FlexMeasures' values carry float noise)
KW_TOLERANCE = 1e-3


def select_control_type(kind: str, available: Iterable[str]) -> str:
    """The control type the CEM selects for a device of `kind` among those its RM offers; Refused when the RM
    offers none the CEM can use for it (the RM's session is then refused, saying which it should offer)."""
    offered = set(available)
    wanted = PREFERRED.get(kind, (NOT_CONTROLABLE,))
    for control_type in wanted:
        if control_type in offered:
            return control_type
    raise Refused("available_control_types", f"a {kind} needs one of {', '.join(wanted)}; the RM offers {sorted(offered)}")


def _version_key(version: str) -> tuple[tuple[int, ...], bool]:
    """Semantic-version order: the numeric core, a pre-release (`-beta`) before its release."""
    core, _, pre = version.partition("-")
    return tuple(int(part) if part.isdigit() else 0 for part in core.split(".")), not pre


def select_protocol_version(ours: str, offered: Sequence[str]) -> str:
    """The S2 version the CEM selects (HandshakeResponse) among those the RM's Handshake lists: `ours` when listed
    (or when the RM lists none), else the newest listed with our major version: tolerant, as FlexMeasures' own
    CEM (flexmeasures-client) is, since every message is still validated against our version's schema, so a real
    difference is answered naming its field. An RM offering no version of our major is Refused (its session is
    then closed, saying which it should offer)."""
    if not offered or ours in offered:
        return ours
    major = ours.split(".")[0]
    same = [version for version in offered if version.split(".")[0] == major]
    if not same:
        raise Refused("supported_protocol_versions", f"no common S2 version: this CEM speaks {ours}, the RM {', '.join(offered)}")
    return max(same, key=_version_key)


@dataclass(frozen=True)
class OperationMode:
    """One FRBC operation mode of the device's actuator: power from `low_kw` (factor 0) to `high_kw` (factor 1)."""

    id: str
    low_kw: float
    high_kw: float
    #: used only in abnormal conditions: never chosen for a schedule
    abnormal_only: bool = False

    def contains(self, kw: float) -> bool:
        """Whether this mode can draw `kw`."""
        low, high = sorted((self.low_kw, self.high_kw))
        return low - KW_TOLERANCE <= kw <= high + KW_TOLERANCE


@dataclass(frozen=True)
class FrbcDevice:
    """What an FRBC RM described: its actuator's modes, its storage's fill level range and label, its present
    fill level and its fill level targets ((start, end, lowest, highest) in the label's unit)."""

    actuator_id: str
    modes: tuple[OperationMode, ...]
    fill_min: float = 0.0
    fill_max: float = 100.0
    #: "%" (a share of the capacity) or "kWh"; anything else is not read as a state of charge
    fill_label: str = "%"
    fill_level: float | None = None
    targets: tuple[tuple[datetime, datetime, float, float], ...] = ()
    #: FRBC.LeakageBehaviour: (lowest, highest fill level, leakage per second in the label's unit) per element
    leakage: tuple[tuple[float, float, float], ...] = ()
    #: FRBC.UsageForecast: (start, end, expected usage per second in the label's unit; positive drains it) per element
    usage: tuple[tuple[datetime, datetime, float], ...] = ()


@dataclass(frozen=True)
class PebcDevice:
    """What a PEBC RM described: the id of its power constraints and the envelope it allows (kW)."""

    constraints_id: str
    lowest_kw: float
    highest_kw: float


def usable_modes(device: FrbcDevice) -> tuple[OperationMode, ...]:
    """The modes a schedule may use (not those for abnormal conditions only)."""
    return tuple(mode for mode in device.modes if not mode.abnormal_only)


def device_from_rm(device: Device, frbc: FrbcDevice | None) -> Device:
    """`device` (sites.toml) with what its RM says in place of the configuration wherever it says more: the
    power its modes reach, the capacity when it counts its fill level in kWh, its lowest fill level as the
    reserve. Without an FRBC description, `device` as it is."""
    if frbc is None or device.kind not in STORAGE_KINDS:
        return device
    changes: dict[str, float] = {}
    modes = usable_modes(frbc)
    if modes:
        reach = max(max(abs(m.low_kw), abs(m.high_kw)) for m in modes)
        if reach > 0:
            changes["power_kw"] = reach
    if frbc.fill_label == "kWh" and frbc.fill_max > 0:
        changes["capacity_kwh"] = frbc.fill_max
        changes["reserve_percent"] = min(max(frbc.fill_min / frbc.fill_max * 100, 0.0), 100.0)
    elif frbc.fill_label == "%":
        changes["reserve_percent"] = min(max(frbc.fill_min, 0.0), 100.0)
    return replace(device, **changes)  # type: ignore[arg-type]


def soc_percent_from_rm(frbc: FrbcDevice | None) -> float | None:
    """The storage's present state of charge (%) as its RM last reported it; None when it did not (or counts
    its fill level in a unit that is not a state of charge)."""
    if frbc is None or frbc.fill_level is None:
        return None
    if frbc.fill_label == "%":
        return frbc.fill_level
    if frbc.fill_label == "kWh" and frbc.fill_max > 0:
        return frbc.fill_level / frbc.fill_max * 100
    return None


def soc_targets_from_rm(frbc: FrbcDevice | None, capacity_kwh: float) -> list[tuple[datetime, float]]:
    """The RM's fill level targets as FlexMeasures state-of-charge targets (end of each element, kWh: the
    lowest level it asks), for a storage of `capacity_kwh`."""
    if frbc is None:
        return []
    scale = capacity_kwh / 100 if frbc.fill_label == "%" else 1.0 if frbc.fill_label == "kWh" else None
    if scale is None:
        return []
    return [(end, low * scale) for _, end, low, _ in frbc.targets if low > frbc.fill_min]


@dataclass(frozen=True)
class Step:
    """One instruction of a plan: from `slot` (its execution time) for a quarter hour.

    FRBC: `mode_id` at `factor` (0–1) of the actuator `target_id`; PEBC: the envelope [`lower_kw`, `upper_kw`]
    under the power constraints `target_id`. `kw` is what the schedule asks."""

    id: str
    slot: datetime
    kw: float
    target_id: str
    mode_id: str = ""
    factor: float = 0.0
    lower_kw: float = 0.0
    upper_kw: float = 0.0


def step_id(site: str, kind: str, slot: datetime, *what: object) -> str:
    """The id of the instruction for `site`'s `kind` at `slot` asking `what`: the same plan, the same id."""
    return str(uuid.uuid5(_IDS, "/".join([site, kind, slot.isoformat(), *(str(w) for w in what)])))


def choose_mode(modes: Sequence[OperationMode], kw: float) -> tuple[OperationMode, float]:
    """The mode and factor that draw `kw`: a mode whose range holds it (the narrowest), else the one that comes
    closest, at its nearest end. Refused without any mode."""
    if not modes:
        raise Refused("operation_modes", "the RM described no operation mode a schedule may use")

    def gap(mode: OperationMode) -> float:
        low, high = sorted((mode.low_kw, mode.high_kw))
        return max(low - kw, kw - high, 0.0)

    mode = min(modes, key=lambda m: (gap(m), abs(m.high_kw - m.low_kw)))
    span = mode.high_kw - mode.low_kw
    factor = 0.0 if abs(span) < 1e-12 else (kw - mode.low_kw) / span
    return mode, round(min(max(factor, 0.0), 1.0), 4)


def frbc_steps(site: str, kind: str, start: datetime, values_kw: Sequence[float], device: FrbcDevice) -> list[Step]:
    """A schedule (kW per quarter hour from `start`) as one FRBC instruction per quarter hour."""
    modes = usable_modes(device)
    steps = []
    for i, kw in enumerate(values_kw):
        slot = start + i * QUARTER
        mode, factor = choose_mode(modes, kw)
        ident = step_id(site, kind, slot, device.actuator_id, mode.id, f"{factor:.4f}")
        steps.append(Step(ident, slot, round(kw, 3), device.actuator_id, mode.id, factor))
    return steps


def pebc_steps(site: str, kind: str, start: datetime, values_kw: Sequence[float], device: PebcDevice) -> list[Step]:
    """A PV schedule (negative: production) as one PEBC envelope per quarter hour: never below the scheduled
    power (produce at most what the schedule lets it), never above the highest the RM allows (nor above 0
    unless the RM says it may consume)."""
    steps = []
    for i, kw in enumerate(values_kw):
        slot = start + i * QUARTER
        lower = round(min(max(kw, device.lowest_kw), device.highest_kw), 3)
        upper = round(max(min(device.highest_kw, 0.0), lower), 3)
        ident = step_id(site, kind, slot, device.constraints_id, f"{lower:.3f}", f"{upper:.3f}")
        steps.append(Step(ident, slot, round(kw, 3), device.constraints_id, lower_kw=lower, upper_kw=upper))
    return steps


def due(steps: Iterable[Step], now: datetime, lookahead: timedelta) -> list[Step]:
    """The steps to hold at the RM now: the one in force and those starting within `lookahead`."""
    return [s for s in steps if s.slot + QUARTER > now and s.slot <= now + lookahead]


def changes(held: Mapping[datetime, Step], plan: Sequence[Step], now: datetime) -> tuple[list[Step], list[Step]]:
    """What a new plan changes at the RM: the held steps to revoke (those not over yet whose slot the plan asks
    something else of, or no longer covers) and the plan's steps not held as they are."""
    wanted = {s.slot: s for s in plan}
    revoke = [old for slot, old in held.items() if slot + QUARTER > now and (slot not in wanted or wanted[slot].id != old.id)]
    held_ids = {s.id for s in held.values()}
    send = [s for s in plan if s.id not in held_ids]
    return revoke, send


def _kwh_per_unit(frbc: FrbcDevice, capacity_kwh: float) -> float | None:
    """kWh per unit of the RM's fill level: capacity / 100 for "%", 1 for "kWh", None for anything else."""
    return capacity_kwh / 100 if frbc.fill_label == "%" else 1.0 if frbc.fill_label == "kWh" else None


def leakage_kw_from_rm(frbc: FrbcDevice | None, capacity_kwh: float) -> float:
    """The RM's leakage as the power (kW) it drains from the storage: S2 gives it as fill level lost per second in
    each fill level range, a fixed amount while the level stays in that range — the range holding the present level
    (else the fullest one, the worst case); 0 without leakage or with a fill level unit that is not energy. A drain,
    not FlexMeasures' storage-efficiency: that is a share of whatever is stored, and taking it at one level would
    overstate the loss at any higher level the plan reaches."""
    scale = _kwh_per_unit(frbc, capacity_kwh) if frbc is not None else None
    if frbc is None or not frbc.leakage or scale is None:
        return 0.0
    level = frbc.fill_level
    holding = [e for e in frbc.leakage if level is not None and e[0] <= level <= e[1]]
    _low, _high, rate = holding[0] if holding else max(frbc.leakage, key=lambda e: e[1])
    return max(rate, 0.0) * scale * 3600


def soc_usage_from_rm(frbc: FrbcDevice | None, capacity_kwh: float, slots: Sequence[datetime]) -> list[tuple[datetime, float]]:
    """The RM's usage forecast and leakage as the power (kW, positive: it drains the storage, negative: it fills
    it) they take in each quarter hour of `slots` (the forecast's rates weighted by how much of the quarter hour each
    covers, plus `leakage_kw_from_rm`); empty when neither is said or the fill level unit is not energy."""
    scale = _kwh_per_unit(frbc, capacity_kwh) if frbc is not None else None
    if frbc is None or scale is None:
        return []
    leak = leakage_kw_from_rm(frbc, capacity_kwh)
    found = []
    for slot in slots:
        end = slot + QUARTER
        energy = sum(rate * max((min(end, e) - max(slot, s)).total_seconds(), 0.0) for s, e, rate in frbc.usage)
        found.append((slot, round(energy * scale / QUARTER.total_seconds() * 3600 + leak, 4)))
    return found if any(kw for _, kw in found) else []
