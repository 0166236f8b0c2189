"""Databases for tests: a SQLite file or a new PostgreSQL database per test, empty or at the newest schema.

Running every migration for every test cost most of a database test's time, so a test that wants a
store at the newest schema gets a copy of a template migrated once per test session (per xdist
worker): the SQLite file is copied, the PostgreSQL database is created `TEMPLATE` it. Tests about
migrations themselves ask for an empty database (`fresh_database`).
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from vtn.store.database import upgrade

#: The PostgreSQL server the suite uses (`make test` starts one when none answers).
PG_ADMIN_DSN = os.environ.get("CARIFLEX_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


def pg_url(database: str) -> str:
    """SQLAlchemy URL of `database` on the test server."""
    params = dict(part.split("=", 1) for part in PG_ADMIN_DSN.split())
    auth = params["user"] + (f":{params['password']}" if "password" in params else "")
    return f"postgresql+psycopg://{auth}@{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{database}"


def _new_pg_database(template: str | None = None) -> str:
    name = f"cfx_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def _drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database of `kind` ('sqlite' or 'postgresql'), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'vtn.db'}"
        return
    name = _new_pg_database()
    try:
        yield pg_url(name)
    finally:
        _drop_pg_database(name)


@dataclass
class MigratedTemplates:
    """Stores at the newest schema, each migrated once and then copied (one instance per test session)."""

    folder: Path
    _sqlite: Path | None = None
    _postgresql: str | None = None

    @contextmanager
    def database(self, kind: str, tmp_path: Path) -> Iterator[str]:
        """Yield the URL of a database of `kind` at the newest schema, a copy of the template, dropped afterwards."""
        if kind == "sqlite":
            target = tmp_path / "vtn.db"
            shutil.copyfile(self._sqlite_template(), target)
            yield f"sqlite:///{target}"
            return
        name = _new_pg_database(template=self._postgresql_template())
        try:
            yield pg_url(name)
        finally:
            _drop_pg_database(name)

    def _sqlite_template(self) -> Path:
        if self._sqlite is None:
            path = self.folder / "template.db"
            upgrade(f"sqlite:///{path}")  # its engine is disposed: no WAL file is left beside it
            self._sqlite = path
        return self._sqlite

    def _postgresql_template(self) -> str:
        if self._postgresql is None:
            self._postgresql = _new_pg_database()
            upgrade(pg_url(self._postgresql))  # disposes its engine: CREATE DATABASE … TEMPLATE needs no other session on it
        return self._postgresql

    def close(self) -> None:
        """Drop the PostgreSQL template, if one was made."""
        if self._postgresql is not None:
            _drop_pg_database(self._postgresql)
