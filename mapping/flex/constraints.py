"""What an OpenADR event asks of a site, as FlexMeasures-ready constraints. Pure.

Sign convention: consumption (import) is positive. A signal asks for a change against what the site would
have done — the event's eiEventBaseline when it carries one, else the site's own forecast
(`LoadForecast`) — never against its subscription: a reduction is an import *ceiling* below that load, a
request for more consumption a *floor* above it, a target below zero a request for export (only where the
program allows export). Absolute grid limits (x-IMPORT/EXPORT_CAPACITY_LIMIT) stay absolute. Prices are in
the site's currency per kWh (energy) or per kW (peak demand); state-of-charge targets are kWh at an instant.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mapping.flex.program import ProgramRules, Programs
from mapping.flex.units import UnitRefused, energy_kwh, power_kw, price_per_kw, price_per_kwh
from mapping.grid import QUARTER, floor_slot
from mapping.oadr import model as m
from mapping.refusal import Refused

#: absolute grid limits on the site's import and export (kW): what the grid operator's capacity signals set
IMPORT_LIMIT, EXPORT_LIMIT = "import_limit_kw", "export_limit_kw"
#: what an event asks against the site's load: import at most (ceiling) or at least (floor) this many kW
#: (below zero: export at least that much)
IMPORT_CEILING, IMPORT_FLOOR = "import_ceiling_kw", "import_floor_kw"
#: the import limit of an event's preparation and recovery windows (kW): getting ready and refilling must not
#: make a peak of their own
PREPARATION_CEILING = "preparation_ceiling_kw"
PRICE, PEAK_PRICE = "consumption_price_per_kwh", "peak_consumption_price_per_kw"
SOC_TARGET, SOC_MINIMUM = "soc_target_kwh", "soc_minimum_kwh"
#: kinds whose stricter value is the lower one (limits) — for the others the higher one is stricter
LOWER_IS_STRICTER = (IMPORT_LIMIT, EXPORT_LIMIT, IMPORT_CEILING, PREPARATION_CEILING)
INSTANT_KINDS = (SOC_TARGET, SOC_MINIMUM)


class SignalRefused(Refused):
    """A signal this site cannot turn into constraints: the field is the signal's name; the message goes to optOut."""


@dataclass(frozen=True)
class LoadForecast:
    """What the site would import without any event (kW per 15-minute slot start), and how much of that it
    can shed (its flexible load: what its devices can stop drawing or cover); slots not given take the
    defaults."""

    expected_kw: Mapping[datetime, float] = field(default_factory=dict)
    flexible_kw: Mapping[datetime, float] = field(default_factory=dict)
    default_expected_kw: float = 0.0
    default_flexible_kw: float = 0.0

    def expected(self, start: datetime, end: datetime) -> float:
        """The mean expected import over [start, end)."""
        return _mean(self.expected_kw, self.default_expected_kw, start, end)

    def flexible(self, start: datetime, end: datetime) -> float:
        """The mean flexible load over [start, end)."""
        return _mean(self.flexible_kw, self.default_flexible_kw, start, end)


def _mean(series: Mapping[datetime, float], default: float, start: datetime, end: datetime) -> float:
    slots, slot = [], floor_slot(start)
    while slot < end or not slots:
        slots.append(series.get(slot, default))
        slot += QUARTER
    return sum(slots) / len(slots)


@dataclass(frozen=True)
class SiteFacts:
    """What the mapping needs to know about a site."""

    contracted_kw: float
    #: the expected import where no forecast is given (kW)
    baseline_kw: float = 0.0
    #: the flexible load where no forecast is given (kW); None: all of the expected load
    flexible_kw: float | None = None
    base_price_per_kwh: float | None = None
    storage_capacity_kwh: float | None = None
    currency: str = "EUR"
    #: the site's export contract (kW): what it may ever export
    export_kw: float = 0.0
    forecast: LoadForecast | None = None
    programs: Programs = Programs()

    def load(self) -> LoadForecast:
        """The site's forecast, or one flat at its baseline."""
        if self.forecast is not None:
            return self.forecast
        flexible = self.baseline_kw if self.flexible_kw is None else self.flexible_kw
        return LoadForecast(default_expected_kw=self.baseline_kw, default_flexible_kw=flexible)


