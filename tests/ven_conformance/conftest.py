"""Fixtures: a scripted VTN and a harness to run our VEN against it."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.ven_conformance.scripted_vtn import ScriptedVtn, Th


@pytest.fixture
async def th(tmp_path: Path) -> AsyncIterator[Th]:
    """The harness: a started ScriptedVtn; the test starts the VEN (`await th.start_ven()`).
    Whatever happens, the VEN and the VTN are stopped, and any schema-invalid or misdirected VEN
    message fails the test."""
    vtn = ScriptedVtn()
    await vtn.start()
    harness = Th(vtn, tmp_path)
    try:
        yield harness
    finally:
        await harness.stop_ven()
        await vtn.stop()
    vtn.check()
