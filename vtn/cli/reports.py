"""`cariflex reports …` and `cariflex opts …`: ask VENs for reports, read stored data, list opts."""

import argparse
import csv
import json
import sys
from datetime import timedelta
from typing import Any

from mapping.oadr.codes import OadrError
from mapping.oadr.timefmt import format_datetime, format_duration, parse_datetime
from vtn.admin import reports as report_admin
from vtn.cli.store import unknown_vens
from vtn.context import utc_now
from vtn.csv_export import safe_row, safe_values
from vtn.curtailment import query as curtailment_query
from vtn.curtailment import table as curtailment_table
from vtn.curtailment.settings import settlement
from vtn.store import report_repository as reports
from vtn.store import repository as repo
from vtn.store.worker import StoreWorker


def register(commands: Any, config_args: Any, store_of: Any, duration_type: Any) -> None:
    """Add `reports` and `opts` to the `cariflex` parser (config_args and store_of are vtn.cli.store's)."""
    rep = commands.add_parser("reports", help="request reports from VENs, cancel requests, read stored report data")
    actions = rep.add_subparsers(dest="reports_command", required=True, metavar="ACTION")

    request = actions.add_parser("request", help="ask a VEN (or a group) for a report; sent at its next poll or by push")
    config_args(request)
    who = request.add_mutually_exclusive_group(required=True)
    who.add_argument("--ven", help="venID")
    who.add_argument("--group", help="groupID: every registered member")
    request.add_argument("--report", required=True, help="TELEMETRY_USAGE, TELEMETRY_STATUS, HISTORY_USAGE, METADATA, …")
    request.add_argument("--granularity", type=duration_type, default=timedelta(0), help="sampling step; PT0S = one-shot")
    request.add_argument("--report-back", type=duration_type, default=timedelta(0), help="how often the VEN sends; PT0S = once")
    request.add_argument("--start", default=None, help="reportInterval start (ISO 8601 UTC, default now; past = history)")
    request.add_argument(
        "--duration", type=duration_type, default=None, help="reportInterval duration (default P1D periodic, PT0S one-shot)"
    )
    request.add_argument("--rid", action="append", default=[], help="only these rIDs (repeatable)")
    request.set_defaults(run=lambda a: _run_request(a, store_of))

    cancel = actions.add_parser("cancel", help="cancel a report request (oadrCancelReport at the VEN's next poll, or by push)")
    config_args(cancel)
    cancel.add_argument("report_request_id")
    cancel.add_argument("--report-to-follow", action="store_true", help="let the VEN send one last report")
    cancel.set_defaults(run=lambda a: _run_cancel(a, store_of))

    listing = actions.add_parser("list", help="list report requests and their state")
    config_args(listing)
    listing.add_argument("--ven", default=None)
    listing.set_defaults(run=lambda a: _run_list(a, store_of))

    data = actions.add_parser("data", help="stored report data as a time series (CSV or JSON on stdout)")
    config_args(data)
    data.add_argument("--ven", default=None)
    data.add_argument("--report", default=None, help="report name, e.g. TELEMETRY_USAGE")
    data.add_argument("--rid", default=None)
    data.add_argument("--since", default=None, help="ISO 8601 UTC")
    data.add_argument("--until", default=None, help="ISO 8601 UTC")
    data.add_argument("--format", choices=["csv", "json"], default="csv")
    data.set_defaults(run=lambda a: _run_data(a, store_of))

    curtailment = actions.add_parser(
        "curtailment",
        help="achieved curtailment of an event per VEN and in total: requested, baseline, measured, achieved, delivery",
        description="An event's achieved curtailment per VEN and in total. csv (the default, for scripts): one row per "
        "VEN and 15-minute interval, then the totals (ven_id *), each with its VEN's delivery verdict; json: the same "
        "as one document; table: the readable summary `make demo` prints — one line per site, kW as means over the "
        "event, delivered = achieved / requested and the verdict (under, met, over, export, nothing asked, no data).",
    )
    config_args(curtailment)
    curtailment.add_argument("event_id")
    curtailment.add_argument("--ven", default=None, help="only this venID's share")
    curtailment.add_argument("--format", choices=["csv", "json", "table"], default="csv", help="csv (default), json or table")
    curtailment.set_defaults(run=lambda a: _run_curtailment(a, store_of))

    opts = commands.add_parser("opts", help="list the opt schedules and event opts VENs sent")
    config_args(opts)
    opts.add_argument("--ven", default=None)
    opts.set_defaults(run=lambda a: _run_opts(a, store_of))


