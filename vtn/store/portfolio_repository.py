"""Store functions of portfolios: which sites each aggregator or supplier client holds, and when.

A site has at most one owner of each role (aggregator, supplier) at any moment: `assign` closes the current owner's holding at the
switch and opens the new owner's there. Plain functions over a Session, like `repository`; the
caller audits (`ui_repository.audit`) and ends the old owner's events (`vtn.aggregator.portfolio`).
"""

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mapping.flexready.scope import Holding, Scope
from vtn.store.aggregator_models import AggregatorHolding


class SwitchRefused(ValueError):
    """A portfolio change that would make two owners overlap, or removes what is not held; `field` names the
    input at fault (`at` for the date, `client_id` for the client)."""

    def __init__(self, reason: str, field: str = "at") -> None:
        super().__init__(reason)
        self.field = field


def _holding(row: AggregatorHolding) -> Holding:
    return Holding(row.client_id, row.site, row.since, row.until, row.role)


def scope(session: Session, client_id: str) -> Scope:
    """A client's permission filter: every holding it has had, has, or will have."""
    rows = session.scalars(select(AggregatorHolding).where(AggregatorHolding.client_id == client_id))
    return Scope.of(client_id, (_holding(r) for r in rows))


def holdings(session: Session, client_id: str | None = None, site: str | None = None) -> list[Holding]:
    """Holdings (of one client, of one site, or all), by site then start."""
    query = select(AggregatorHolding).order_by(AggregatorHolding.site, AggregatorHolding.since, AggregatorHolding.id)
    if client_id is not None:
        query = query.where(AggregatorHolding.client_id == client_id)
    if site is not None:
        query = query.where(AggregatorHolding.site == site)
    return [_holding(r) for r in session.scalars(query)]


def _open_at(session: Session, site: str, at: datetime, role: str) -> AggregatorHolding | None:
    query = select(AggregatorHolding).where(
        AggregatorHolding.site == site,
        AggregatorHolding.role == role,
        AggregatorHolding.since <= at,
        or_(AggregatorHolding.until.is_(None), AggregatorHolding.until > at),
    )
    return session.scalars(query.with_for_update()).first()


def assign(session: Session, client_id: str, site: str, since: datetime, role: str = "aggregator") -> Holding | None:
    """Give `site` to `client_id` in `role` from `since`; returns the previous owner's holding in that role,
    now ending at `since` (None when nobody held it then). Holding it already is a no-op (returns None).
    SwitchRefused when a holding in the role already starts after `since` (switches are made in date order)."""
    later = session.scalar(
        select(AggregatorHolding)
        .where(AggregatorHolding.site == site, AggregatorHolding.role == role, AggregatorHolding.since > since)
        .limit(1)
    )
    if later is not None:
        raise SwitchRefused(
            f"site {site}: {later.client_id} holds it from {later.since.isoformat()}; switches are made in date order"
        )
    current = _open_at(session, site, since, role)
    if current is not None and current.client_id == client_id:
        return None
    previous = None
    if current is not None:
        if current.since == since:  # a switch at the very instant it began: the earlier owner never held it
            session.delete(current)
        else:
            current.until = since
        previous = Holding(current.client_id, site, current.since, since, role)
    session.add(AggregatorHolding(client_id=client_id, site=site, role=role, since=since, until=None))
    session.flush()
    return previous


def release(session: Session, client_id: str, site: str, at: datetime, role: str = "aggregator") -> Holding:
    """End `client_id`'s holding of `site` at `at` (the holding as it now ends); SwitchRefused when it does
    not hold the site then."""
    current = _open_at(session, site, at, role)
    if current is None or current.client_id != client_id:
        raise SwitchRefused(f"site {site}: {client_id} does not hold it at {at.isoformat()}")
    ended = Holding(client_id, site, current.since, at, role)
    if current.since == at:
        session.delete(current)
    else:
        current.until = at
    session.flush()
    return ended
