"""What the demo prints while it runs: one progress line per step, and each figure of the event when it changes."""

import math
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from demo.outcome import Asked, EventOutcome, MeteredSite, by_kind
from demo.scenario import DemoPlan
from mapping.curtailment import report as curtailment_wire
from mapping.grid import floor_slot


def say(message: str) -> None:
    """One progress line."""
    out(f"==> [demo] {message}")


def out(line: str) -> None:
    """Print `line`; when standard output's reader has gone (`make demo | tee log` and Ctrl-C, which stops
    tee too), drop this and every later line instead of raising, so the clean-up still stops everything."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def show_wait(the_plan: DemoPlan, shown: dict[str, object]) -> None:
    """Before the event (hours away without --fast), say how long is left once an hour."""
    left = the_plan.start - datetime.now(UTC)
    hours = math.ceil(left / timedelta(hours=1)) if left > timedelta(0) else 0
    if hours and shown.get("wait") != hours:
        if "wait" in shown:  # the alert's line said it first
            say(f"waiting for the event: {the_plan.window(datetime.now(UTC))}")
        shown["wait"] = hours


def show_changes(
    found: EventOutcome, scheduled_kw: Callable[[datetime], dict[str, float]], the_plan: DemoPlan, shown: dict[str, object]
) -> None:
    """Print each figure when it changes."""
    slot = max(floor_slot(datetime.now(UTC)), the_plan.start)
    scheduled = scheduled_kw(slot)
    figures: dict[str, tuple[object, Callable[[], str]]] = {
        "status": (found.status, lambda: f"event status: {found.status}"),
        "delivered": (len(found.delivered), lambda: f"delivered to {len(found.delivered)} VENs"),
        "opts": (
            len(found.opts),
            lambda: f"opt answers: {len(found.opted_in)} optIn, {len(found.opts) - len(found.opted_in)} optOut",
        ),
        "scheduled": (
            len(scheduled),
            lambda: (
                f"storage schedules dispatched for {slot:%H:%M} UTC: {len(scheduled)} devices, "
                f"{sum(scheduled.values()):+.1f} kW in total (charging positive)"
            ),
        ),
        "reported": (
            len(found.reported()),
            lambda: f"{curtailment_wire.REPORT_NAME} reports received: {len(found.reported())}",
        ),
    }
    for key, (value, line) in figures.items():
        if shown.get(key) != value:
            shown[key] = value
            say(line())


def show_metered(sites: Sequence[MeteredSite], asked: Asked) -> None:
    """The metered import per device kind while asked, beside what the same sites would have drawn undispatched."""
    say(
        f"metered import by device kind, {asked.start:%H:%M:%S}–{asked.end:%H:%M} UTC (from the alert; the simulated "
        "meters; uncontrolled: the same sites dispatched nothing):"
    )
    for kind, (count, movable, measured, free) in sorted(by_kind(sites).items()):
        out(
            f"    {kind:<8} {count:>2} sites ({movable:>2} could lower it)  measured {measured:7.2f} kW  "
            f"uncontrolled {free:7.2f} kW  lowered by {free - measured:+.2f} kW"
        )
