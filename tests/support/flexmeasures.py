"""A real FlexMeasures 1.0.1 server for tests: installed if needed, fresh database, stopped afterwards.

Register the session fixture for the whole suite with this line in tests/conftest.py::

    from tests.support.flexmeasures import flexmeasures  # noqa: F401  (session fixture: a real FlexMeasures)

and ask for it by name (``async def test_x(flexmeasures): ...``). Outside pytest, use the context
manager: ``with flexmeasures_server() as fm: ...``.

Bring-up (``scripts/flexmeasures.sh``): its own venv (~2 min the first time, then reused), a new
PostgreSQL database named ``cfx_fm_<random>`` on the suite's server, a Redis database number of its
own, migrations, account, user, ``flexmeasures run`` on a free loopback port and one RQ worker on
the ``scheduling`` queue. About 25 s on a 2-core machine, once per session. Afterwards everything
is stopped and the database dropped; if pytest dies first, a watchdog does it.

Set CARIFLEX_FLEXMEASURES=skip to skip the tests that need it (e.g. a quick local run).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.flexmeasures_server import FlexMeasuresServer, flexmeasures_server

__all__ = ["FlexMeasuresServer", "flexmeasures", "flexmeasures_server"]


class _SharedServer:
    """One server per pytest session, however many places register the fixture.

    A fixture imported into tests/conftest.py and again into a test module is two fixture
    definitions, each with its own session cache; counting users here keeps it to one server.
    """

    def __init__(self) -> None:
        self.users = 0
        self.server: FlexMeasuresServer | None = None
        self._context: Any = None

    def acquire(self, run_dir_factory: Callable[[], Path], echo: Callable[[str], None]) -> FlexMeasuresServer:
        if self.server is None:
            context = flexmeasures_server(run_dir_factory(), echo)
            self.server = context.__enter__()
            self._context = context
        self.users += 1
        return self.server

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self._context is not None:
            context, self._context, self.server = self._context, None, None
            context.__exit__(None, None, None)


_shared = _SharedServer()


@pytest.fixture(scope="session")
def flexmeasures(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlexMeasuresServer]:
    """A real FlexMeasures 1.0.1 (server + scheduling worker) on a fresh database, for the whole session."""
    if os.environ.get("CARIFLEX_FLEXMEASURES", "").lower() == "skip":
        pytest.skip("CARIFLEX_FLEXMEASURES=skip")
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    reporter = pytestconfig.pluginmanager.getplugin("terminalreporter")

    def echo(line: str) -> None:
        # Progress goes to the terminal as it happens (the first install takes minutes).
        if capture is None or reporter is None:
            print(line, flush=True)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)

    server = _shared.acquire(lambda: tmp_path_factory.mktemp("flexmeasures"), echo)
    try:
        yield server
    finally:
        _shared.release()
