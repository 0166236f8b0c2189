"""Portfolio changes, each one store transaction: give a site to a client from a date (a switch when
another client held it: that client's open orders and series on the site end at the switch), or take
it away at a date. Audited in the operator audit log (`ui_audit`) with who, what and when; used by
`cariflex aggregator portfolio` and the operator UI alike."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from mapping.flexready.scope import Holding
from mapping.grid import is_on_grid
from mapping.oadr import model as m
from vtn.aggregator.common import SCOPE, SUPPLIER_SCOPE
from vtn.aggregator.ending import end_requests_on
from vtn.config import VtnConfig
from vtn.site_registry import contracted_kw_by_ven
from vtn.store import Tx
from vtn.store import dso_repository as dso_repo
from vtn.store import portfolio_repository as portfolio_repo
from vtn.store.portfolio_repository import SwitchRefused
from vtn.store.ui_repository import audit


@dataclass(frozen=True)
class Change:
    """What a portfolio change did: the holding it ended (None: none) and the events it ended."""

    ended: Holding | None
    events: tuple[m.Event, ...] = ()


def configured_sites(config: VtnConfig) -> set[str]:
    """The sites the aggregator API addresses under this configuration (what a portfolio may hold)."""
    groups = {**config.groups, **config.dso.zones}
    return set(config.aggregator.portfolio(groups, contracted_kw_by_ven(config.ui.sites_file)).sites)


def _check_instant(at: datetime) -> None:
    # orders live on the quarter-hour grid; a switch off it would leave half an interval to nobody
    if not is_on_grid(at):
        raise SwitchRefused(f"{at.isoformat()} is not on the 15-minute grid (:00, :15, :30, :45)")


def _end_orders(
    session: Tx, ended: Holding, at: datetime, now: datetime, near_window: timedelta, actor: str
) -> tuple[m.Event, ...]:
    reason = f"site {ended.site} left the portfolio of {ended.client_id} at {at.isoformat()}"
    return tuple(end_requests_on(session, ended.client_id, ended.site, at, now, near_window, reason, actor))


def role_of(session: Tx, client_id: str) -> str:
    """A client's portfolio role: "supplier" for a client with only the supplier scope, else "aggregator".
    SwitchRefused for a client that does not exist or is neither."""
    client = dso_repo.find_client(session, client_id)
    if client is None or not client.scopes & {SCOPE, SUPPLIER_SCOPE}:
        reason = f"client {client_id}: no aggregator or supplier client of that id (cariflex aggregator client add)"
        raise SwitchRefused(reason, field="client_id")
    return "aggregator" if SCOPE in client.scopes else "supplier"


def assign(session: Tx, client_id: str, site: str, since: datetime, actor: str, now: datetime, near_window: timedelta) -> Change:
    """Give `site` to `client_id` from `since` (see the module); SwitchRefused for an unknown client, a date
    off the grid or before a switch already planned."""
    _check_instant(since)
    role = role_of(session, client_id)
    previous = portfolio_repo.assign(session, client_id, site, since, role)
    events = _end_orders(session, previous, since, now, near_window, actor) if previous is not None else ()
    previous_id = previous.client_id if previous else None
    detail = {"client_id": client_id, "role": role, "site": site, "since": since.isoformat(), "from": previous_id}
    audit(session, actor, "portfolio_assign", f"site {site}", {**detail, "events_ended": [e.event_id for e in events]}, now)
    return Change(previous, events)


def release(session: Tx, client_id: str, site: str, at: datetime, actor: str, now: datetime, near_window: timedelta) -> Change:
    """Take `site` from `client_id` at `at`: its open orders and series on the site end then."""
    _check_instant(at)
    ended = portfolio_repo.release(session, client_id, site, at, role_of(session, client_id))
    events = _end_orders(session, ended, at, now, near_window, actor)
    detail = {"client_id": client_id, "site": site, "at": at.isoformat(), "events_ended": [e.event_id for e in events]}
    audit(session, actor, "portfolio_release", f"site {site}", detail, now)
    return Change(ended, events)
