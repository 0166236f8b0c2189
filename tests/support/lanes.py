"""The fast lane, `make test-fast`: the tests that need nothing but the pytest process, selected with `-m FAST_LANE`
— and kept honest, so the lane cannot silently grow what it promises to leave out.

- A test that needs more than the pytest process — a server (PostgreSQL, FlexMeasures, Mosquitto), a program it
  starts (`cariflex vtn|ven`, nginx, chromium, another venv's Python, the FlexMeasures scripts), the background
  demo — carries the `external` marker. Tests that use the `flexmeasures`, `background_demo` or `influxdb`
  fixture, or carry the `flexmeasures`, `postgres` or `quarter_hour` marker (the PostgreSQL half of the `db_url`
  fixture, too), get it here at collection; the others carry it in their module (`pytestmark`) or on the test.
- A test without it that starts a program fails, naming the program ("mark it `external`"): every program
  goes through `subprocess.Popen` (subprocess.run, asyncio's subprocesses, playwright's driver), which is
  refused while such a test sets up and runs — in `make test` too, where CI sees it.
- `slow` (in the pytest process, but more than about 5 s: fuzzing, events run in real time) is the author's
  call; `make test-fast` prints its slowest tests to show what should be.

`make test` selects everything, markers or not. Registered in tests/conftest.py (`pytest_plugins`).
"""

import subprocess
from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import pytest

#: the `-m` expression of `make test-fast`
FAST_LANE = "not slow and not external"
EXTERNAL = "external"
#: fixtures that bring something from outside the pytest process, whoever asks for them (directly or not)
EXTERNAL_FIXTURES = frozenset({"flexmeasures", "background_demo", "influxdb"})
#: markers that imply `external`
EXTERNAL_MARKERS = frozenset({EXTERNAL, "flexmeasures", "postgres", "quarter_hour"})


def needs_outside(item: pytest.Item) -> bool:
    """Whether `item` needs more than the pytest process, by its fixtures and markers."""
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(fixtures & EXTERNAL_FIXTURES) or any(item.get_closest_marker(name) for name in EXTERNAL_MARKERS)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects (pytest's own hook, called after this one)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `external` every test that needs more than the pytest process."""
    for item in items:
        if needs_outside(item) and item.get_closest_marker(EXTERNAL) is None:
            item.add_marker(EXTERNAL)


class ProgramStarted(pytest.fail.Exception):
    """A test not marked `external` started a program."""


@contextmanager
def no_programs(nodeid: str) -> Iterator[None]:
    """While inside, starting a program fails the test `nodeid`, naming it."""
    original = subprocess.Popen.__init__

    def refuse(self: subprocess.Popen, *args: Any, **kwargs: Any) -> None:
        command = args[0] if args else kwargs.get("args", "?")
        program = str(command) if isinstance(command, str | bytes) else " ".join(str(a) for a in command)
        raise ProgramStarted(
            f"{nodeid} starts a program ({program[:200]}) but is not marked `{EXTERNAL}`: mark it "
            f"(`pytestmark = pytest.mark.{EXTERNAL}`), which keeps it out of the fast lane (tests/support/lanes.py)",
            pytrace=False,
        )

    subprocess.Popen.__init__ = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        subprocess.Popen.__init__ = original  # type: ignore[method-assign]


def _guard(item: pytest.Item) -> AbstractContextManager[None]:
    return nullcontext() if item.get_closest_marker(EXTERNAL) is not None else no_programs(item.nodeid)


# the set-up (fixtures included: a module-scoped fixture that starts a program is set up within the first test that
# asks for it) and the call; not the teardown, where a session fixture the last test did not ask for may stop
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    """Refuse programs while an unmarked test's fixtures are set up."""
    with _guard(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Refuse programs while an unmarked test runs."""
    with _guard(item):
        return (yield)
