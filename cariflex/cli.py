"""`cariflex <command> …` — dispatches to the VTN's and the VENs' command-line tools."""

import argparse
import logging
import sys

from certs import cli as certs_cli
from demo import cli as demo_cli
from mapping.settings import ConfigError
from ven import cli as ven_cli
from vtn import cli as vtn_cli


def parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    root = argparse.ArgumentParser(prog="cariflex", description="Cariflex OpenADR 2.0b gateway (VTN, VENs, tools).")
    root.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="log verbosity (default INFO)"
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    vtn_cli.register(commands)
    ven_cli.register(commands)
    certs_cli.register(commands)
    demo_cli.register(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `cariflex` command."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.run(args) or 0)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
