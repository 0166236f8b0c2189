"""Persistence of everything the VTN accepts: SQLAlchemy 2.x models, Alembic migrations, queries.

Only this package imports SQLAlchemy (an import-linter contract checks it). Code elsewhere composes
store functions inside one transaction through the handle `Tx` that `StoreWorker.call` passes, and
learns of a unique-key race as `Conflict` and of a store that does not answer as `StoreDown`, never as
a SQLAlchemy exception.
"""

from sqlalchemy.orm import Session

#: the transaction handle a store call hands to its function (pass it on to store functions only)
Tx = Session


class Conflict(Exception):
    """Another writer stored the same key first (a unique constraint refused this transaction)."""


class StoreDown(Exception):
    """The store did not answer: refused or dropped the connection, or a connect, pool or statement timeout
    ran out. Worth retrying later; the message (for the log, never for a caller) says what happened."""


__all__ = ["Conflict", "StoreDown", "Tx"]
