"""`cariflex db reporting-role`: the PostgreSQL role that may read the reporting views and nothing else
(docs/reporting.md). Never prompts: the password comes from an environment variable the operator names."""

import argparse
import os
import sys
from typing import Any

from vtn.store.database import StoreUnavailable, shown_url
from vtn.store.reporting import DEFAULT_ROLE, ReportingRefused, grant_reporting_role


def register(db_commands: Any, config_args: Any, load: Any) -> None:
    """Add `reporting-role` to `cariflex db` (config_args and load are vtn.cli.store's)."""
    role = db_commands.add_parser(
        "reporting-role",
        help="create or adjust the read-only role of the reporting views (Metabase)",
        description="Create or adjust a PostgreSQL role that may SELECT the views of the schema `reporting` and "
        "nothing else. With --password-env it can log in (point Metabase at it); without, it is NOLOGIN.",
    )
    config_args(role)
    role.add_argument("--role", default=DEFAULT_ROLE, help=f"the role's name (default: {DEFAULT_ROLE})")
    role.add_argument("--password-env", metavar="NAME", help="read the role's password from environment variable NAME")
    role.set_defaults(run=lambda args: _run(args, load))


def _run(args: argparse.Namespace, load: Any) -> int:
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            print(f"error: --password-env: environment variable {args.password_env} is not set", file=sys.stderr)
            return 2
    config = load(args)
    try:
        done = grant_reporting_role(config.db_url, args.role, password)
    except ReportingRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    how = "can log in with the given password" if done.login else "NOLOGIN (grant it to a login role: GRANT role TO user)"
    print(
        f"role {done.role} {'created' if done.created else 'adjusted'} on {shown_url(config.db_url)}: {how}; "
        f"it may SELECT reporting.{', reporting.'.join(done.views)} and nothing else"
    )
    if done.later_views_of is None:
        print(
            "note: views a later revision adds are not granted to it (this user is no member of the schema's owner): "
            "run this command again after a `cariflex db upgrade` that adds views, or run it as the store's owner"
        )
    return 0
