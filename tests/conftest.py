"""Fixtures: a fresh store per test (SQLite and PostgreSQL), at the newest schema, and a running VTN on it."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.databases import MigratedTemplates
from tests.support.flexmeasures import flexmeasures  # noqa: F401  (session fixture: a real FlexMeasures)
from tests.support.influxdb import influxdb  # noqa: F401  (session fixture: a real InfluxDB 1.x per worker)
from tests.support.pki import TestPki, make_test_pki
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from vtn.store.worker import StoreWorker

# `cariflex demo --fast` in the background of the session when tests/test_demo.py is selected; the fast lane's
# `external` marker, given and checked; pytester, for tests/test_suite_setup.py to try the latter on a suite of its own
pytest_plugins = ["tests.support.demo_run", "tests.support.lanes", "pytester"]


@pytest.fixture(scope="session")
def store_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    """Stores migrated once per session, copied for each test."""
    templates = MigratedTemplates(tmp_path_factory.mktemp("store-templates"))
    yield templates
    templates.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, store_templates: MigratedTemplates) -> Iterator[str]:
    """A new store at the newest schema and without data, once on SQLite and once on PostgreSQL."""
    with store_templates.database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def db_store(db_url: str) -> Iterator[StoreWorker]:
    """A store worker on `db_url` (each backend), closed afterwards."""
    worker = StoreWorker(db_url)
    yield worker
    worker.close()


@pytest.fixture
def sqlite_url(tmp_path: Path, store_templates: MigratedTemplates) -> Iterator[str]:
    """A new SQLite store at the newest schema, without data (for tests whose subject is not the database)."""
    with store_templates.database("sqlite", tmp_path) as url:
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


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """One throw-away PKI for the session (read-only for tests: a test that needs other certificates makes its own)."""
    return make_test_pki(tmp_path_factory.mktemp("pki"))