@dataclass(frozen=True)
class Constraint:
    """One requirement over [start, end) (instants: start == end) from one event interval."""

    kind: str
    start: datetime
    end: datetime
    value: float
    priority: int
    event_id: str


def _priority_rank(priority: int | None) -> int:
    """Lower rank wins: 2.0b priority 1 is highest; 0 or absent means none (lowest)."""
    return priority if priority and priority > 0 else 2**31


def _level(level: float, name: str) -> int:
    index = int(round(level))
    if not 0 <= index <= 3 or abs(level - index) > 1e-9:
        raise SignalRefused(name, f"level {level:g} is not one of 0, 1, 2, 3")
    return index


@dataclass(frozen=True)
class _Span:
    """One event interval and what the site would have done over it."""

    start: datetime
    end: datetime
    expected_kw: float
    flexible_kw: float
    rules: ProgramRules


def _target(value: float, span: _Span) -> list[tuple[str, float]]:
    """A target import relative to the expected load: a ceiling when it asks for less than expected, a floor
    when for more. A reduction deeper than the whole import stops at zero where the program does not ask for
    export: the site delivers what it can without becoming an exporter."""
    if value > span.expected_kw:
        return [(IMPORT_FLOOR, value)]
    return [(IMPORT_CEILING, value if span.rules.allow_export else max(value, 0.0))]


def _shed(span: _Span, share: float, name: str) -> list[tuple[str, float]]:
    """What a SIMPLE level asks over one interval; nothing where the site has nothing to shed (an EV that has
    finished charging): `event_constraints` refuses the event only when that holds for all of it."""
    if share <= 0 or span.flexible_kw <= 1e-9:
        return []
    # shedding never turns into export: a site exports only where its program asks for it
    return [(IMPORT_CEILING, max(span.expected_kw - share * span.flexible_kw, 0.0))]


def _sheds(signal: m.Signal, value: float, rules: ProgramRules) -> bool:
    """Whether an interval value is a level that asks for a shed (SIMPLE, level offsets) above zero."""
    if signal.name in ("SIMPLE", "simple") or (signal.name == "LOAD_CONTROL" and signal.type == "x-loadControlLevelOffset"):
        index = int(round(max(0.0, min(3.0, value))))
        return rules.simple_shed[index] > 0
    return False


def _asks(signal: m.Signal, value: float, span: _Span, site: SiteFacts) -> list[tuple[str, float]]:
    """(kind, value) pairs one interval value asks for; empty when it asks nothing of FlexMeasures."""
    name, kind, unit, expected = signal.name, signal.type, signal.unit, span.expected_kw
    if name == "x-IMPORT_CAPACITY_LIMIT":
        return [(IMPORT_LIMIT, power_kw(value, unit))]
    if name == "x-EXPORT_CAPACITY_LIMIT":
        return [(EXPORT_LIMIT, power_kw(value, unit))]
    if name in ("SIMPLE", "simple"):
        return _shed(span, span.rules.simple_shed[_level(value, name)], name)
    if name == "LOAD_DISPATCH":
        if kind == "setpoint":
            target = power_kw(value, unit)
            return [(IMPORT_CEILING, target), (IMPORT_FLOOR, target)]
        if kind == "delta":
            return _target(expected + power_kw(value, unit), span)
        if kind == "multiplier":
            if value < 0:
                raise SignalRefused(name, f"multiplier {value:g} is negative")
            return _target(expected * value, span)
    if name == "LOAD_CONTROL":
        if kind == "x-loadControlCapacity":
            if not 0.0 <= value <= 1.0:
                raise SignalRefused(name, f"x-loadControlCapacity {value:g} is outside 0–1")
            return [(IMPORT_CEILING, expected * value)]
        if kind == "x-loadControlPercentOffset":
            return _target(expected * (1.0 + value / 100.0), span)
        if kind == "x-loadControlLevelOffset":
            return _shed(span, span.rules.simple_shed[_level(max(0.0, min(3.0, value)), name)], name)
        if kind == "x-loadControlSetpoint":
            target = power_kw(value, unit)
            return [(IMPORT_CEILING, target), (IMPORT_FLOOR, target)]
    if name in ("ELECTRICITY_PRICE", "ENERGY_PRICE"):
        if kind == "price":
            return [(PRICE, price_per_kwh(value, unit, site.currency))]
        if site.base_price_per_kwh is None:
            raise SignalRefused(name, f"{kind} needs the site's base price, which is not configured")
        if kind == "priceRelative":
            return [(PRICE, site.base_price_per_kwh + price_per_kwh(value, unit, site.currency))]
        if kind == "priceMultiplier":
            return [(PRICE, site.base_price_per_kwh * value)]
    if name == "DEMAND_CHARGE" and kind == "price":
        return [(PEAK_PRICE, price_per_kw(value, unit, site.currency))]
    if name == "CHARGE_STATE":
        if site.storage_capacity_kwh is None:
            raise SignalRefused(name, "needs a battery or EV at the site")
        if kind == "setpoint":
            return [(SOC_TARGET, min(energy_kwh(value, unit), site.storage_capacity_kwh))]
        if kind == "x-loadControlLevelOffset":
            raise SignalRefused(name, "level offsets are not supported")
    if name.startswith("BID_"):
        return []  # bids are recorded and acknowledged, not constraints
    raise SignalRefused(name, f"the signal of type {kind} is not supported")


