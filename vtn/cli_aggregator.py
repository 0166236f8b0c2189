"""`cariflex aggregator client add NAME`: an aggregator API client (OAuth2 client credentials, scope
`flexready`). Clients live beside the DSO API's (`cariflex dso client list|disable` manage both);
the secret is shown once and stored hashed."""

import argparse
from typing import Any

from vtn.aggregator.common import SCOPE
from vtn.cli_dso import add_client


def register(commands: Any, config_args: Any, store_of: Any) -> None:
    """Add `aggregator client add` to the `cariflex` parser (helpers come from vtn.cli)."""
    aggregator = commands.add_parser("aggregator", help="aggregator API clients", description="Aggregator API clients.")
    groups = aggregator.add_subparsers(dest="aggregator_command", required=True, metavar="WHAT")
    client = groups.add_parser("client", help="OAuth2 clients of the aggregator API")
    actions = client.add_subparsers(dest="client_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an aggregator client and print its secret (shown once)")
    config_args(add)
    add.add_argument("client_id", help="the aggregator's client id (e.g. agregateur-caraibes)")
    add.add_argument("--secret-stdin", action="store_true", help="read the secret from stdin instead of generating one")
    add.set_defaults(run=lambda args: _add(args, store_of))


def _add(args: argparse.Namespace, store_of: Any) -> int:
    return add_client(args, store_of, frozenset({SCOPE}))
