"""Interop: our VEN against stock openleadr `OpenADRServer` (0.5.x) — registration, an event with
its callbacks, the optIn answer reaching openleadr, and telemetry openleadr asks for."""

import asyncio
import socket
from datetime import UTC, datetime, timedelta

import pytest
from openleadr import OpenADRServer

from tests.support.eventually import eventually
from tests.support.ven_harness import RecordingHooks, running_ven, ven_config

pytestmark = pytest.mark.slow  # an event run in real time


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_our_ven_with_openleadr_server(tmp_path):
    port = _free_port()
    server = OpenADRServer(vtn_id="OL-VTN", http_host="127.0.0.1", http_port=port, requested_poll_freq=timedelta(seconds=1))
    registered: dict[str, str] = {}
    answers: list[tuple[str, str]] = []
    reports: list[tuple[str, list]] = []

    async def on_create_party_registration(info: dict) -> tuple[str, str]:
        registered[info["ven_name"]] = "ol-ven-1"
        return "ol-ven-1", "ol-reg-1"

    async def on_register_report(
        ven_id: str, resource_id: str, measurement: str, unit: str, scale: str, min_sampling_interval, max_sampling_interval
    ):  # noqa: ANN001, ANN201
        async def on_data(data: list) -> None:
            reports.append((measurement, data))

        return on_data, min_sampling_interval

    server.add_handler("on_create_party_registration", on_create_party_registration)
    server.add_handler("on_register_report", on_register_report)
    await server.run()
    hooks = RecordingHooks()
    try:
        config = ven_config(f"http://127.0.0.1:{port}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-ol", vtn_id="OL-VTN")
        async with running_ven(config, hooks) as ven:
            await eventually(lambda: ven.vens["site-ol"].site.registration is not None, what="registration with openleadr")
            # a few seconds ahead: delivered by the next 1 s poll and scheduled well before it starts, even on a busy machine
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
            event_id = server.add_event(
                ven_id="ol-ven-1",
                signal_name="SIMPLE",
                signal_type="level",
                intervals=[{"dtstart": start, "duration": timedelta(seconds=1), "signal_payload": 1.0}],
                callback=lambda ven_id, event_id, opt_type: answers.append((event_id, opt_type)),
            )
            await eventually(lambda: "end" in hooks.kinds(event_id), timeout=15, what="the openleadr event to run")
            await eventually(lambda: answers, what="openleadr to receive our optIn")
            await asyncio.sleep(0)
    finally:
        await server.stop()
    assert registered == {"site-ol": "ol-ven-1"}
    assert hooks.kinds(event_id) == ["event", "start", "interval", "end"]
    assert answers == [(event_id, "optIn")]