def _checked(kind: str, value: float, name: str, site: SiteFacts, rules: ProgramRules) -> float:
    """A limit or floor within what the site's contracts and the program allow (refused when it cannot be)."""
    if kind == EXPORT_LIMIT:
        if value < 0:
            raise SignalRefused(name, f"asks for a negative export limit ({value:g} kW)")
        return value
    if kind == IMPORT_LIMIT and value < 0:
        raise SignalRefused(name, f"asks for a negative import limit ({value:g} kW)")
    if kind in (IMPORT_CEILING, IMPORT_FLOOR) and value < -1e-9:
        if not rules.allow_export:
            raise SignalRefused(name, f"asks for {-value:g} kW of export, which this program does not ask sites for")
        if -value > site.export_kw + 1e-9:
            raise SignalRefused(
                name, f"asks for {-value:g} kW of export, above the site's export contract ({site.export_kw:g} kW)"
            )
    return min(value, site.contracted_kw)


def _baseline_kw(event: m.Event, start: datetime, end: datetime) -> float | None:
    """The event's eiEventBaseline over [start, end) (its interval covering `start`), None without one."""
    baseline = event.baseline
    if baseline is None or not baseline.intervals:
        return None
    cursor = baseline.intervals[0].dtstart or event.dtstart
    for interval in baseline.intervals:
        begin = interval.dtstart or cursor
        cursor = begin + interval.duration
        if begin <= start < cursor or (begin <= start and interval.duration <= timedelta(0)):
            try:
                return power_kw(interval.value, baseline.unit)
            except UnitRefused as exc:
                raise SignalRefused(f"eiEventBaseline.{exc.field}", exc.reason) from exc
    return None


def _around(reductions: list[Constraint], event: m.Event, site: SiteFacts, rules: ProgramRules) -> list[Constraint]:
    """The import limits of the preparation window before an event that asks for a reduction against the site's
    load, and of the recovery window after it: the expected load plus the program's margin, so that getting
    ready neither makes a new peak nor inflates the baseline the reduction is measured against, and refilling
    does not rebound at once. (An absolute grid limit has no such windows.)"""
    if not reductions:
        return []
    first, last = min(c.start for c in reductions), max(c.end for c in reductions)
    recovery = event.recovery if event.recovery is not None else rules.recovery
    windows = ((floor_slot(first - rules.preparation), first), (last, last + recovery))
    load, limits = site.load(), []
    for start, end in windows:
        slot = start
        while slot < end:
            stop = min(floor_slot(slot) + QUARTER, end)
            limit = min(load.expected(slot, stop) + rules.preparation_margin_kw, site.contracted_kw)
            limits.append(Constraint(PREPARATION_CEILING, slot, stop, max(limit, 0.0), reductions[0].priority, event.event_id))
            slot = stop
    return limits


