"""`cariflex settlement …`: issue settlement statements from the VTN's own figures, list them, show one."""

import argparse
import json
import sys
from typing import Any

from mapping.oadr.codes import OadrError
from mapping.oadr.timefmt import parse_datetime
from vtn.context import utc_now
from vtn.curtailment import statements
from vtn.curtailment.settings import settlement
from vtn.curtailment.statement_files import statement_csv
from vtn.store import statement_repository as stored

#: who the audit log names for statements issued on the command line
CLI_ACTOR = "cli"


def register(commands: Any, config_args: Any, store_of: Any) -> None:
    """Add `settlement` to the `cariflex` parser (config_args and store_of are vtn.cli.store's)."""
    top = commands.add_parser("settlement", help="settlement statements: requested, baseline (method), measured, delivered")
    actions = top.add_subparsers(dest="settlement_command", required=True, metavar="ACTION")
    issue = actions.add_parser("issue", help="issue a statement for an event, a program, a site or an aggregator over a period")
    config_args(issue)
    scope = issue.add_mutually_exclusive_group(required=True)
    scope.add_argument("--event", help="event id (the period is the event's window)")
    scope.add_argument("--program", help="market context: its events that started in the period")
    scope.add_argument("--site", help="oadrVenName: the events delivered to it in the period")
    scope.add_argument("--aggregator", help="aggregator client id: the site events its orders placed in the period")
    issue.add_argument("--from", dest="start", default=None, help="period start, ISO 8601 with offset")
    issue.add_argument("--to", dest="end", default=None, help="period end, ISO 8601 with offset")
    issue.add_argument("--reason", default=None, help="why a statement over the same scope and period is issued again")
    issue.set_defaults(run=lambda a: _run_issue(a, store_of))
    listing = actions.add_parser("list", help="the statements issued, newest first")
    config_args(listing)
    listing.set_defaults(run=lambda a: _run_list(a, store_of))
    show = actions.add_parser("show", help="one statement as JSON or CSV (its fingerprint checked)")
    config_args(show)
    show.add_argument("statement_id")
    show.add_argument("--format", choices=["json", "csv"], default="json")
    show.set_defaults(run=lambda a: _run_show(a, store_of))


def _scope(args: argparse.Namespace) -> tuple[str, str]:
    for kind in statements.SCOPES:
        if getattr(args, kind, None):
            return kind, getattr(args, kind)
    raise statements.StatementRefused("scope", "give --event, --program, --site or --aggregator")


def _run_issue(args: argparse.Namespace, store_of: Any) -> int:
    try:
        kind, key = _scope(args)
        start = parse_datetime(args.start) if args.start else None
        end = parse_datetime(args.end) if args.end else None
        with store_of(args) as (config, store):
            settled = settlement(config.curtailment, config.ui.sites_file)
            issued = store.call_sync(statements.issue, settled, kind, key, CLI_ACTOR, utc_now(), start, end, args.reason)
    except statements.StatementRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OadrError as exc:
        print(f"error: --from/--to: {exc.description}", file=sys.stderr)
        return 2
    totals = issued.document["totals"]
    state = "final" if totals["final"] else "provisional"
    replaced = f", supersedes {issued.supersedes}" if issued.supersedes else ""
    energy = ", ".join(f"{name} {totals[f'{name}_kwh']:.3f} kWh" for name in ("requested", "delivered", "shortfall"))
    print(f"issued {issued.statement_id} ({state}{replaced}): {totals['lines']} lines, {energy}; sha256 {issued.content_hash}")
    return 0


def _run_list(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        rows = store.call_sync(lambda session: [statements.as_document(r) for r in stored.list_statements(session)])
    print("statement_id,issued_at,issued_by,scope,period_start,period_end,final,supersedes,content_hash")
    for d in rows:
        scope = f"{d['scope']['kind']} {d['scope']['key']}"
        final = str(d["totals"]["final"]).lower()
        period = f"{d['period']['start']},{d['period']['end']}"
        who = f"{d['statement_id']},{d['issued_at']},{d['issued_by']}"
        print(f"{who},{scope},{period},{final},{d['supersedes'] or ''},{d['content_hash']}")
    return 0


def _run_show(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        row = store.call_sync(stored.find_statement, args.statement_id)
        document = statements.as_document(row) if row is not None else None
    if document is None:
        print(f"error: no statement {args.statement_id}", file=sys.stderr)
        return 2
    print(
        json.dumps(document, indent=1) if args.format == "json" else statement_csv(document),
        end="" if args.format == "csv" else "\n",
    )
    return 0 if document["verified"] else 3
