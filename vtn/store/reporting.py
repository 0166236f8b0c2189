"""The read-only reporting role: a PostgreSQL role that may SELECT the views of the schema `reporting`
(revision 0014, docs/reporting.md) and nothing else.

Roles belong to the PostgreSQL cluster, not to one database, so the migration makes the views and this module
(`cariflex db reporting-role`) makes or adjusts the role, as the operator asks: with a password it can log in
(Metabase connects as it), without one it is NOLOGIN (to be granted to a login role of the operator's own).
It is given CONNECT on the store's database, USAGE on `reporting`, SELECT on its views, also on views a later
revision adds (default privileges), and transactions read-only by default. It is given nothing on the store's
own tables: a view reads them with its owner's rights, so the role sees only what the views show.
"""

import re
from dataclasses import dataclass

from sqlalchemy import String, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from mapping.refusal import Refused
from vtn.store.database import is_postgresql, make_engine, require_schema

#: the schema revision 0014 creates
SCHEMA = "reporting"
DEFAULT_ROLE = "cariflex_reporting"
#: a plain lower-case PostgreSQL identifier (no quoting games in a role name)
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class ReportingRefused(Refused):
    """The role cannot be made as asked: the field and why."""


@dataclass(frozen=True)
class RoleGranted:
    """What `grant_reporting_role` did."""

    role: str
    created: bool
    login: bool
    views: tuple[str, ...]
    #: whether views a later revision adds are granted too (None: they are not — the command's user is no member of
    #: the schema's owner, so the command must run again after such an upgrade); the owner's name otherwise
    later_views_of: str | None = None


def _literal(connection: Connection, value: str) -> str:
    """`value` as a SQL string literal (ALTER ROLE … PASSWORD takes no bound parameter)."""
    render = String().literal_processor(connection.dialect)
    assert render is not None  # String always has one
    return render(value)


def _views(connection: Connection) -> tuple[str, ...]:
    query = text("SELECT table_name FROM information_schema.views WHERE table_schema = :schema ORDER BY table_name")
    return tuple(connection.execute(query, {"schema": SCHEMA}).scalars())


def _check(connection: Connection, role: str) -> bool:
    """Refuse a role that already holds more than reading needs; True when it exists."""
    found = connection.execute(
        text("SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls FROM pg_roles WHERE rolname = :r"),
        {"r": role},
    ).first()
    if found is None:
        return False
    if found[0]:
        raise ReportingRefused("role", f"{role} is a superuser or may create roles or databases: choose another role name")
    if connection.execute(text("SELECT current_user")).scalar_one() == role:
        raise ReportingRefused("role", f"{role} is the role the store is reached as: choose another role name")
    owns = text("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = :r")
    if connection.execute(owns, {"r": role}).scalar_one():
        raise ReportingRefused("role", f"{role} owns tables in this database: choose another role name")
    return True


def _run(connection: Connection, statement: str) -> None:
    """Run one statement; PostgreSQL's refusal (the store's user may not create roles…) said without the password."""
    try:
        connection.exec_driver_sql(statement)
    except DBAPIError as exc:
        shown = statement.split(" PASSWORD ", 1)[0]
        cause = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        raise ReportingRefused(
            "role", f"PostgreSQL refused {shown}: {cause}; run the command with --db naming a user with CREATEROLE"
        ) from None


def grant_reporting_role(db_url: str, role: str = DEFAULT_ROLE, password: str | None = None) -> RoleGranted:
    """Create `role` (or adjust it) to read the reporting views of the store at `db_url` and nothing else;
    LOGIN with `password`, NOLOGIN without. Refused on SQLite, before revision 0014, or for a role that could
    do more than read; a missing or older store is a StoreUnavailable."""
    if not _ROLE_NAME.fullmatch(role):
        raise ReportingRefused(
            "role", f"{role!r} must be lower-case letters, digits and _ (at most 63), not starting with a digit"
        )
    if password is not None and not password:
        raise ReportingRefused("password", "is empty: give a password, or none for a NOLOGIN role")
    if not is_postgresql(db_url):
        raise ReportingRefused("store", "the reporting views and role exist on PostgreSQL only (SQLite has no roles)")
    require_schema(db_url)  # a missing, unreachable or older store: StoreUnavailable says which and what to do
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            views = _views(connection)
            existed = _check(connection, role)
            login = f"LOGIN PASSWORD {_literal(connection, password)}" if password is not None else "NOLOGIN"
            verb = "ALTER" if existed else "CREATE"
            database = connection.execute(text("SELECT current_database()")).scalar_one()
            # default privileges apply to objects their FOR ROLE creates: the schema's owner, who runs the migrations
            # that add views — not whoever runs this command (a CREATEROLE user named by --db), and only a member of
            # the owner (a superuser, the owner itself) may set them for it
            owner, member = connection.execute(
                text(
                    "SELECT nspowner::regrole::text, pg_has_role(current_user, nspowner, 'MEMBER') "
                    "FROM pg_namespace WHERE nspname = :s"
                ),
                {"s": SCHEMA},
            ).one()
            statements = [
                f"{verb} ROLE {role} {login}",
                f"ALTER ROLE {role} SET default_transaction_read_only = on",
                f"GRANT CONNECT ON DATABASE {connection.dialect.identifier_preparer.quote(database)} TO {role}",
                f"GRANT USAGE ON SCHEMA {SCHEMA} TO {role}",
                f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {role}",
            ]
            if member:
                statements.append(
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {SCHEMA} GRANT SELECT ON TABLES TO {role}"
                )
            for statement in statements:
                _run(connection, statement)
        return RoleGranted(role, not existed, password is not None, views, owner if member else None)
    finally:
        engine.dispose()
