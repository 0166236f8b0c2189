"""`cariflex baseline`: a site's baseline and achieved curtailment from a load-curve file, by a named method.

The settling party's calculation, runnable by anyone on the same data: the file shapes are
`mapping.curtailment.meter_file`'s, the methods `mapping.curtailment.baseline`'s (docs/curtailment.md).
Output columns (CSV; JSON carries the same per interval, with the method and totals):

    delivery_point, interval_start, interval_end, baseline_kw, unadjusted_baseline_kw, measured_kw,
    achieved_kw, achieved_kwh, flags, method

Times are UTC (`Z`); kW are means over the 15-minute interval, consumption positive, achieved =
baseline − measured; an empty cell is a value that could not be computed (`flags` says why).
Exit status 0, or 2 with `error: <where>: <what>` on stderr for a file or setting it refuses.
"""

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from mapping.curtailment import METHODS, Adjustment, BaselineConfig, CurtailmentRefused, describe
from mapping.curtailment.adjustment import KINDS
from mapping.curtailment.calendar import CALENDARS, DAY_KINDS, DEFAULT_LOOKBACK_DAYS
from mapping.curtailment.curves import SiteCurtailment, site_curtailment
from mapping.curtailment.meter_file import parse_load_curves
from mapping.oadr.codes import OadrError
from mapping.oadr.timefmt import format_datetime, parse_datetime

COLUMNS = (
    "delivery_point",
    "interval_start",
    "interval_end",
    "baseline_kw",
    "unadjusted_baseline_kw",
    "measured_kw",
    "achieved_kw",
    "achieved_kwh",
    "flags",
    "method",
)


def _cap(text: str) -> float | None:
    if text.lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: a share such as 0.2 (±20 %), or none") from None


