"""What every order or series becomes: one OpenADR event per site (a plan), on the 15-minute clock."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from mapping.oadr import model as m
from mapping.oadr.vocabulary import default_unit, power_kw
from mapping.precedence import MARKET_HIGHEST

#: 2.0b priorities of the aggregators' events, in the market band below every grid limit
#: (`mapping.precedence`): an explicit order beats a standing max-power series for the same site;
#: prices and carbon never compete with limits (other kinds)
PRIORITY = {"order": MARKET_HIGHEST, "max_power": MARKET_HIGHEST + 1, "price": MARKET_HIGHEST + 2, "carbon": MARKET_HIGHEST + 3}

IMPORT_LIMIT = "x-IMPORT_CAPACITY_LIMIT"
CARBON_SIGNAL = "x-CARBON_INTENSITY"


@dataclass(frozen=True)
class SitePlan:
    """One site's event: intervals of `step` from `start` carrying `values` on one signal."""

    site: str
    start: datetime
    step: timedelta
    values: tuple[float, ...]
    signal_name: str
    signal_type: str
    unit: m.ItemUnit | None
    priority: int
    comment: str

    @property
    def end(self) -> datetime:
        """When the event ends."""
        return self.start + self.step * len(self.values)


def price_unit() -> m.ItemUnit | None:
    """EUR per kWh (currencyPerKWh)."""
    return default_unit("ELECTRICITY_PRICE", "price", "EUR")


def carbon_unit() -> m.ItemUnit:
    """kgCO2e per kWh, as a 2.0b customUnit."""
    return m.ItemUnit("customUnit", "carbon intensity", "kgCO2e/kWh", "none")


def kw_unit() -> m.ItemUnit:
    """Real power in kW."""
    return power_kw()