def _relative(signal: m.Signal) -> bool:
    """Whether the signal's values ask for something relative to the site's expected load."""
    if signal.name in ("SIMPLE", "simple"):
        return True
    if signal.name == "LOAD_DISPATCH":
        return signal.type in ("delta", "multiplier")
    return signal.name == "LOAD_CONTROL" and signal.type != "x-loadControlSetpoint"


def _pieces(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at quarter-hour boundaries."""
    pieces, cursor = [], start
    while cursor < end:
        stop = min(floor_slot(cursor) + QUARTER, end)
        pieces.append((cursor, stop))
        cursor = stop
    return pieces or [(start, end)]


def _append_joined(constraints: list[Constraint], new: Constraint) -> None:
    """Append `new`, or extend the last constraint when `new` continues it with the same kind and value."""
    last = constraints[-1] if constraints else None
    if (
        last is not None
        and new.kind not in INSTANT_KINDS
        and (last.kind, last.end, last.priority, last.event_id) == (new.kind, new.start, new.priority, new.event_id)
        and abs(last.value - new.value) < 1e-9
    ):
        constraints[-1] = Constraint(last.kind, last.start, new.end, last.value, last.priority, last.event_id)
    else:
        constraints.append(new)


def event_constraints(event: m.Event, site: SiteFacts) -> list[Constraint]:
    """Every constraint of an event, each against what the site would have done over its interval (the event's
    eiEventBaseline, else the site's forecast), within the site's contracts and its program's rules, plus the
    preparation window's import limit; refuses what it cannot express or the program does not allow."""
    constraints: list[Constraint] = []
    shed: set[str] = set()  # signals whose levels asked a shed somewhere the site could shed
    unshed: set[str] = set()  # signals whose levels asked a shed where the site had nothing to shed
    rank = _priority_rank(event.priority)
    rules = site.programs.rules(event.market_context)
    load = site.load()
    for signal in event.signals:
        cursor = event.dtstart
        for interval in signal.intervals:
            start = interval.dtstart or cursor
            end = start + interval.duration if interval.duration > timedelta(0) else event.dtstart + event.duration
            cursor = end
            given = _baseline_kw(event, start, end)
            # a request relative to the forecast follows its shape slot by slot (a shed of half the load is half of
            # each quarter hour's load, not a flat ceiling at half the interval's mean that binds only at its peak);
            # against a given eiEventBaseline, the interval is one span
            pieces = _pieces(start, end) if given is None and _relative(signal) else [(start, end)]
            for piece_start, piece_end in pieces:
                span = _Span(
                    piece_start,
                    piece_end,
                    load.expected(piece_start, piece_end) if given is None else given,
                    load.flexible(piece_start, piece_end) if given is None else min(given, load.flexible(start, end)),
                    rules,
                )
                try:
                    asks = _asks(signal, interval.value, span, site)
                except UnitRefused as exc:
                    raise SignalRefused(f"{signal.name}.{exc.field}", exc.reason) from exc
                if not asks and _sheds(signal, interval.value, rules):
                    unshed.add(signal.name)
                elif asks and signal.name in ("SIMPLE", "simple", "LOAD_CONTROL"):
                    shed.add(signal.name)
                for kind, value in asks:
                    if kind in (IMPORT_LIMIT, IMPORT_CEILING, IMPORT_FLOOR, EXPORT_LIMIT):
                        value = _checked(kind, value, signal.name, site, rules)
                    # a state-of-charge target applies at the end of its interval
                    at = piece_end if kind in INSTANT_KINDS else piece_start
                    _append_joined(constraints, Constraint(kind, at, piece_end, value, rank, event.event_id))
    for name in sorted(unshed - shed):
        raise SignalRefused(name, "this site has no flexible load to shed in the event's window")
    reductions = [c for c in constraints if c.kind == IMPORT_CEILING]
    return constraints + _around(reductions, event, site, rules)
