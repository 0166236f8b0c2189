"""`cariflex aggregator portfolio add|remove|list`: which sites an aggregator (or supplier) client holds.
A site has one aggregator and one supplier at most at any moment (the client's scope gives its role).

`add CLIENT SITE… [--from T]` gives the sites to the client from T (default: the start of the current
quarter hour); a site another client held then switches: that client's open orders and series on it end
at T. `remove CLIENT SITE… [--at T]` ends the client's holding at T, its open orders with it. Every change
is written to the operator audit log with the person who ran the command (`--actor`, default the login).
"""

import argparse
import getpass
import sys
from datetime import datetime
from typing import Any

from mapping.grid import floor_slot
from mapping.oadr.codes import OadrError
from mapping.oadr.timefmt import format_datetime, parse_datetime
from vtn.aggregator import portfolio
from vtn.context import utc_now
from vtn.store import portfolio_repository as portfolio_repo
from vtn.store.portfolio_repository import SwitchRefused


def register(actions: Any, config_args: Any, store_of: Any) -> None:
    """Add `portfolio add|remove|list` under `cariflex aggregator` (`actions`: its subparsers)."""
    parser = actions.add_parser("portfolio", help="the sites each aggregator or supplier client holds")
    what = parser.add_subparsers(dest="portfolio_command", required=True, metavar="ACTION")
    add = what.add_parser("add", help="give sites to a client from a date (a switch when another client held them)")
    config_args(add)
    add.add_argument("client_id")
    add.add_argument("sites", nargs="+", metavar="SITE", help="oadrVenName of a configured site")
    add.add_argument("--from", dest="at", default=None, help="RFC 3339 on the 15-minute grid (default: this quarter hour)")
    add.add_argument("--actor", default=None, help="who makes the change, for the audit log (default: your login)")
    add.set_defaults(run=lambda args: _change(args, store_of, portfolio.assign))
    remove = what.add_parser("remove", help="take sites from a client at a date (its open orders on them end then)")
    config_args(remove)
    remove.add_argument("client_id")
    remove.add_argument("sites", nargs="+", metavar="SITE")
    remove.add_argument("--at", dest="at", default=None, help="RFC 3339 on the 15-minute grid (default: this quarter hour)")
    remove.add_argument("--actor", default=None, help="who makes the change, for the audit log (default: your login)")
    remove.set_defaults(run=lambda args: _change(args, store_of, portfolio.release))
    listing = what.add_parser("list", help="holdings, past and present: site, client, role, since, until (tab-separated)")
    config_args(listing)
    listing.add_argument("--client", default=None, help="only this client's")
    listing.set_defaults(run=lambda args: _list(args, store_of))


def _instant(text: str | None) -> datetime:
    return parse_datetime(text) if text else floor_slot(utc_now())


def _change(args: argparse.Namespace, store_of: Any, change: Any) -> int:
    try:
        at = _instant(args.at)
    except OadrError as exc:  # parse_datetime's refusal
        print(f"error: --from/--at: {exc.description}", file=sys.stderr)
        return 2
    actor = f"cli:{args.actor or getpass.getuser()}"
    with store_of(args) as (config, store):
        unknown = sorted(set(args.sites) - portfolio.configured_sites(config))
        if unknown:
            print(f"error: SITE: not a site of the aggregator API: {' '.join(unknown)}", file=sys.stderr)
            return 2
        for site in args.sites:
            try:
                done = store.call_sync(change, args.client_id, site, at, actor, utc_now(), config.near_window)
            except SwitchRefused as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            moved = f" (from {done.ended.client_id})" if change is portfolio.assign and done.ended else ""
            print(f"{site}\t{args.client_id}\t{format_datetime(at)}{moved}\tevents ended: {len(done.events)}")
    return 0


def _list(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        for h in store.call_sync(portfolio_repo.holdings, args.client):
            until = format_datetime(h.until) if h.until else "-"
            print(f"{h.site}\t{h.client_id}\t{h.role}\t{format_datetime(h.since)}\t{until}")
    return 0
