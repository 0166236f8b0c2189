"""The `[dso]` section of the VTN configuration: the upstream (grid-operator) API."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from mapping.openadr3.payloads import CAPACITY_SIGNALS, CURRENCIES
from mapping.settings import ConfigError, Table

#: scopes a new DSO client gets unless told otherwise
DEFAULT_SCOPES = ("read_all", "read_targets", "write_programs", "write_events")


@dataclass(frozen=True)
class DsoConfig:
    """Upstream API settings; zones are groups of VEN names (poste source, feeder)."""

    market_context_base: str = "http://cariflex.mq/programs/"
    token_lifetime: timedelta = timedelta(hours=1)
    currency: str = "EUR"
    capacity_signal: Mapping[str, str] = field(default_factory=dict)
    zones: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def parse_dso(table: Table) -> DsoConfig:
    """Validate `[dso]` (every key optional)."""
    table.reject_unknown({"market_context_base", "token_lifetime", "currency", "capacity_signal", "zones"})
    defaults = DsoConfig()
    currency = table.string("currency", defaults.currency)
    if currency not in CURRENCIES:
        raise ConfigError(f"{table.path}.currency: {currency!r} is not an ISO 4217 code we know")
    capacity = {}
    for program_id, value in table.table("capacity_signal").data.items():
        if value not in CAPACITY_SIGNALS:
            raise ConfigError(f"{table.path}.capacity_signal.{program_id}: expected one of {', '.join(CAPACITY_SIGNALS)}")
        capacity[program_id] = value
    lifetime = table.duration("token_lifetime", "PT1H")
    if lifetime <= timedelta(0):
        raise ConfigError(f"{table.path}.token_lifetime: must be positive")
    return DsoConfig(
        market_context_base=table.string("market_context_base", defaults.market_context_base),
        token_lifetime=lifetime,
        currency=currency,
        capacity_signal=capacity,
        zones=table.table("zones").string_lists(),
    )
