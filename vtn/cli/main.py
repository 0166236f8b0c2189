"""VTN commands: `vtn`, `db upgrade`, `db reporting-role`, `event …`, `ven …`, `group …`."""

import argparse
import json
import sys
from datetime import timedelta
from typing import Any

from mapping.oadr import model as m
from mapping.oadr.codes import OadrError
from mapping.oadr.json_form import event_to_json
from mapping.oadr.lifecycle import event_end
from mapping.oadr.timefmt import format_datetime, parse_datetime, parse_duration
from mapping.oadr.vocabulary import check_signal, default_unit
from vtn.admin import events as event_admin
from vtn.cli import aggregator as cli_aggregator
from vtn.cli import baseline as cli_baseline
from vtn.cli import dso as cli_dso
from vtn.cli import meter as cli_meter
from vtn.cli import reporting as cli_reporting
from vtn.cli import reports as cli_reports
from vtn.cli import settlement as cli_settlement
from vtn.cli import users as ui_cli
from vtn.cli.store import config_args, load, open_store, unknown_vens
from vtn.config import VtnConfig
from vtn.context import utc_now
from vtn.domain import OutboxKind, delivery_note
from vtn.store import report_repository
from vtn.store import repository as repo
from vtn.store.database import StoreUnavailable, shown_url, upgrade

#: who the audit log names for changes made on the command line
CLI_ACTOR = "cli"


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except OadrError as exc:
        raise argparse.ArgumentTypeError(exc.description) from exc