def _members(session: Any, group_id: str) -> list[str]:
    groups, _ = repo.load_memberships(session)
    names = {name for name, member_of in groups.items() if group_id in member_of}
    return [v.ven_id for v in repo.load_vens(session) if v.ven_name in names and v.registered]


def _refused_ven(store: StoreWorker, ven_id: str | None) -> bool:
    """True, after saying so on stderr, when `--ven` names no VEN of the store: a filter on a venID that does
    not exist would print nothing, as if the VEN had sent nothing."""
    refused = unknown_vens(store, "--ven", [ven_id]) if ven_id else None
    if refused:
        print(f"error: {refused}", file=sys.stderr)
    return refused is not None


def _run_request(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        now = utc_now()
        try:
            start = parse_datetime(args.start) if args.start else None
            if _refused_ven(store, args.ven):
                return 1
            ven_ids = [args.ven] if args.ven else store.call_sync(_members, args.group)
            if not ven_ids:
                print(f"error: group {args.group} has no registered VEN", file=sys.stderr)
                return 1
            for ven_id in ven_ids:
                request = store.call_sync(
                    report_admin.request_report,
                    ven_id,
                    args.report,
                    now,
                    granularity=args.granularity,
                    report_back=args.report_back,
                    start=start,
                    duration=args.duration,
                    r_ids=tuple(args.rid),
                )
                print(
                    json.dumps(
                        {
                            "ven_id": ven_id,
                            "report_request_id": request.report_request_id,
                            "report_specifier_id": request.report_specifier_id,
                        }
                    )
                )
        except (report_admin.ReportRefused, OadrError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


def _run_cancel(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        try:
            ven_id = store.call_sync(report_admin.cancel_request, args.report_request_id, utc_now(), args.report_to_follow)
        except report_admin.ReportRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(f"queued oadrCancelReport {args.report_request_id} for VEN {ven_id}")
    return 0


def _run_list(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        if _refused_ven(store, args.ven):
            return 1
        for ven_id, req, name, state in store.call_sync(reports.list_requests, args.ven):
            start = format_datetime(req.interval_start) if req.interval_start else "-"
            window = format_duration(req.interval_duration or timedelta(0))
            print(
                f"{req.report_request_id}  {ven_id}  {name:<18} {state:<12} granularity {format_duration(req.granularity)} "
                f"back {format_duration(req.report_back)}  from {start} for {window}"
            )
    return 0


def _run_data(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        if _refused_ven(store, args.ven):
            return 1
        rows = store.call_sync(
            reports.points,
            ven_id=args.ven,
            report_name=args.report,
            r_id=args.rid,
            since=parse_datetime(args.since) if args.since else None,
            until=parse_datetime(args.until) if args.until else None,
        )
    if args.format == "json":
        print(json.dumps(rows, indent=1))
        return 0
    writer = csv.DictWriter(sys.stdout, fieldnames=reports.POINT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(safe_row({**row, "status": json.dumps(row["status"]) if row["status"] else ""}))
    return 0


def _run_curtailment(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (config, store):
        try:
            if _refused_ven(store, args.ven):
                return 1
            settled = settlement(config.curtailment, config.ui.sites_file)
            found = store.call_sync(curtailment_query.event_curtailment, args.event_id, args.ven, settled)
        except curtailment_query.UnknownEvent as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.format == "json":
        print(json.dumps(curtailment_query.as_json(found), indent=1))
        return 0
    if args.format == "table":
        print("\n".join(curtailment_table.table_lines(found)))
        return 0
    writer = csv.writer(sys.stdout)
    writer.writerow(curtailment_query.CSV_COLUMNS)
    writer.writerows(safe_values(row) for row in curtailment_query.as_rows(found))
    return 0


def _run_opts(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        if _refused_ven(store, args.ven):
            return 1
        print(json.dumps(store.call_sync(reports.list_opts, args.ven), indent=1))
    return 0