def register(commands: Any) -> None:
    """Add `baseline` to the `cariflex` parser."""
    run = commands.add_parser(
        "baseline",
        help="a site's baseline and achieved curtailment from a load-curve file, by a named method",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--meter", required=True, type=Path, help="load-curve CSV (Cariflex or Enedis-style; docs/curtailment.md)")
    run.add_argument("--delivery-point", default=None, help="the called site's delivery point (default: the file's only one)")
    run.add_argument("--start", required=True, help="event start, ISO 8601 with offset")
    run.add_argument("--end", required=True, help="event end, ISO 8601 with offset")
    run.add_argument("--notified", default=None, help="when the site was told (default: the event start)")
    run.add_argument("--method", required=True, choices=METHODS)
    run.add_argument("--x", type=int, default=4, help="x-of-y: days averaged (default 4)")
    run.add_argument("--y", type=int, default=5, help="x-of-y: similar days looked at (default 5)")
    run.add_argument("--days", choices=DAY_KINDS, default="weekdays", help="x-of-y: which days are similar (default weekdays)")
    run.add_argument("--holidays", choices=CALENDARS, default="FR-972", help="x-of-y: holiday calendar (default FR-972)")
    run.add_argument("--lookback-days", type=int, default=DEFAULT_LOOKBACK_DAYS, help="x-of-y: search limit in days (default 60)")
    run.add_argument("--low-usage-share", type=float, default=0.25, help="x-of-y: days under this share of the mean are dropped")
    run.add_argument("--event-day", action="append", default=[], help="x-of-y: an earlier event day to pass over (YYYY-MM-DD)")
    run.add_argument("--minutes", type=int, default=60, help="rectangle family: reference window in minutes (default 60)")
    run.add_argument("--neutralisation-minutes", type=int, default=0, help="rectangle family: gap before the notice (default 0)")
    run.add_argument(
        "--adjustment", choices=KINDS, default="none", help="x-of-y, control-group: day-of adjustment (default none)"
    )
    run.add_argument("--adjustment-minutes", type=int, default=120, help="day-of adjustment window length (default 120)")
    run.add_argument("--adjustment-gap-minutes", type=int, default=60, help="between that window and the notice (default 60)")
    run.add_argument("--adjustment-cap", type=_cap, default=0.2, help="largest correction as a share, or none (default 0.2)")
    run.add_argument("--control", action="append", default=[], help="control-group: a delivery point not called (repeatable)")
    run.add_argument("--min-coverage", type=float, default=0.9, help="share of an interval the data must cover (default 0.9)")
    run.add_argument("--format", choices=["csv", "json"], default="csv")
    run.set_defaults(run=_run)


def _config(args: argparse.Namespace) -> BaselineConfig:
    adjustment = Adjustment(args.adjustment, args.adjustment_minutes, args.adjustment_gap_minutes, args.adjustment_cap)
    return BaselineConfig(
        args.method,
        minutes=args.minutes,
        neutralisation_minutes=args.neutralisation_minutes,
        x=args.x,
        y=args.y,
        days=args.days,
        holidays=args.holidays,
        lookback_days=args.lookback_days,
        low_usage_share=args.low_usage_share,
        adjustment=adjustment,
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CurtailmentRefused("--event-day", f"{text!r} is not a date such as 2026-11-25") from None


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".")


def rows(result: SiteCurtailment, method: str) -> list[list[str]]:
    """The CSV rows of `result`, in COLUMNS order."""
    out = []
    for baseline, item in zip(result.baselines, result.intervals, strict=True):
        out.append(
            [
                result.delivery_point,
                format_datetime(item.start),
                format_datetime(item.end),
                _number(item.baseline_kw),
                _number(baseline.unadjusted_kw),
                _number(item.measured_kw),
                _number(item.achieved_kw),
                _number(item.achieved_kwh),
                "+".join(sorted(flag.value for flag in item.flags)),
                method,
            ]
        )
    return out


def _run(args: argparse.Namespace) -> int:
    try:
        return _report(args)
    except (CurtailmentRefused, OadrError) as exc:
        where = getattr(exc, "field", "argument")
        print(f"error: {where}: {getattr(exc, 'reason', None) or getattr(exc, 'description', exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: --meter: {exc.strerror or exc}: {args.meter}", file=sys.stderr)
        return 2


def _report(args: argparse.Namespace) -> int:
    config = _config(args)
    curves = parse_load_curves(args.meter.read_text(encoding="utf-8-sig"))
    point = args.delivery_point or _only(sorted(curves))
    start, end = parse_datetime(args.start), parse_datetime(args.end)
    notified = parse_datetime(args.notified) if args.notified else None
    result = site_curtailment(
        curves,
        point,
        config,
        start,
        end,
        notified=notified,
        excluded_days=[_day(d) for d in args.event_day],
        controls=args.control,
        min_coverage=args.min_coverage,
    )
    method = describe(config)
    table = rows(result, method)
    if args.format == "json":
        json.dump(_document(result, method, table), sys.stdout, indent=2)
        print()
    else:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(table)
    return 0


def _only(points: Sequence[str]) -> str:
    if len(points) != 1:
        raise CurtailmentRefused(
            "--delivery-point", f"the file holds {len(points)} delivery points ({', '.join(points)}): name one"
        )
    return points[0]


def _document(result: SiteCurtailment, method: str, table: list[list[str]]) -> dict[str, Any]:
    intervals = [dict(zip(COLUMNS[1:-1], row[1:-1], strict=True)) for row in table]
    for interval in intervals:
        for key in ("baseline_kw", "unadjusted_baseline_kw", "measured_kw", "achieved_kw", "achieved_kwh"):
            interval[key] = float(interval[key]) if interval[key] else None
    known = [i.achieved_kwh for i in result.intervals if i.achieved_kwh is not None]
    return {
        "delivery_point": result.delivery_point,
        "method": method,
        "intervals": intervals,
        "achieved_kwh": sum(known) if len(known) == len(result.intervals) else None,
        "intervals_with_value": len(known),
        "intervals_total": len(result.intervals),
    }
