"""Persistence of everything the VTN accepts: SQLAlchemy 2.x models, Alembic migrations, queries."""
