"""Stock openleadr 0.5.36 ``OpenADRServer``, used as the benchmark reference VTN.

Run as its own process::

    python bench/openleadr_reference_vtn.py --host 127.0.0.1 --port 8080

Every registration is accepted (a fresh venID/registrationID is handed out and
kept in memory; ``ven_lookup`` checks it on every request, as a real openleadr
deployment would). ``POST /bench/add-events`` adds, for every registered VEN,
one SIMPLE/level event of 24 x 15 min intervals starting in one hour; it is the
reference's equivalent of ``cariflex event create``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from openleadr import OpenADRServer, objects

PROGRAM = "http://cariflex.mq/programs/test"
INTERVALS = 24
INTERVAL_DURATION = timedelta(minutes=15)
START_IN = timedelta(hours=1)


class Registry:
    """In-memory VEN registrations of the reference VTN."""

    def __init__(self) -> None:
        self.vens: dict[str, dict[str, str]] = {}

    def on_create_party_registration(self, payload: dict[str, Any]) -> tuple[str, str]:
        """Accept every VEN; reuse the venID when the VEN re-registers."""
        ven_id = payload.get("ven_id") or f"ven-{uuid.uuid4().hex}"
        registration_id = f"reg-{uuid.uuid4().hex}"
        self.vens[ven_id] = {
            "ven_id": ven_id,
            "ven_name": payload.get("ven_name") or ven_id,
            "registration_id": registration_id,
            "fingerprint": "",
        }
        return ven_id, registration_id

    def ven_lookup(self, ven_id: str) -> dict[str, str]:
        """Return the stored registration, or {} for unknown VENs."""
        return self.vens.get(ven_id, {})


def _on_event_response(ven_id: str, event_id: str, opt_type: str) -> None:
    """Opt-in/out callback (the benchmark never sends oadrCreatedEvent)."""


def add_events(server: OpenADRServer, ven_ids: list[str]) -> int:
    """Queue one 24-interval SIMPLE level event for each VEN."""
    start = datetime.now(UTC).replace(microsecond=0) + START_IN
    for ven_id in ven_ids:
        intervals = [
            objects.Interval(
                dtstart=start + i * INTERVAL_DURATION,
                duration=INTERVAL_DURATION,
                signal_payload=1.0,
            )
            for i in range(INTERVALS)
        ]
        server.add_event(
            ven_id=ven_id,
            signal_name="SIMPLE",
            signal_type="level",
            intervals=intervals,
            market_context=PROGRAM,
            callback=_on_event_response,
        )
    return len(ven_ids)


def build_server(host: str, port: int, vtn_id: str) -> OpenADRServer:
    """Create the openleadr server with the benchmark handlers installed."""
    registry = Registry()
    server = OpenADRServer(
        vtn_id=vtn_id,
        http_host=host,
        http_port=port,
        ven_lookup=registry.ven_lookup,
    )
    server.add_handler("on_create_party_registration", registry.on_create_party_registration)

    async def add_events_handler(request: web.Request) -> web.Response:
        count = add_events(server, list(registry.vens))
        return web.json_response({"events_added": count})

    server.app.router.add_post("/bench/add-events", add_events_handler)
    return server


async def run_until_stopped(server: OpenADRServer, host: str, port: int) -> None:
    """Run `server`, print READY for the bench, and stop on SIGTERM/SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.run()
    print(f"READY http://{host}:{port}", flush=True)
    await stop.wait()
    await server.stop()


def main(serve: Callable[[str, int, str], Awaitable[None]] | None = None) -> None:
    """Parse --host/--port/--vtn-id and run `serve` (default: the poll bench's reference VTN)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--vtn-id", default="OPENLEADR-REF-VTN")
    args = parser.parse_args()
    # No per-request logging (openleadr warns about missing optional handlers); errors still show.
    logging.getLogger("openleadr").setLevel(logging.ERROR)
    serve = serve or (lambda host, port, vtn_id: run_until_stopped(build_server(host, port, vtn_id), host, port))
    asyncio.run(serve(args.host, args.port, args.vtn_id))


if __name__ == "__main__":
    main()
