"""Dedicated PostgreSQL connections outside the SQLAlchemy pool (the leader lock, the change listener).

They hold session state (an advisory lock, a LISTEN) that a pooled connection must not carry, and
they use TCP keepalives so that a dead peer is noticed within seconds rather than hours.
"""

import os

import psycopg

from vtn.store.database import libpq_url

#: keepalive settings: a silent network failure is noticed within about 5 + 3 × 2 = 11 s
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3}
#: the same on the server's side of these sessions (user-settable parameters): when a leader's host is lost,
#: the server drops its session, and so frees the leader lock, within seconds instead of its default two hours
SERVER_KEEPALIVES = "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 -c tcp_user_timeout=11000"


async def connect(db_url: str, application_name: str) -> psycopg.AsyncConnection:
    """An autocommit connection named `application_name`-<process id> (so operators can tell, in
    pg_stat_activity and pg_locks, which process leads or listens)."""
    name = f"{application_name}-{os.getpid()}"
    return await psycopg.AsyncConnection.connect(
        libpq_url(db_url), autocommit=True, application_name=name, connect_timeout=5, options=SERVER_KEEPALIVES, **KEEPALIVES
    )
