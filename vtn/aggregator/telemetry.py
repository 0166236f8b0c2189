"""A site's telemetry for the aggregator API: the TELEMETRY_USAGE site power its VEN reports,
converted to kW by the unit the VEN registered, averaged per 15-minute slot, for the slots the asking
client held the site (its permission filter); and the storage's state of charge its TELEMETRY_STATUS
reports last said."""

from datetime import datetime, timedelta
from typing import Any

from mapping.flex.units import UnitRefused, power_kw
from mapping.flexready.clock import local_text, utc_text
from mapping.flexready.measurements import SlotMean, slot_means
from mapping.flexready.offers import reported_soc
from mapping.flexready.scope import Scope
from mapping.grid import QUARTER
from mapping.oadr.timefmt import parse_datetime
from vtn.curtailment.meter_data import USAGE, site_power_description
from vtn.store import Tx
from vtn.store import report_repository as reports
from vtn.store import repository as repo


def site_telemetry(session: Tx, scope: Scope, site: str, start: datetime, slots: int) -> dict[str, Any]:
    """The JSON answer: per slot the mean site power in kW and the number of readings (none: null, 0).
    Slots when `scope`'s client did not hold the site are empty: those readings are another owner's."""
    ven = repo.find_ven_by_name(session, site) if scope.held_over(site, start, start + slots * QUARTER) else None
    description = site_power_description(reports.descriptions(session, ven.ven_id)) if ven is not None else None
    readings: list[tuple[datetime, float]] = []
    if ven is not None and description is not None:
        end = start + slots * QUARTER
        found = reports.points(session, ven_id=ven.ven_id, report_name=USAGE, r_id=description.r_id, since=start, until=end)
        for point in found:
            if point["value"] is None:
                continue
            try:
                readings.append((parse_datetime(point["dtstart"]), power_kw(point["value"], description.unit)))
            except UnitRefused:
                break  # a unit we cannot convert: no figures rather than wrong ones
    means = [
        m if scope.held_over(site, m.start, m.end) else SlotMean(m.start, None, 0) for m in slot_means(readings, start, slots)
    ]
    return {
        "site": site,
        "source": f"{USAGE} {description.r_id}" if description is not None else None,
        "intervals": [
            {
                "start": utc_text(m.start),
                "end": utc_text(m.end),
                "start_local": local_text(m.start),
                "mean_kw": m.mean_kw,
                "samples": m.samples,
            }
            for m in means
        ],
    }


STATUS = "TELEMETRY_STATUS"
#: how long a reported state of charge stands for the battery's (the VTN asks for TELEMETRY_STATUS every 5 minutes:
#: beyond three missed reports it is no longer the battery's)
SOC_STANDS = timedelta(minutes=15)


def last_soc(session: Tx, scope: Scope, site: str, ven_id: str, now: datetime) -> float | None:
    """The state of charge (%) the site's VEN last reported in TELEMETRY_STATUS within `SOC_STANDS` of `now`, while
    `scope`'s client held the site; None without one."""
    found = reports.points(session, ven_id=ven_id, report_name=STATUS, since=now - SOC_STANDS, until=now + QUARTER)
    for point in reversed(found):
        soc = reported_soc(point["status"])
        if soc is not None and scope.current(site, parse_datetime(point["dtstart"])) is not None:
            return soc
    return None
