"""Fresh databases for tests: a SQLite file or a new PostgreSQL database per test."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

#: The PostgreSQL server the suite uses (`make test` starts one when none answers).
PG_ADMIN_DSN = os.environ.get("CARIFLEX_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


def pg_url(database: str) -> str:
    """SQLAlchemy URL of `database` on the test server."""
    params = dict(part.split("=", 1) for part in PG_ADMIN_DSN.split())
    auth = params["user"] + (f":{params['password']}" if "password" in params else "")
    return f"postgresql+psycopg://{auth}@{params.get('host', '127.0.0.1')}:{params.get('port', '5432')}/{database}"


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database of `kind` ('sqlite' or 'postgresql'), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'vtn.db'}"
        return
    name = f"cfx_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
