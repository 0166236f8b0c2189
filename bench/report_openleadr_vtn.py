"""Stock openleadr 0.5.36 ``OpenADRServer`` that requests and counts telemetry reports.

Run as its own process (the report benchmark's reference VTN)::

    python bench/report_openleadr_vtn.py --host 127.0.0.1 --port 8080

Registrations are accepted as in ``bench/openleadr_reference_vtn.py``. When a
VEN registers METADATA_TELEMETRY_USAGE, every offered rID is requested (the
openleadr "compact" ``on_register_report`` handler) with a callback that only
counts the values openleadr delivers to it; ``on_update_report`` (called by
openleadr only while no report was requested at all) counts too.
``GET /bench/report-count`` returns the counters as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web
from openleadr_reference_vtn import build_server, main, run_until_stopped

GRANULARITY = timedelta(minutes=1)
REPORT_BACK = timedelta(minutes=5)


@dataclass
class Tally:
    """What openleadr handed to the benchmark's handlers."""

    values: int = 0
    callback_calls: int = 0
    unrequested_reports: int = 0
    rids_requested: int = 0

    def on_values(self, values: list[tuple[Any, Any]]) -> None:
        """Report callback for one (reportRequestID, rID): count the values."""
        self.callback_calls += 1
        self.values += len(values)

    def on_register_report(
        self,
        ven_id: str,
        resource_id: str | None,
        measurement: str | None,
        unit: str | None,
        scale: str | None,
        min_sampling_interval: timedelta | None,
        max_sampling_interval: timedelta | None,
    ) -> tuple[Any, timedelta, timedelta]:
        """Request every offered rID: (callback, granularity, report-back duration)."""
        self.rids_requested += 1
        return self.on_values, GRANULARITY, REPORT_BACK

    def on_update_report(self, report: dict[str, Any]) -> None:
        """Only called by openleadr while no report was requested: count its payloads."""
        self.unrequested_reports += 1
        for interval in report.get("intervals", []):
            payload = interval.get("report_payload")
            self.values += len(payload) if isinstance(payload, list) else 1


async def serve(host: str, port: int, vtn_id: str) -> None:
    """Run the reference VTN until SIGTERM/SIGINT."""
    server = build_server(host, port, vtn_id)
    tally = Tally()
    server.add_handler("on_register_report", tally.on_register_report)
    server.add_handler("on_update_report", tally.on_update_report)

    async def count_handler(request: web.Request) -> web.Response:
        return web.json_response(asdict(tally))

    server.app.router.add_get("/bench/report-count", count_handler)
    await run_until_stopped(server, host, port)


if __name__ == "__main__":
    main(serve)
