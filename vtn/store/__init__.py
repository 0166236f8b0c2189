"""Persistence of everything the VTN accepts: SQLAlchemy 2.x models, Alembic migrations, queries.

Only this package imports SQLAlchemy (an import-linter contract checks it). Code elsewhere composes
store functions inside one transaction through the handle `Tx` that `StoreWorker.call` passes, and
learns of a unique-key race as `Conflict`, never as a SQLAlchemy exception.
"""

from sqlalchemy.orm import Session

#: the transaction handle a store call hands to its function (pass it on to store functions only)
Tx = Session


class Conflict(Exception):
    """Another writer stored the same key first (a unique constraint refused this transaction)."""


__all__ = ["Conflict", "Tx"]
