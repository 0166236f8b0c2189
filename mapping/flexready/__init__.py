"""Flex Ready®-style aggregator data items ↔ OpenADR 2.0b events. Pure: no I/O.

The five data items (the 15-minute clock, maximum power, price, subscribed power, carbon
intensity), orders and their acknowledgements. "Flex Ready®-style": no public specification
exists, so this is our own mapping, never a claim of compliance.

The API: the clock (`clock`: date-times on `mapping.grid`'s slots, windows, steps, as text), units
(`units`), the portfolio of sites (`sites`), orders and series → one event plan per site
(`orders`, `series`, `plans`), acknowledgements (`acks`) and the sites' 15-minute means
(`measurements`, the VEN's time-weighted mean).
"""

from mapping.flexready.acks import ACCEPTED, CANCELLED, PENDING, REFUSED, Ack, Response, site_ack
from mapping.flexready.clock import MAX_SLOTS, grid_time, local_text, step, utc_text, window
from mapping.flexready.measurements import SlotMean, slot_means
from mapping.flexready.orders import DIRECTIONS, MODES, Order, client_id_of, parse_order
from mapping.flexready.plans import CARBON_SIGNAL, IMPORT_LIMIT, PRIORITY, SitePlan, carbon_unit, kw_unit, price_unit
from mapping.flexready.series import Series, parse_series
from mapping.flexready.sites import OBJECTIVES, Portfolio, Site, split
from mapping.flexready.units import UNITS, canonical, finite, to_canonical, unit_factor

__all__ = [
    "ACCEPTED",
    "CANCELLED",
    "CARBON_SIGNAL",
    "DIRECTIONS",
    "IMPORT_LIMIT",
    "MAX_SLOTS",
    "MODES",
    "OBJECTIVES",
    "PENDING",
    "PRIORITY",
    "REFUSED",
    "UNITS",
    "Ack",
    "Order",
    "Portfolio",
    "Response",
    "Series",
    "Site",
    "SitePlan",
    "SlotMean",
    "canonical",
    "carbon_unit",
    "client_id_of",
    "finite",
    "grid_time",
    "kw_unit",
    "local_text",
    "parse_order",
    "parse_series",
    "price_unit",
    "site_ack",
    "slot_means",
    "split",
    "step",
    "to_canonical",
    "unit_factor",
    "utc_text",
    "window",
]
