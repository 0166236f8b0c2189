"""Fixtures: a fresh store per test (SQLite and PostgreSQL) and a running VTN on it."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.databases import fresh_database
from tests.support.flexmeasures import flexmeasures  # noqa: F401  (session fixture: a real FlexMeasures)
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn

# `cariflex demo --fast` in the background of the session when tests/test_demo.py is selected
pytest_plugins = ["tests.support.demo_run"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store, once on SQLite and once on PostgreSQL."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """An empty SQLite store (for tests whose subject is not the database)."""
    with fresh_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
async def vtn(db_url: str) -> AsyncIterator[VtnUnderTest]:
    """Our VTN, running on each store backend."""
    async with running_vtn(config_for_tests(db_url)) as running:
        yield running


@pytest.fixture
async def vtn_sqlite(sqlite_url: str) -> AsyncIterator[VtnUnderTest]:
    """Our VTN on SQLite only."""
    async with running_vtn(config_for_tests(sqlite_url)) as running:
        yield running
