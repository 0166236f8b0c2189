"""`cariflex <command> …` — dispatches to the VTN's and the VENs' command-line tools."""

import argparse
import os
import select
import sys

from certs import cli as certs_cli
from demo import cli as demo_cli
from mapping.settings import ConfigError
from observability.logs import configure
from ven import cli as ven_cli
from vtn import cli as vtn_cli


def parser() -> argparse.ArgumentParser:
    """The full command-line grammar."""
    root = argparse.ArgumentParser(prog="cariflex", description="Cariflex OpenADR 2.0b gateway (VTN, VENs, tools).")
    root.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="log verbosity (default INFO)"
    )
    root.add_argument(
        "--log-format",
        default=os.environ.get("CARIFLEX_LOG_FORMAT", "text"),
        choices=["text", "json"],
        help="text (default) or json: one JSON object per line (env CARIFLEX_LOG_FORMAT sets the default)",
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
    if args.log_format not in ("text", "json"):  # argparse does not check a default taken from the environment
        print(f"error: CARIFLEX_LOG_FORMAT must be text or json, not {args.log_format!r}", file=sys.stderr)
        return 2
    configure(args.log_level, args.log_format)
    try:
        return int(args.run(args) or 0)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        if not _stdout_reader_gone():
            raise  # another pipe or socket: a real failure
        # our output's reader went away (`… | head`): end quietly, as SIGPIPE would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _stdout_reader_gone() -> bool:
    """True when standard output is a pipe whose reading end is closed (poll says POLLERR on it)."""
    poller = select.poll()
    poller.register(sys.stdout.fileno(), select.POLLOUT)
    return any(events & select.POLLERR for _fd, events in poller.poll(0))


if __name__ == "__main__":
    sys.exit(main())
