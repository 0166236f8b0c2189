"""`cariflex user add|list` — operator UI accounts. Never prompts: the password comes from an
environment variable (--password-env NAME) or from standard input (--password-stdin)."""

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from vtn.context import utc_now
from vtn.store import ui_repository as users
from vtn.ui.auth import hash_password

MIN_PASSWORD = 8


def register(commands: Any, config_args: Callable[[argparse.ArgumentParser], None], store_of: Callable[..., Any]) -> None:
    """Add `user …` to the `cariflex` parser."""
    user = commands.add_parser("user", help="operator UI accounts", description="Create and list operator UI accounts.")
    actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a user, or replace an existing user's password and role")
    config_args(add)
    add.add_argument("username")
    add.add_argument(
        "--role", choices=users.ROLES, default="viewer", help="viewer (read only, default) or operator (read and act)"
    )
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--password-env", metavar="NAME", help="read the password from environment variable NAME")
    source.add_argument("--password-stdin", action="store_true", help="read the password from the first line of standard input")
    add.set_defaults(run=lambda args: _run_add(args, store_of))
    listing = actions.add_parser("list", help="list users and roles")
    config_args(listing)
    listing.set_defaults(run=lambda args: _run_list(args, store_of))


def _password(args: argparse.Namespace) -> str:
    if args.password_env:
        if args.password_env not in os.environ:
            raise SystemExit(f"error: --password-env: environment variable {args.password_env} is not set")
        return os.environ[args.password_env]
    return sys.stdin.readline().rstrip("\r\n")


def _run_add(args: argparse.Namespace, store_of: Callable[..., Any]) -> int:
    password = _password(args)
    if len(password) < MIN_PASSWORD:
        print(f"error: password: at least {MIN_PASSWORD} characters are needed", file=sys.stderr)
        return 1
    if not args.username.strip() or len(args.username) > 128:
        print("error: username: 1 to 128 characters", file=sys.stderr)
        return 1
    with store_of(args, create=True) as (_, store):
        created = store.call_sync(users.save_user, args.username, hash_password(password), args.role, utc_now())
    print(f"{'created' if created else 'updated'} user {args.username} ({args.role})")
    return 0


def _run_list(args: argparse.Namespace, store_of: Callable[..., Any]) -> int:
    with store_of(args) as (_, store):
        for username, role in store.call_sync(users.list_users):
            print(f"{username}  {role}")
    return 0
