"""`cariflex demo`: the whole gateway on the 40 Martinique sites (demo/run.py)."""

import argparse
from pathlib import Path
from typing import Any

from demo.flexmeasures_server import REPO


def register(commands: Any) -> None:
    """Add `demo` to the `cariflex` parser."""
    demo = commands.add_parser(
        "demo",
        help="run the whole gateway on the 40 Martinique sites with an EDF SEI evening-peak alert",
        description="Start PostgreSQL/Redis/Mosquitto when missing, FlexMeasures with the 40 sites, the VTN, the VENs and a "
        "site simulator; send an EDF SEI evening-peak alert and print what happens. Ctrl-C stops everything.",
    )
    demo.add_argument(
        "--fast",
        type=int,
        nargs="?",
        const=16,
        default=None,
        metavar="FACTOR",
        help="compress the 18:00-22:00 evening FACTOR times (default 16: one quarter hour) and place it now",
    )
    demo.add_argument("--level", choices=["VIGILANCE", "ORANGE", "RED"], default="RED", help="the alert's level (default RED)")
    demo.add_argument("--port", type=int, default=8080, help="the VTN's port, 0 for any free one (default 8080)")
    demo.add_argument("--mqtt-port", type=int, default=1883, help="MQTT broker port (default 1883: the machine's)")
    demo.add_argument("--data-dir", type=Path, default=REPO / "var" / "demo", help="data folder (default var/demo; emptied)")
    demo.add_argument("--exit-when-done", action="store_true", help="stop once the curtailment is reported (no UI left running)")
    demo.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from demo.run import DemoOptions, run

    if args.fast is not None and args.fast < 1:
        raise SystemExit("error: --fast FACTOR must be 1 or more")
    options = DemoOptions(
        fast=args.fast,
        data_dir=args.data_dir,
        vtn_port=args.port,
        mqtt_port=args.mqtt_port,
        exit_when_done=args.exit_when_done,
        level=args.level,
    )
    return run(options)
