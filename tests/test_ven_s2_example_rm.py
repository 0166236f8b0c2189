"""Interop: flexmeasures-client's own S2 example RM — code Cariflex did not write — against the VEN's S2 CEM.

The example (`flexmeasures_client/s2/script/websockets_client.py`, run from the installed package, never copied
here) runs in a child process through tests/support/s2_example_rm.py, which injects exactly two things by patching
`aiohttp.ClientSession.ws_connect` in that process: the CEM's ephemeral `ws://127.0.0.1:<port>/ws` in place of the
example's fixed `http://localhost:8080/ws` (a fixed port cannot be used here: tests run side by side), and the
header `Authorization: Bearer <pairing token>` (the example sends none; our CEM refuses an RM without its device's
token). Nothing else in the example is changed: it sends Handshake (announcing S2 0.1.0), ResourceManagerDetails
(FRBC or NO_SELECTION), answers the SelectControlType, sends FRBC.StorageStatus and FRBC.SystemDescription, then
prints every message it receives.

Where the example is not conformant, and what the CEM does about it:
- it announces S2 0.1.0 while its messages are s2-python's (0.0.2-beta): the CEM selects 0.1.0, a version of its
  own major (mapping/s2.py `select_protocol_version`), and validates each message against its own schema;
- it reads its answers by position, not by message type: it takes the fourth message it receives for the
  SelectControlType. The CEM's order (ReceptionStatus, Handshake, HandshakeResponse, then SelectControlType
  before acknowledging the ResourceManagerDetails) puts it there; what it then reads as the answer to its storage
  status is the ReceptionStatus OK of its ResourceManagerDetails, which it only prints;
- it never answers an instruction with a ReceptionStatus: the CEM counts its device as not following once
  `reception_timeout` has passed, as it would any silent RM (the VEN re-plans the site).
"""

import ast
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mapping.grid import QUARTER, floor_slot
from mapping.s2 import FRBC
from tests.support.children import stop_child
from tests.support.eventually import eventually
from tests.support.s2_example_rm import TOKEN_VARIABLE
from ven.config import S2Settings, SiteConfig
from ven.s2.cem import S2Cem

pytestmark = pytest.mark.external  # starts a Python process running the example

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "flexmeasures-client-example-token"
SITE = SiteConfig("example", "example", asset={"kind": "battery"}, s2_token=TOKEN)


@contextmanager
def example_rm(url: str) -> Iterator[list[dict]]:
    """The example RM running against `url`; yields the messages it printed as received, as they come. Killed on
    exit (it has no timeout of its own)."""
    env = os.environ | {TOKEN_VARIABLE: TOKEN, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "tests.support.s2_example_rm", url]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    received: list[dict] = []
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            label, _, message = line.partition(":  ")
            if label in ("RECEIVING", "RECEIVED"):  # the example prints each message as a Python dict
                received.append(ast.literal_eval(message.strip()))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield received
    finally:
        stop_child(process, timeout=5)
        reader.join(timeout=5)
        print("the example RM's output:\n" + "".join(output))  # shown when the test fails


async def test_flexmeasures_clients_example_rm_is_paired_described_and_instructed() -> None:
    settings = S2Settings(port=0, lookahead=timedelta(minutes=20), reception_timeout=timedelta(seconds=1))
    cem = S2Cem(settings, [SITE])
    await cem.start(tick=False)
    try:
        with example_rm(f"ws://127.0.0.1:{cem.port}/ws") as received:
            state = cem.state("example", "battery")
            assert state is not None
            await eventually(lambda: state.ready and state.frbc is not None, "the example's system description", timeout=30)
            # the CEM's side: paired, FRBC selected, its storage status and system description taken
            assert state.control_type == FRBC and state.resource_id
            assert [(m.low_kw, m.high_kw) for m in state.frbc.modes] == [(-0.0005, 0.0005)]  # ±0.5 W
            assert (state.frbc.fill_min, state.frbc.fill_max, state.frbc.fill_level) == (0.05, 0.45, 0.4)

            # the example's side: its version selected, FRBC selected, every message of its own acknowledged OK
            await eventually(lambda: _count(received, "ReceptionStatus") >= 4, "the answers to the example's 4 messages")
            types = [m["message_type"] for m in received]
            assert types[:4] == ["ReceptionStatus", "Handshake", "HandshakeResponse", "SelectControlType"]
            assert received[2]["selected_protocol_version"] == "0.1.0"
            assert received[3]["control_type"] == FRBC
            assert [m["status"] for m in received if m["message_type"] == "ReceptionStatus"] == ["OK"] * 4

            start = floor_slot(datetime.now(UTC))
            # 0 kW: its one mode at half; −1 kW, beyond what it can do: the mode's low end
            await cem.dispatch("example", "battery", start, [0.0, -1.0])
            await eventually(lambda: _count(received, "FRBC.Instruction") == 2, "the example's FRBC instructions")
            instructions = [m for m in received if m["message_type"] == "FRBC.Instruction"]
            mode = state.frbc.modes[0].id
            assert [(i["operation_mode"], i["operation_mode_factor"]) for i in instructions] == [(mode, 0.5), (mode, 0.0)]
            assert [datetime.fromisoformat(i["execution_time"]) for i in instructions] == [start, start + QUARTER]
            assert {i["id"] for i in instructions} == {step.id for step in state.held.values()}

            # it never answers them: once the timeout has passed, its device counts as not following
            assert cem.following("example", "battery") is None

            async def silent() -> bool:
                await cem.tick()
                return cem.following("example", "battery") is False

            await eventually(silent, "the example's unanswered instructions counted")
            assert "no ReceptionStatus for instruction" in state.why and cem.counters["unanswered"] == 2
    finally:
        await cem.stop()


def _count(received: list[dict], message_type: str) -> int:
    return sum(1 for m in received if m["message_type"] == message_type)
