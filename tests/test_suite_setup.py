"""The suite's own machinery: what `make test` relies on to run tests side by side safely."""

import pytest


@pytest.mark.xdist_group("probe")
def test_xdist_groups_keep_their_tests_on_one_worker(request: pytest.FixtureRequest) -> None:
    """Tests that share something on disk or a server (FlexMeasures, the OpenADR 3 client's venv) are grouped
    with xdist_group; pytest-xdist marks a grouped test's id with its group, or the group is silently ignored
    (as with pytest 9.2 and pytest-xdist 3.8, which raced two workers on one venv)."""
    if not hasattr(request.config, "workerinput") or not request.config.getvalue("loadgroup"):
        pytest.skip("not under pytest-xdist --dist loadgroup (make test runs it so)")
    assert request.node.nodeid.endswith("@probe")
