"""The suite's own machinery: what `make test` relies on to run tests side by side safely, and what keeps the fast
lane (`make test-fast`) to the tests that need nothing but the pytest process."""

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.lanes import FAST_LANE, ProgramStarted

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.xdist_group("probe")
def test_xdist_groups_keep_their_tests_on_one_worker(request: pytest.FixtureRequest) -> None:
    """Tests that share something on disk or a server (FlexMeasures, the OpenADR 3 client's venv) are grouped
    with xdist_group; pytest-xdist marks a grouped test's id with its group, or the group is silently ignored
    (as with pytest 9.2 and pytest-xdist 3.8, which raced two workers on one venv)."""
    if not hasattr(request.config, "workerinput") or not request.config.getvalue("loadgroup"):
        pytest.skip("not under pytest-xdist --dist loadgroup (make test runs it so)")
    assert request.node.nodeid.endswith("@probe")


def test_an_unmarked_test_that_starts_a_program_fails_naming_it() -> None:
    """This test is not marked `external`: the fast lane would run it, so it may not start a program."""
    with pytest.raises(ProgramStarted, match=r"starts a program \(true\) but is not marked `external`"):
        subprocess.run(["true"], check=True)


#: a suite of its own for pytester: what needs more than the pytest process, said every way the lanes know
LANES_PROBE = """
import pytest


@pytest.fixture(scope="session")
def flexmeasures():
    return "a server"


@pytest.fixture(scope="session")
def background_demo():
    return "a demo"


@pytest.fixture
def finished(background_demo):
    return background_demo


def test_pure():
    pass


@pytest.mark.slow
def test_slow():
    pass


def test_uses_the_flexmeasures_fixture(flexmeasures):
    pass


def test_uses_the_demo_through_another_fixture(finished):
    pass


@pytest.mark.flexmeasures
def test_marked_flexmeasures():
    pass


@pytest.mark.external
def test_marked_external():
    pass


@pytest.mark.postgres
def test_on_postgresql():
    pass


@pytest.mark.quarter_hour
def test_waits_for_a_real_quarter_hour():
    pass
"""


def test_the_fast_lane_leaves_out_what_needs_more_than_the_pytest_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_probe=LANES_PROBE)
    result = pytester.runpytest_inprocess(
        "-p", "tests.support.lanes", "-p", "no:asyncio", "--collect-only", "-q", "-m", FAST_LANE
    )
    collected = {line.split("::")[-1] for line in result.outlines if "::" in line}
    assert collected == {"test_pure"}, result.outlines


def test_make_test_fast_runs_the_fast_lane() -> None:
    recipe = re.search(r"^test-fast:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe and f'-m "{FAST_LANE}"' in recipe.group(1), "make test-fast selects with tests/support/lanes.py's FAST_LANE"


def test_what_waits_for_a_real_quarter_hour_runs_in_a_stage_of_its_own_beside_the_rest() -> None:
    """A test that waits 15 minutes on an xdist worker would hold the worker that long: scripts/run-tests.sh runs the
    tests marked `quarter_hour` in a pytest process of their own, started first, and leaves them out of the rest; the
    demo's tests are among them (the background demo refuses to start on an xdist worker)."""
    from tests import test_aggregator_delivery, test_demo

    script = (ROOT / "scripts/run-tests.sh").read_text()
    assert re.search(r'"\$\{pytest\[@\]\}" -m quarter_hour tests >"\$logs/quarter\.txt" 2>&1 &\n', script), script
    assert re.search(r'"\$\{pytest\[@\]\}" -n "\$workers" [^\n]*-m "not quarter_hour"', script), script
    for module in (test_demo, test_aggregator_delivery):
        marks = module.pytestmark if isinstance(module.pytestmark, list) else [module.pytestmark]
        assert "quarter_hour" in {mark.name for mark in marks}, module.__name__
