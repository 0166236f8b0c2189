"""`cariflex meter …`: import a meter operator's load curve into the VTN's store, list the imports."""

import argparse
import sys
from pathlib import Path
from typing import Any

from mapping.curtailment.meter_file import MeterFileRefused, parse_load_curves
from vtn.admin import meter as meter_admin
from vtn.context import utc_now
from vtn.store import meter_repository as meters

#: who the import log names for imports made on the command line
CLI_ACTOR = "cli"


def register(commands: Any, config_args: Any, store_of: Any) -> None:
    """Add `meter` to the `cariflex` parser (config_args and store_of are vtn.cli.store's)."""
    meter = commands.add_parser("meter", help="meter operators' load curves: the data the VTN settles on")
    actions = meter.add_subparsers(dest="meter_command", required=True, metavar="ACTION")
    load = actions.add_parser(
        "import",
        help="import a load-curve CSV (Cariflex or Enedis-style, docs/curtailment.md)",
    )
    config_args(load)
    load.add_argument("file", type=Path)
    load.set_defaults(run=lambda a: _run_import(a, store_of))
    listing = actions.add_parser("list", help="the latest imports: when, who, what file, steps added and corrected")
    config_args(listing)
    listing.set_defaults(run=lambda a: _run_list(a, store_of))


def _run_import(args: argparse.Namespace, store_of: Any) -> int:
    try:
        curves = parse_load_curves(args.file.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        print(f"error: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (MeterFileRefused, UnicodeDecodeError) as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 2
    with store_of(args) as (_, store):
        summary = store.call_sync(meter_admin.import_and_audit, curves, f"file {args.file.name}", CLI_ACTOR, utc_now())
    steps = summary.added + summary.corrected + summary.unchanged
    print(
        f"imported {steps} steps for {summary.delivery_points} delivery points from {args.file}: {summary.added} added, "
        f"{summary.corrected} corrected, {summary.unchanged} unchanged (batch {summary.batch})"
    )
    return 0


def _run_list(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        imports = store.call_sync(meters.recent_imports)
    print("imported_at,actor,source,delivery_points,added,corrected,batch")
    for i in imports:
        print(f"{i.imported_at.isoformat()},{i.actor},{i.source},{i.delivery_points},{i.added},{i.corrected},{i.batch}")
    return 0
