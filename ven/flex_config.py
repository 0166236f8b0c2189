"""The VEN's flexibility settings: each site's device (`[sites.asset]` of sites.toml) and the programs'
rules and the rolling plan (`[flex]` of ven.toml), validated at start-up."""

import math
from dataclasses import dataclass, field
from datetime import time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mapping.dispatch_tracking import DEFAULT_TOLERANCE_KW, DEFAULT_TOLERANCE_SHARE
from mapping.flex.devices import KINDS, Device, check_device
from mapping.flex.program import DEFAULT_SIMPLE_SHED, ProgramRules, Programs, check_rules
from mapping.grid import LOCAL_ZONE
from mapping.refusal import Refused
from mapping.settings import ConfigError, Table

#: the keys of [sites.asset]
ASSET_KEYS = {
    "kind",
    "flexmeasures_type",
    "power_kw",
    "capacity_kwh",
    "reserve_percent",
    "roundtrip_efficiency_percent",
    "arrival",
    "departure",
    "arrival_soc_percent",
    "departure_soc_percent",
    "peak_kw",
}
#: default sizes per kind when sites.toml gives none: a home battery, a 7.4 kW wallbox, an 11 kW V2G charger
_DEFAULT_SIZES = {"battery": (5.0, 10.0), "evse": (7.4, 60.0), "v2g": (11.0, 60.0), "pv": (3.0, 0.0)}
_RULE_KEYS = {"simple_shed", "allow_export", "preparation", "preparation_margin_kw", "recovery"}


@dataclass(frozen=True)
class FlexSettings:
    """How the VEN plans each site's device with FlexMeasures (`[flex]` of ven.toml)."""

    #: how far ahead each plan looks
    horizon: timedelta = timedelta(hours=36)
    #: how often every site is planned again (besides new events and their changes)
    replan_every: timedelta = timedelta(minutes=15)
    programs: Programs = field(default_factory=Programs)
    #: the sites' local time: their household profile and their EVs' sessions are in it
    time_zone: tzinfo = ZoneInfo(LOCAL_ZONE)
    #: scheduled versus actual: a quarter hour strays when |actual − planned| > max(kW, percent of |planned|)
    tracking_tolerance_kw: float = DEFAULT_TOLERANCE_KW
    tracking_tolerance_percent: float = DEFAULT_TOLERANCE_SHARE * 100


def _number(table: Table, key: str, default: float) -> float:
    value = table.data.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ConfigError(f"{table.path}.{key}: expected a number, got {value!r}")
    return float(value)


def _clock(table: Table, key: str, default: time) -> time:
    value = table.data.get(key)
    if value is None:
        return default
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f'{table.path}.{key}: expected a local time such as "17:30", got {value!r}') from exc


