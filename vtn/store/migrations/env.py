"""Alembic environment: runs migrations on the connection `upgrade()` hands over, or on the URL."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from vtn.store import curtailment_models  # noqa: F401  (its tables belong to Base.metadata)
from vtn.store import ui_models  # noqa: F401  (the operator UI tables, so Alembic sees them)
from vtn.store import dso_models  # noqa: F401  (registers the DSO API tables)
from vtn.store import aggregator_models  # noqa: F401  (the aggregator API's orders and series)
import vtn.store.security_models  # noqa: F401  (issue 9's tables)
from vtn.store.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    """Run migrations online (we never generate offline SQL scripts)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
