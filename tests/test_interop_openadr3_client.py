"""Interop: ElaadNL's openadr3-client (PyPI, an independent OpenADR 3 BL client) creates a program and an
event through our token endpoint, lists, updates and deletes it and reads its reports, for 3.0.1 and 3.1.0; our VTN's 2.0b
side (a RawClient VEN, XSD-checked) receives the event, its modification and its cancellation.

The client needs Python >= 3.12: it runs in its own venv (.venv-openadr3-client, made here from the
first Python >= 3.12 found on PATH or under ~/.pyenv). The test is skipped, saying so, only where no
such Python exists.
"""

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mapping.oadr import model as m
from mapping.oadr import report_model as r
from tests.support.dso import add_client

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-openadr3-client"
#: both versions' tests share the venv (made once): under pytest-xdist they run on one worker, or two would make it at once
pytestmark = [pytest.mark.xdist_group("openadr3-client"), pytest.mark.external]  # another venv's Python running ElaadNL's client
SCRIPT = Path(__file__).resolve().parent / "interop" / "elaad_bl_client.py"


def _python312() -> str | None:
    candidates = [shutil.which(n) for n in ("python3.13", "python3.12")]
    candidates += [str(p) for p in sorted((Path.home() / ".pyenv" / "versions").glob("3.1[2-9]*/bin/python"), reverse=True)]
    for candidate in filter(None, candidates):
        done = subprocess.run([candidate, "-c", "import sys; print(sys.version_info >= (3, 12))"], capture_output=True, text=True)
        if done.stdout.strip() == "True":
            return candidate
    return None


@pytest.fixture(scope="module")
def elaad_python() -> str:
    """The venv's Python with openadr3-client installed (made once)."""
    python = VENV / "bin" / "python"
    if not python.exists() or subprocess.run([python, "-c", "import openadr3_client"], capture_output=True).returncode:
        base = _python312()
        if base is None:
            pytest.skip("ElaadNL's openadr3-client needs Python >= 3.12; none found on PATH or under ~/.pyenv")
        subprocess.run([base, "-m", "venv", "--clear", str(VENV)], check=True, timeout=300)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "openadr3-client>=2.4"], check=True, timeout=600)
    return str(python)


async def _line(process: asyncio.subprocess.Process) -> dict:
    raw = await asyncio.wait_for(process.stdout.readline(), timeout=120)
    if not raw:
        err = await process.stderr.read()
        raise AssertionError(f"openadr3-client stopped: {err.decode()[-3000:]}")
    return json.loads(raw)


async def _next_event(vtn, ven_id: str) -> m.Event:
    reply = await vtn.client.poll(ven_id)
    assert isinstance(reply, m.DistributeEvent), reply
    (event,) = reply.events
    await vtn.client.ack(ven_id, reply.events)
    return event


@pytest.mark.parametrize("version", ["3.0.1", "3.1.0"])
async def test_elaad_openadr3_client_drives_our_vtn_and_the_2_0b_ven_follows(vtn_sqlite, elaad_python, version):
    vtn = vtn_sqlite
    reg = await vtn.client.register("site-north")
    assert isinstance(await vtn.client.poll(reg.ven_id), r.RegisterReport)
    assert isinstance(await vtn.client.poll(reg.ven_id), m.Response)
    secret = await add_client(vtn, "elaad")
    process = await asyncio.create_subprocess_exec(
        elaad_python,
        str(SCRIPT),
        vtn.base_url,
        version,
        "elaad",
        secret,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1"},  # plain HTTP on loopback (TLS is configured apart)
    )
    try:
        assert (await _line(process))["step"] == "program"
        created = await _line(process)
        event = await _next_event(vtn, reg.ven_id)
        assert event.event_id == created["id"] and event.modification_number == 0
        assert event.signals[0].name == "x-IMPORT_CAPACITY_LIMIT" and [i.value for i in event.signals[0].intervals] == [7.0, 6.0]

        await vtn.process.sync.flush_deliveries()  # the VEN's delivery is what makes a report for the event
        process.stdin.write(b"next\n")
        updated = await _line(process)
        assert updated["listed"] == [created["id"]] and updated["intervals"] == 3
        assert updated["reports"] == [[created["id"], "site-north"]]  # read through the client's report models
        event = await _next_event(vtn, reg.ven_id)
        assert event.modification_number == 1 and [i.value for i in event.signals[0].intervals] == [3.0, 3.0, 3.0]

        modifications = 1
        if version == "3.1.0":  # a partial update, unset members null: the intervals stay (issue 22)
            process.stdin.write(b"next\n")
            renamed = await _line(process)
            assert (renamed["step"], renamed["name"], renamed["intervals"]) == ("renamed", "renamed", 3)
            event = await _next_event(vtn, reg.ven_id)
            assert event.modification_number == 2 and [i.value for i in event.signals[0].intervals] == [3.0, 3.0, 3.0]
            modifications = 2

        process.stdin.write(b"next\n")
        deleted = await _line(process)
        assert deleted["id"] == created["id"]  # DELETE answered with the object
        event = await _next_event(vtn, reg.ven_id)
        assert (event.modification_number, event.status) == (modifications + 1, "cancelled")
        assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