def parse_device(table: Table) -> Device | None:
    """The site's device from [sites.asset] (None without one), with its sizes and its owner's settings checked."""
    if not table.data:
        return None
    table.reject_unknown(ASSET_KEYS)
    kind = table.string("kind")
    if kind not in KINDS:
        raise ConfigError(f"{table.path}.kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    power, capacity = _DEFAULT_SIZES[kind]
    if kind == "pv":  # an inverter sized to its array unless told otherwise
        power = _number(table, "peak_kw", power)
    defaults = Device(kind, power)
    device = Device(
        kind=kind,
        power_kw=_number(table, "power_kw", power),
        capacity_kwh=_number(table, "capacity_kwh", capacity),
        reserve_percent=_number(table, "reserve_percent", 40.0 if kind == "v2g" else defaults.reserve_percent),
        roundtrip_efficiency_percent=_number(table, "roundtrip_efficiency_percent", defaults.roundtrip_efficiency_percent),
        arrival=_clock(table, "arrival", defaults.arrival),
        departure=_clock(table, "departure", defaults.departure),
        arrival_soc_percent=_number(table, "arrival_soc_percent", defaults.arrival_soc_percent),
        departure_soc_percent=_number(table, "departure_soc_percent", defaults.departure_soc_percent),
        peak_kw=_number(table, "peak_kw", power if kind == "pv" else 0.0),
    )
    try:
        return check_device(device)
    except Refused as exc:
        raise ConfigError(f"{table.path}.{exc.field}: {exc.reason}") from exc


def _rules(table: Table, default: ProgramRules) -> ProgramRules:
    shed = table.data.get("simple_shed", list(default.simple_shed))
    if not isinstance(shed, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in shed):
        raise ConfigError(f"{table.path}.simple_shed: expected four shares, e.g. {list(DEFAULT_SIMPLE_SHED)}")
    rules = ProgramRules(
        simple_shed=tuple(float(v) for v in shed),  # type: ignore[arg-type]
        allow_export=table.boolean("allow_export", default.allow_export),
        preparation=table.duration("preparation", default.preparation),
        preparation_margin_kw=_number(table, "preparation_margin_kw", default.preparation_margin_kw),
        recovery=table.duration("recovery", default.recovery),
    )
    try:
        return check_rules(rules)
    except Refused as exc:
        raise ConfigError(f"{table.path}.{exc.field}: {exc.reason}") from exc


def _time_zone(table: Table) -> tzinfo:
    """An IANA zone ("America/Martinique") or a fixed offset ("UTC-04:00")."""
    name = table.string("time_zone", LOCAL_ZONE)
    if name.startswith("UTC") and len(name) > 3:
        sign, hours, minutes = name[3], *name[4:].split(":")
        try:
            offset = timedelta(hours=int(hours), minutes=int(minutes))
        except ValueError as exc:
            raise ConfigError(f"{table.path}.time_zone: expected UTC±HH:MM, got {name!r}") from exc
        if sign not in "+-" or offset >= timedelta(hours=24):
            raise ConfigError(f"{table.path}.time_zone: expected UTC±HH:MM, got {name!r}")
        return timezone(offset if sign == "+" else -offset)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{table.path}.time_zone: {name!r} is not a time zone (an IANA name or UTC±HH:MM)") from exc


def parse_flex(table: Table) -> FlexSettings:
    """[flex]: the rolling plan, the default program rules and `[flex.programs."<marketContext>"]` overrides."""
    table.reject_unknown({"horizon", "replan_every", "programs", "time_zone"} | _TRACKING_KEYS | _RULE_KEYS)
    default = _rules(table, ProgramRules())
    programs_table = table.table("programs")
    by_context: dict[str, ProgramRules] = {}
    for context in programs_table.data:
        program = programs_table.table(context)
        program.reject_unknown(_RULE_KEYS)
        by_context[context] = _rules(program, default)
    horizon = table.positive_duration("horizon", "PT36H", minimum=timedelta(hours=1))
    return FlexSettings(
        horizon=horizon,
        replan_every=table.positive_duration("replan_every", "PT15M", minimum=timedelta(minutes=1)),
        programs=Programs(default, by_context),
        time_zone=_time_zone(table),
        **_tracking(table),
    )


_TRACKING_KEYS = {"tracking_tolerance_kw", "tracking_tolerance_percent"}


def _tracking(table: Table) -> dict[str, float]:
    """The scheduled-versus-actual tolerance (docs/ven.md): kW ≥ 0, percent 0–100."""
    kw = _number(table, "tracking_tolerance_kw", DEFAULT_TOLERANCE_KW)
    percent = _number(table, "tracking_tolerance_percent", DEFAULT_TOLERANCE_SHARE * 100)
    if kw < 0:
        raise ConfigError(f"{table.path}.tracking_tolerance_kw: {kw:g} is below 0")
    if not 0 <= percent <= 100:
        raise ConfigError(f"{table.path}.tracking_tolerance_percent: {percent:g} is outside 0–100")
    return {"tracking_tolerance_kw": kw, "tracking_tolerance_percent": percent}
