"""A site's answer to an event: optIn or optOut, with the eventResponse code and a reason. Pure."""

from dataclasses import dataclass
from datetime import datetime

from mapping.flex.constraints import SignalRefused, SiteFacts, event_constraints
from mapping.flex.devices import STORAGE_KINDS, Device
from mapping.flex.forecast import site_forecast
from mapping.flex.units import UnitRefused, power_kw
from mapping.grid import QUARTER, ceil_slot, floor_slot
from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from mapping.oadr.model import OptType
from mapping.oadr.vocabulary import SIGNAL_NAMES
from ven.config import OptPolicy, SiteConfig

#: extension signals this gateway understands (everything else named x-… is not supported)
KNOWN_EXTENSIONS = ("x-IMPORT_CAPACITY_LIMIT", "x-EXPORT_CAPACITY_LIMIT", "x-GHG", "x-CARBON_INTENSITY")
IMPORT_LIMIT_SIGNALS = ("x-IMPORT_CAPACITY_LIMIT",)
#: where a site without coordinates is taken to be (Fort-de-France), for its PV forecast
DEFAULT_PLACE = (14.64, -61.02)


@dataclass(frozen=True)
class OptDecision:
    """optIn/optOut, the code for eventResponse, and why."""

    opt_type: OptType
    code: int
    reason: str


def _import_limit_kw(signal: m.Signal) -> list[float]:
    """The import limits (kW) a signal sets, converted by `mapping.flex.units` (UnitRefused for a unit it cannot read)."""
    if signal.name in IMPORT_LIMIT_SIGNALS or (signal.name == "LOAD_DISPATCH" and signal.type == "setpoint"):
        return [power_kw(i.value, signal.unit) for i in signal.intervals]
    return []


def site_facts(site: SiteConfig, window: tuple[datetime, datetime] | None = None, device: Device | None = None) -> SiteFacts:
    """What the signal mapping needs to know about a site (power factor 1: kVA taken as kW), with its load
    forecast over `window` when given (else a flat baseline at its typical load, none of it flexible).
    `device` is the site's device as its Resource Manager describes it, when it says more than sites.toml."""
    device = device or site.device
    forecast = None
    if window is not None:
        place = (site.latitude or DEFAULT_PLACE[0], site.longitude or DEFAULT_PLACE[1])
        start, end = floor_slot(window[0]), ceil_slot(window[1])
        forecast = site_forecast(device, site.base_load_kw, start, end, site.flex.time_zone, place)
    return SiteFacts(
        contracted_kw=site.contracted_kva,
        baseline_kw=site.base_load_kw,
        flexible_kw=0.0 if device is None else None,
        base_price_per_kwh=site.opt.base_price_per_kwh,
        storage_capacity_kwh=device.capacity_kwh if device is not None and device.kind in STORAGE_KINDS else None,
        export_kw=site.export_kva,
        forecast=forecast,
        programs=site.flex.programs,
    )


def event_window(event: m.Event, site: SiteConfig) -> tuple[datetime, datetime]:
    """The event and its program's preparation window before it: what the site's forecast must cover."""
    preparation = site.flex.programs.rules(event.market_context).preparation
    return event.dtstart - preparation, event.dtstart + max(event.duration, QUARTER)


def enrolled(market_context: str, programs: tuple[str, ...]) -> bool:
    """Whether a site enrolled in `programs` (exact, or a prefix ending in *; none listed: any) takes part."""
    return not programs or any(market_context.startswith(p[:-1]) if p.endswith("*") else market_context == p for p in programs)


def decide(event: m.Event, policy: OptPolicy, site: SiteConfig | None = None) -> OptDecision:
    """Apply the site's policy: a program the site is not enrolled in is refused with 452 (the
    marketContext is not one it knows), unsupported signals with 460, a limit in a unit it cannot
    read (an unknown siScaleCode, say) with the reason, and signals the site cannot express as
    FlexMeasures constraints (when `site` is given) with the reason."""
    if not enrolled(event.market_context, policy.programs):
        return OptDecision(
            OptType.OPT_OUT, ResponseCode.INVALID_ID, f"this site is not enrolled in program {event.market_context}"
        )
    for signal in event.signals:
        if signal.name not in SIGNAL_NAMES and signal.name not in KNOWN_EXTENSIONS:
            return OptDecision(
                OptType.OPT_OUT, ResponseCode.SIGNAL_NOT_SUPPORTED, f"signal {signal.name} is not supported by this site"
            )
        if signal.name in policy.refuse_signals:
            return OptDecision(OptType.OPT_OUT, ResponseCode.OK, f"this site does not take part in {signal.name} events")
    if event.test_event.lower() not in ("false", "") and policy.refuse_test_events:
        return OptDecision(OptType.OPT_OUT, ResponseCode.OK, "this site does not take part in test events")
    for signal in event.signals:
        try:
            limits = _import_limit_kw(signal)
        except UnitRefused as exc:
            return OptDecision(OptType.OPT_OUT, ResponseCode.OK, f"{signal.name}.{exc}")
        if limits and min(limits) < policy.min_import_limit_kw:
            return OptDecision(
                OptType.OPT_OUT,
                ResponseCode.OK,
                f"an import limit of {min(limits):g} kW is below what this site can reach ({policy.min_import_limit_kw:g} kW)",
            )
    if site is not None:
        try:
            event_constraints(event, site_facts(site, event_window(event, site)))
        except SignalRefused as exc:
            return OptDecision(OptType.OPT_OUT, ResponseCode.OK, str(exc))
    return OptDecision(OptType.OPT_IN, ResponseCode.OK, "OK")
