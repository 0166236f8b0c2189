"""Engines, sessions and schema migrations of the VTN store, and the one-line reasons a store cannot be used."""

import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from mapping.settings import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreUnavailable(ConfigError):
    """The store a URL names is missing, unreachable or not at the newest schema; the message says which
    store (password hidden), what is wrong and what to do. A ConfigError: the URL comes from configuration,
    so `cariflex` prints it as one line."""


@dataclass(frozen=True)
class Upgraded:
    """What `upgrade` did: the schema revision before (None: there was no schema) and after."""

    before: str | None
    after: str

    def describe(self) -> str:
        """One line: created, upgraded, or already current."""
        if self.before is None:
            return f"created the schema (revision {self.after})"
        if self.before == self.after:
            return f"already at the newest schema (revision {self.after})"
        return f"upgraded the schema from revision {self.before} to {self.after}"


def normalise_url(url: str) -> str:
    """Route `postgresql://` to psycopg 3 (the driver we install) and keep anything else as given."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@dataclass(frozen=True)
class StoreTimeouts:
    """How long the VTN waits on its store before telling the caller to retry ([store] connect_timeout,
    statement_timeout, pool_timeout). Without them a PostgreSQL that drops packets holds every request for the
    whole outage (issue 22)."""

    #: to open a connection (libpq counts whole seconds, at least 2)
    connect: timedelta = timedelta(seconds=5)
    #: one statement, enforced by the server; also libpq's tcp_user_timeout (sent data unacknowledged that long)
    statement: timedelta = timedelta(seconds=15)
    #: to get a connection from the pool when all are in use
    pool: timedelta = timedelta(seconds=5)

    @property
    def call_budget(self) -> timedelta:
        """The longest one store call may take, waiting included: past it the caller is told to retry."""
        return self.connect + self.statement + self.pool


def make_engine(url: str, timeouts: StoreTimeouts | None = None) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys. `timeouts` (PostgreSQL; the pool's
    on SQLite too): None waits as long as the driver does (migrations and the CLI, whose statements may be long)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        pool = {"pool_timeout": timeouts.pool.total_seconds()} if timeouts else {}
        engine = create_engine(url, connect_args={"timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if timeouts is None:
        return create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
    statement_ms = int(timeouts.statement.total_seconds() * 1000)
    connect_args = {
        "connect_timeout": max(2, math.ceil(timeouts.connect.total_seconds())),
        "options": f"-c statement_timeout={statement_ms}",
        # packets dropped: a connection whose sent data stays unacknowledged this long is given up
        "tcp_user_timeout": statement_ms,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    return create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        pool_pre_ping=True,
        pool_timeout=timeouts.pool.total_seconds(),
        connect_args=connect_args,
    )


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at our migrations and at `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def is_postgresql(db_url: str) -> bool:
    """True when `db_url` names a PostgreSQL database (several processes may share it)."""
    return make_url(db_url).get_backend_name() == "postgresql"


def libpq_url(db_url: str) -> str:
    """The SQLAlchemy URL `db_url` as a libpq connection URI (no driver suffix)."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """`url` fit for a message: its password hidden (an unparsable URL is shown as given: it holds none we know of)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def newest_revision() -> str:
    """The schema revision the code expects (the migrations' head)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, f"no migration in {MIGRATIONS}"
    return head


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str) -> Upgraded:
    """Create or upgrade the schema at `url` to the newest migration; says what it did.

    Raises StoreUnavailable when the database, its server or its role is not there (a SQLite file is
    created, a PostgreSQL database is not: that takes the server's administrator)."""
    engine = _engine(url, make_engine)
    try:
        with _reaching(url, any_statement=False), engine.begin() as connection:
            before = _current_revision(connection)
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            return Upgraded(before, _current_revision(connection) or newest_revision())
    finally:
        engine.dispose()


def require_schema(url: str) -> None:
    """Check, without creating or changing anything, that `url` holds a VTN store at the newest schema.

    Raises StoreUnavailable saying what is wrong: no SQLite file (none is created), an unreachable
    database, no schema, or an older schema (`cariflex db upgrade` migrates it)."""
    engine = _engine(url, lambda u: create_engine(normalise_url(u)))  # no pragmas: a read changes nothing
    try:
        if engine.dialect.name == "sqlite":
            path = engine.url.database
            if not path or path == ":memory:" or not Path(path).is_file():
                raise StoreUnavailable(f"no VTN store at {shown_url(url)} (nothing created)")
        with _reaching(url, any_statement=True), engine.connect() as connection:
            revision = _current_revision(connection) if inspect(connection).has_table("alembic_version") else None
    finally:
        engine.dispose()
    if revision is None:
        raise StoreUnavailable(f"{shown_url(url)} holds no VTN store (no schema; nothing created)")
    newest = newest_revision()
    if revision != newest:
        raise StoreUnavailable(
            f"the VTN store at {shown_url(url)} is at schema revision {revision}, this version needs {newest}: "
            "run `cariflex db upgrade` on it first"
        )


def _engine(url: str, make: Callable[[str], Engine]) -> Engine:
    """`make(url)`, with a malformed URL or an unknown kind of database told in one line."""
    try:
        return make(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:  # ImportError: a database we install no driver for
        raise StoreUnavailable(
            f"cannot open {shown_url(url)} ({exc}); a store URL is sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from exc
    except OSError as exc:  # make_engine makes a SQLite file's folder
        raise StoreUnavailable(f"cannot create the folder of the SQLite store {shown_url(url)}: {exc.strerror}") from exc


@contextmanager
def _reaching(url: str, *, any_statement: bool) -> Iterator[None]:
    """Turn a failed connection (and, with `any_statement`, any database error) into StoreUnavailable
    naming what is missing and how to create it; a statement failing in a migration keeps its traceback."""
    try:
        yield
    except DBAPIError as exc:
        if exc.statement is not None and not any_statement:
            raise
        raise StoreUnavailable(_unreachable(url, str(exc.orig))) from exc


def _unreachable(url: str, reason: str) -> str:
    """One line: which store, what is missing (PostgreSQL database, role or server; SQLite file) and the fix."""
    parsed = make_url(url)
    where = f"-h {parsed.host or '127.0.0.1'}" + (f" -p {parsed.port}" if parsed.port else "")
    database = re.search(r'database "([^"]+)" does not exist', reason)
    if database:
        owner = f" -O {parsed.username}" if parsed.username else ""
        return (
            f"no PostgreSQL database {database.group(1)} at {shown_url(url)}; "
            f"create it as a PostgreSQL superuser: createdb {where}{owner} {database.group(1)}"
        )
    role = re.search(r'role "([^"]+)" does not exist', reason)
    if role:
        return (
            f"no PostgreSQL role {role.group(1)} at {shown_url(url)}; "
            f"create it as a PostgreSQL superuser: createuser {where} {role.group(1)}"
        )
    first = next((line.strip() for line in reason.splitlines() if line.strip()), "no reason given")
    return f"cannot use the store at {shown_url(url)}: {first}"


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
