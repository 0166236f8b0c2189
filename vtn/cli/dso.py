"""`cariflex dso client …`: the upstream (DSO) API's OAuth2 clients. Secrets are shown once, stored hashed.
`cariflex dso spot-prices` sits beside it (vtn/cli/spot_prices.py)."""

import argparse
import sys
from typing import Any

from vtn.auth.secrets import hash_secret, new_secret
from vtn.cli import spot_prices
from vtn.context import utc_now
from vtn.dso.config import DEFAULT_SCOPES
from vtn.store import dso_repository as dso_repo

#: every scope a DSO client can hold (3.0.1 and 3.1 names)
KNOWN_SCOPES = (
    "read_all",
    "read_targets",
    "read_ven_objects",
    "write_programs",
    "write_events",
    "write_subscriptions",
    "write_reports",
    "write_vens",
)


def client_actions(commands: Any, api: str, about: str, more: Any = None, *more_args: Any) -> Any:
    """The action subparsers of `cariflex <api> client`, where an API's OAuth2 clients are managed; `more`
    (called with the `<api>` subparsers and `more_args`) adds other subcommands beside `client`."""
    parser = commands.add_parser(api, help=f"{about} clients", description=f"{about} clients.")
    groups = parser.add_subparsers(dest=f"{api}_command", required=True, metavar="WHAT")
    if more is not None:
        more(groups, *more_args)
    client = groups.add_parser("client", help=f"OAuth2 clients of the {about}")
    return client.add_subparsers(dest="client_command", required=True, metavar="ACTION")


def client_add_parser(actions: Any, config_args: Any, example: str) -> argparse.ArgumentParser:
    """`… client add CLIENT_ID [--secret-stdin]`; the caller adds its own options and sets `run`."""
    add = actions.add_parser("add", help="create a client and print its secret (shown once)")
    config_args(add)
    add.add_argument("client_id", help=f"the client id (e.g. {example})")
    add.add_argument("--secret-stdin", action="store_true", help="read the secret from stdin instead of generating one")
    return add


def register(commands: Any, config_args: Any, store_of: Any) -> None:
    """Add `dso client add|list|disable` to the `cariflex` parser (config_args and store_of are vtn.cli.store's)."""
    actions = client_actions(commands, "dso", "DSO (upstream OpenADR 3) API", spot_prices.register, config_args, store_of)
    add = client_add_parser(actions, config_args, "edf-sei")
    add.add_argument("--scopes", default=" ".join(DEFAULT_SCOPES), help=f"space-separated (default: {' '.join(DEFAULT_SCOPES)})")
    add.set_defaults(run=lambda args: _add(args, store_of))
    listing = actions.add_parser("list", help="list clients (never their secrets)")
    config_args(listing)
    listing.set_defaults(run=lambda args: _list(args, store_of))
    disable = actions.add_parser("disable", help="refuse a client new tokens")
    config_args(disable)
    disable.add_argument("client_id")
    disable.set_defaults(run=lambda args: _disable(args, store_of))


def _add(args: argparse.Namespace, store_of: Any) -> int:
    scopes = frozenset(args.scopes.split())
    unknown = sorted(scopes - set(KNOWN_SCOPES))
    if unknown or not scopes:
        print(f"error: --scopes: unknown {' '.join(unknown) or '(none given)'}; known: {' '.join(KNOWN_SCOPES)}", file=sys.stderr)
        return 2
    return add_client(args, store_of, scopes)


def add_client(args: argparse.Namespace, store_of: Any, scopes: frozenset[str]) -> int:
    """Store a client with `scopes` and print its id, secret (shown once) and scopes — for the DSO and
    the aggregator APIs alike (`--secret-stdin` reads the secret instead of generating one)."""
    secret = sys.stdin.readline().strip() if args.secret_stdin else new_secret()
    if len(secret) < 16:
        print("error: the secret must be at least 16 characters", file=sys.stderr)
        return 2
    with store_of(args, create=True) as (_, store):
        if not store.call_sync(dso_repo.add_client, args.client_id, hash_secret(secret), scopes, utc_now()):
            print(f"error: client {args.client_id} exists", file=sys.stderr)
            return 1
    print(f"client_id={args.client_id}")
    print(f"client_secret={secret}")
    print(f"scopes={' '.join(sorted(scopes))}")
    return 0


def _list(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        for client_id, scopes, disabled, created in store.call_sync(dso_repo.list_clients):
            print(f"{client_id}\t{scopes}\t{'disabled' if disabled else 'active'}\t{created.isoformat()}")
    return 0


def _disable(args: argparse.Namespace, store_of: Any) -> int:
    with store_of(args) as (_, store):
        if not store.call_sync(dso_repo.disable_client, args.client_id):
            print(f"error: no client {args.client_id}", file=sys.stderr)
            return 1
    print(f"client {args.client_id} disabled")
    return 0
