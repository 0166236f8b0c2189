"""The store's models and its Alembic migrations describe the same schema, on SQLite and on PostgreSQL: a
model changed without a migration (or the other way round) fails here, not on an operator's database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import vtn.store.aggregator_models
import vtn.store.curtailment_models
import vtn.store.dso_models
import vtn.store.security_models
import vtn.store.ui_models  # noqa: F401  (every model module registers its tables on Base)
from vtn.store.database import normalise_url
from vtn.store.models import Base


def test_migrations_and_models_agree(db_url):
    engine = create_engine(normalise_url(db_url))
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
    assert {"ix_event_response_ven", "ix_event_response_event_ven"} <= {
        i.name for i in Base.metadata.tables["event_response"].indexes
    }