def register(commands: Any) -> None:
    """Add the VTN's sub-commands to the `cariflex` parser."""
    vtn = commands.add_parser("vtn", help="run the VTN", description="Run the OpenADR 2.0b VTN until Ctrl-C.")
    config_args(vtn)
    vtn.add_argument("--host", default=None, help="address to listen on (overrides [vtn] host)")
    vtn.add_argument("--port", type=int, default=None, help="port to listen on, 0 for any free port (overrides [vtn] port)")
    vtn.set_defaults(run=_run_vtn)

    db = commands.add_parser("db", help="store maintenance", description="Store maintenance.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_commands.add_parser("upgrade", help="create or migrate the store to the newest schema")
    config_args(up)
    up.set_defaults(run=_run_db_upgrade)
    cli_reporting.register(db_commands, config_args, load)

    _register_event(commands)
    _register_ven(commands)
    cli_reports.register(commands, config_args, open_store, _duration)
    ui_cli.register(commands, config_args, open_store)
    cli_dso.register(commands, config_args, open_store)
    cli_aggregator.register(commands, config_args, open_store)
    cli_baseline.register(commands)
    cli_meter.register(commands, config_args, open_store)
    cli_settlement.register(commands, config_args, open_store)


def _register_event(commands: Any) -> None:
    event = commands.add_parser("event", help="create, list, show, modify and cancel events", description="Manage events.")
    actions = event.add_subparsers(dest="event_command", required=True, metavar="ACTION")

    create = actions.add_parser(
        "create", help="create an event", description="Create an event with one signal of equal intervals."
    )
    config_args(create)
    create.add_argument("--program", required=True, help="program id (from config) or market context URI")
    create.add_argument("--signal", default="SIMPLE:level", help="signalName:signalType (default SIMPLE:level)")
    create.add_argument("--values", default=None, help="comma-separated interval values, e.g. 1,2,2,1")
    create.add_argument("--value", type=float, default=1.0, help="one value for every interval (with --intervals)")
    create.add_argument("--intervals", type=int, default=1, help="number of intervals when --value is used")
    create.add_argument("--interval-duration", type=_duration, default=timedelta(minutes=15), help="ISO 8601, default PT15M")
    when = create.add_mutually_exclusive_group()
    when.add_argument("--start", default=None, help="dtstart, ISO 8601 UTC (e.g. 2026-11-26T22:00:00Z)")
    when.add_argument("--start-in", type=_duration, default=None, help="dtstart relative to now, e.g. PT1H (default PT0S)")
    for kind in ("ven", "group", "resource", "party"):
        create.add_argument(
            f"--target-{kind}", action="append", default=[], help=f"target {kind} ID (repeatable); no target = all VENs"
        )
    create.add_argument("--priority", type=int, default=None, help="1 is highest, 0 means none")
    create.add_argument("--test", action="store_true", help="mark as a test event (VENs acknowledge but do not act)")
    create.add_argument("--response-required", choices=["always", "never"], default="always")
    for name in ("ramp-up", "recovery", "notification", "start-after"):
        create.add_argument(f"--{name}", type=_duration, default=None, help=f"x-ei {name} duration (ISO 8601)")
    create.add_argument("--comment", default=None, help="vtnComment")
    create.add_argument("--event-id", default=None, help="eventID (default: generated)")
    create.set_defaults(run=_run_event_create)

    listing = actions.add_parser("list", help="list events, newest first")
    config_args(listing)
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(run=_run_event_list)

    show = actions.add_parser("show", help="show one event with revisions, deliveries and responses")
    config_args(show)
    show.add_argument("event_id")
    show.set_defaults(run=_run_event_show)

    modify = actions.add_parser("modify", help="modify an event (new modificationNumber)")
    config_args(modify)
    modify.add_argument("event_id")
    modify.add_argument("--values", default=None, help="new comma-separated values of the first signal")
    modify.add_argument("--start", default=None, help="new dtstart, ISO 8601 UTC")
    modify.add_argument("--priority", type=int, default=None)
    modify.add_argument("--reason", default="modified", help="modificationReason")
    modify.set_defaults(run=_run_event_modify)

    cancel = actions.add_parser("cancel", help="cancel an event")
    config_args(cancel)
    cancel.add_argument("event_id")
    cancel.add_argument("--reason", default="cancelled", help="modificationReason")
    cancel.add_argument(
        "--response-required",
        choices=event_admin.RESPONSE_REQUIRED,
        default=None,
        help="change oadrResponseRequired with the cancellation (never: VENs are not to answer it); default: unchanged",
    )
    cancel.set_defaults(run=_run_event_cancel)


def _register_ven(commands: Any) -> None:
    ven = commands.add_parser(
        "vens", help="list VENs, request re-registration, cancel registrations, groups", description="Manage VENs."
    )
    actions = ven.add_subparsers(dest="ven_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list VENs")
    config_args(listing)
    listing.set_defaults(run=_run_ven_list)
    for name, kind, text in (
        ("reregister", OutboxKind.REQUEST_REREGISTRATION, "queue oadrRequestReregistration for a VEN"),
        ("cancel-registration", OutboxKind.CANCEL_REGISTRATION, "queue oadrCancelPartyRegistration for a VEN"),
    ):
        action = actions.add_parser(name, help=text)
        config_args(action)
        action.add_argument("ven_id")
        action.set_defaults(run=_run_ven_queue, kind=kind)
    group = actions.add_parser("group", help="add VENs (by oadrVenName) to a group")
    config_args(group)
    group.add_argument("group_id")
    group.add_argument("ven_names", nargs="+")
    group.set_defaults(run=_run_ven_group)


def _run_vtn(args: argparse.Namespace) -> int:
    import uvloop  # a faster event loop for the poll path; same asyncio semantics

    from vtn.app import serve

    uvloop.run(serve(load(args, host=args.host, port=args.port)))
    return 0


def _run_db_upgrade(args: argparse.Namespace) -> int:
    config = load(args)
    try:
        done = upgrade(config.db_url)
    except StoreUnavailable as exc:
        return _fail(str(exc))
    print(f"{shown_url(config.db_url)}: {done.describe()}")
    return 0


def _market_context(config: VtnConfig, program: str) -> str:
    for p in config.programs:
        if program in (p.program_id, p.market_context):
            return p.market_context
    if "://" in program:
        return program
    known = ", ".join(p.program_id for p in config.programs) or "none configured"
    raise SystemExit(f"--program: {program!r} is neither a configured program id ({known}) nor a market context URI")


def _values(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise SystemExit(f"--values: expected comma-separated numbers, got {text!r}") from exc


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _run_event_create(args: argparse.Namespace) -> int:
    # the arguments first: a mistyped one must not leave a new, empty store behind
    name, _, signal_type = args.signal.partition(":")
    problem = check_signal(name, signal_type or "level")
    if problem:
        return _fail(f"--signal: {problem}")
    values = _values(args.values) if args.values else [args.value] * args.intervals
    now = utc_now()
    try:
        dtstart = parse_datetime(args.start) if args.start else now + (args.start_in or timedelta(0))
    except OadrError as exc:
        return _fail(f"--start: {exc.description}")
    with open_store(args, create=True) as (config, store):
        target = m.Target(
            ven_ids=tuple(args.target_ven),
            group_ids=tuple(args.target_group),
            resource_ids=tuple(args.target_resource),
            party_ids=tuple(args.target_party),
        )
        try:
            refused = unknown_vens(store, "--target-ven", args.target_ven)
            if refused:
                return _fail(refused)
            event = event_admin.draft_uniform_event(
                name,
                signal_type or "level",
                values,
                args.interval_duration,
                default_unit(name, signal_type),
                market_context=_market_context(config, args.program),
                dtstart=dtstart,
                now=now,
                near_window=config.near_window,
                target=target,
                event_id=args.event_id,
                priority=args.priority,
                test_event=args.test,
                response_required=args.response_required,
                vtn_comment=args.comment,
                start_after=args.start_after,
                notification=args.notification,
                ramp_up=args.ramp_up,
                recovery=args.recovery,
            )
            store.call_sync(event_admin.create_event, event, CLI_ACTOR, now)
        except event_admin.EventRefused as exc:
            return _fail(str(exc))
    print(json.dumps({"event_id": event.event_id, "status": event.status, "dtstart": format_datetime(event.dtstart)}))
    return 0


def _run_event_list(args: argparse.Namespace) -> int:
    with open_store(args) as (_, store):
        for live, closed in store.call_sync(repo.list_events, args.limit):
            e = live.event
            print(
                f"{e.event_id}  mod {e.modification_number}  {e.status:<9} {'closed' if closed else 'live  '}  "
                f"{format_datetime(e.dtstart)} +{e.duration}  {e.market_context}  {', '.join(s.name for s in e.signals)}"
            )
    return 0


def _run_event_show(args: argparse.Namespace) -> int:
    with open_store(args) as (_, store):
        found = store.call_sync(repo.load_event, args.event_id)
        if found is None:
            return _fail(f"no event {args.event_id}")
        live, closed = found
        report = {
            "event": event_to_json(live.event),
            "cancelled": live.cancelled,
            "closed": closed,
            "source": live.source,
            "revisions": [
                {"modification_number": n, "reason": r, "at": format_datetime(t)}
                for n, r, t in store.call_sync(repo.event_revisions, args.event_id)
            ],
            "deliveries": [
                {"ven_id": v, "modification_number": n, "first_delivered": format_datetime(t)}
                for v, n, t in store.call_sync(repo.event_deliveries, args.event_id)
            ],
            "opts": store.call_sync(
                report_repository.opts_covering,
                args.event_id,
                live.event.dtstart,
                event_end(live.event.dtstart, live.event.duration),
                live.event.market_context,
            ),
            "responses": [
                {"ven_id": v, "modification_number": n, "opt_type": o, "code": c, "at": format_datetime(t)}
                for v, n, o, c, t in store.call_sync(repo.event_responses, args.event_id)
            ],
        }
    print(json.dumps(report, indent=2))
    return 0


def _run_event_modify(args: argparse.Namespace) -> int:
    with open_store(args) as (config, store):
        now = utc_now()
        try:
            found = store.call_sync(repo.load_event, args.event_id)
            if found is None:
                return _fail(f"no event {args.event_id}")
            current = found[0].event
            changes: dict[str, object] = {}
            if args.values:
                first = current.signals[0]
                interval = first.intervals[0].duration
                changes["signals"] = (
                    event_admin.uniform_signal(
                        first.name, first.type, _values(args.values), interval, first.unit, first.signal_id
                    ),
                    *current.signals[1:],
                )
            if args.start:
                changes["dtstart"] = parse_datetime(args.start)
            if args.priority is not None:
                changes["priority"] = args.priority
            event = store.call_sync(
                event_admin.modify_event, args.event_id, now, config.near_window, args.reason, actor=CLI_ACTOR, **changes
            )
        except (event_admin.EventRefused, OadrError) as exc:
            return _fail(str(exc))
    print(json.dumps({"event_id": event.event_id, "modification_number": event.modification_number, "status": event.status}))
    return 0


def _run_event_cancel(args: argparse.Namespace) -> int:
    with open_store(args) as (_, store):
        try:
            event = store.call_sync(
                event_admin.cancel_event,
                args.event_id,
                utc_now(),
                args.reason,
                actor=CLI_ACTOR,
                response_required=args.response_required,
            )
        except event_admin.EventRefused as exc:
            return _fail(str(exc))
    print(json.dumps({"event_id": event.event_id, "modification_number": event.modification_number, "status": event.status}))
    return 0


def _run_ven_list(args: argparse.Namespace) -> int:
    with open_store(args) as (_, store):
        for ven in store.call_sync(repo.load_vens):
            state = f"registered {ven.registration_id}" if ven.registered else "not registered"
            print(f"{ven.ven_id}  {ven.ven_name or '-'}  {state}  {'pull' if ven.http_pull_model else 'push'}")
    return 0


def _run_ven_queue(args: argparse.Namespace) -> int:
    with open_store(args) as (_, store):
        ven = store.call_sync(repo.load_ven, args.ven_id)
        if ven is None:
            return _fail(f"no VEN {args.ven_id}")
        store.call_sync(repo.enqueue, ven.ven_id, args.kind, {"registration_id": ven.registration_id}, utc_now())
    print(f"queued {args.kind} for VEN {args.ven_id}; {delivery_note(ven)}")
    return 0


def _run_ven_group(args: argparse.Namespace) -> int:
    with open_store(args, create=True) as (_, store):
        store.call_sync(repo.set_group_members, args.group_id, args.ven_names, utc_now())
    print(f"group {args.group_id}: added {', '.join(args.ven_names)}")
    return 0
