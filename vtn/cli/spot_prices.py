"""`cariflex dso spot-prices FILE --program ID`: import EPEX SPOT day-ahead prices of France (an ENTSO-E A44
document or an EPEX CSV export) as ELECTRICITY_PRICE events of a mainland program (docs/dso-api.md)."""

import argparse
import sys
from pathlib import Path
from typing import Any

from mapping.dso.spot import SpotRefused
from vtn.context import utc_now
from vtn.dso.spot_import import import_prices, read_publication
from vtn.store import repository as repo

#: the DSO client the command line's imports are recorded as (their events' source: dso:cli/spot-prices)
CLI_CLIENT = "cli"


def register(groups: Any, config_args: Any, store_of: Any) -> None:
    """Add `spot-prices` beside `client` under `cariflex dso` (config_args and store_of are vtn.cli.store's)."""
    spot = groups.add_parser(
        "spot-prices",
        help="import day-ahead prices of France (ENTSO-E A44 XML or EPEX CSV) into a mainland program",
        description="Import EPEX SPOT day-ahead prices of France's bidding zone as ELECTRICITY_PRICE events (EUR/kWh), "
        "one per Paris delivery day. Mainland programs only: Martinique has no spot market.",
    )
    config_args(spot)
    spot.add_argument("file", type=Path, help="an ENTSO-E Publication_MarketDocument (A44) or an EPEX CSV export")
    spot.add_argument("--program", required=True, help="the mainland program's id (configured or created by the DSO API)")
    spot.add_argument("--zone", action="append", default=[], help="a zone (group) to target; repeat; none: every VEN")
    spot.set_defaults(run=lambda args: _run(args, store_of))


def _program(config: Any, store: Any, wanted: str) -> tuple[str, str, str] | None:
    known = [(p.program_id, p.market_context, p.name) for p in config.programs]
    known += store.call_sync(repo.list_programs)
    return next((program for program in known if wanted in (program[0], program[1])), None)


def _run(args: argparse.Namespace, store_of: Any) -> int:
    try:
        prices = read_publication(args.file.read_bytes(), args.file.name)
    except OSError as exc:
        print(f"error: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except SpotRefused as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    with store_of(args, create=True) as (config, store):
        program = _program(config, store, args.program)
        if program is None:
            print(f"error: --program: no program {args.program!r} (configured or created by the DSO API)", file=sys.stderr)
            return 2
        try:
            done = store.call_sync(import_prices, prices, program, tuple(args.zone), CLI_CLIENT, utc_now(), config.near_window)
        except SpotRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    what = "already imported: events" if done.duplicate else "events"
    print(f"{args.file}: {len(prices.points)} prices ({prices.source}) → {what} {', '.join(done.event_ids)} of {program[0]}")
    return 0
