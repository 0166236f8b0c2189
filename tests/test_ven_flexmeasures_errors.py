"""FlexMeasures failures, told apart by type: away or refusing is retried quietly; a failed scheduling
job is an outcome; anything else is a defect, logged with its traceback and never retried as
"FlexMeasures still failing". Pure: a stand-in client, no server."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from flexmeasures_client.exceptions import JobFailedError, JobTimeoutError

from mapping.flex.flexmeasures import DSO_SENSORS
from mapping.grid import QUARTER
from mapping.oadr import model as m
from mapping.oadr.vocabulary import power_kw
from ven.config import CurtailmentSettings, SiteConfig
from ven.flexmeasures.errors import UNAVAILABLE, FlexMeasuresRefused, call
from ven.flexmeasures.hooks import FlexMeasuresHooks
from ven.flexmeasures.provision import SiteAssets
from ven.flexmeasures.telemetry import SITE_POWER, FlexMeasuresTelemetrySource, TelemetryForwarder
from ven.metrics import VenParts
from ven.store import KnownEvent

NOW = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
SITE = SiteConfig("s", "s", contracted_kva=36.0, asset={"kind": "battery", "capacity_kwh": 80.0, "power_kw": 20.0})
SENSORS = {name: i for i, name in enumerate([n for n, _ in DSO_SENSORS.values()] + ["base-load", "aggregate-consumption"], 10)}
ASSETS = {"s": SiteAssets(1, 2, {**SENSORS, "power": 3, "site-power": 4})}


class Client:
    """Answers like flexmeasures-client, or raises what it is given for one method."""

    def __init__(self, raises: dict[str, BaseException] | None = None) -> None:
        self.raises = raises or {}
        self.calls: list[str] = []

    async def _answer(self, method: str, result: object) -> object:
        self.calls.append(method)
        if method in self.raises:
            raise self.raises[method]
        return result

    async def post_sensor_data(self, sensor_id: int, **_: object) -> None:
        await self._answer("post_sensor_data", None)

    async def get_sensor_data(self, sensor_id: int, **kwargs: object) -> object:
        slots = int(kwargs["duration"] / QUARTER)  # type: ignore[operator]
        return await self._answer("get_sensor_data", {"values": [None] * slots})

    async def trigger_and_get_schedule(self, **kwargs: object) -> object:
        slots = int(kwargs["duration"] / QUARTER)  # type: ignore[operator]
        return await self._answer("trigger_and_get_schedule", [{"values": [0.0] * slots}])


def _held(_site: str) -> dict[str, KnownEvent]:
    signal = m.Signal("x-IMPORT_CAPACITY_LIMIT", "setpoint", "s", (m.Interval(timedelta(hours=1), 6.0, 0),), unit=power_kw())
    event = m.Event("e", 0, "ctx", NOW, "far", NOW + timedelta(hours=1), timedelta(hours=1), (signal,))
    return {"e": KnownEvent(event, "optIn", None, 0.0)}


async def _hooks(client: Client) -> FlexMeasuresHooks:
    return FlexMeasuresHooks(client, ASSETS, _held, lambda: NOW)  # type: ignore[arg-type]


async def _stop_retries(hooks: FlexMeasuresHooks) -> None:
    for task in hooks._retries.values():
        task.cancel()
    await asyncio.gather(*hooks._retries.values(), return_exceptions=True)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionError("Error occurred while communicating with the API"),
        aiohttp.ServerDisconnectedError(),
        ValueError("Request failed with status code 503: down for maintenance"),  # the client's error status
        JobTimeoutError("Job j did not finish within 120 seconds"),
    ],
)
async def test_flexmeasures_away_or_refusing_is_retried(error, caplog):
    hooks = await _hooks(Client({"post_sensor_data": error}))
    await hooks.apply_or_retry(SITE)
    try:
        assert hooks.pending() == ["s"] and hooks.applications[("s", "failed")] == 1
        ours = [r for r in caplog.records if r.name.startswith("cariflex.")]  # not asyncio's notes on other tests' futures
        assert "retrying in the background" in caplog.text and not any(r.exc_info for r in ours)
    finally:
        await _stop_retries(hooks)


async def test_a_defect_is_logged_with_its_traceback_and_not_retried_as_flexmeasures_failing(caplog):
    hooks = await _hooks(Client({"post_sensor_data": KeyError("values")}))
    with caplog.at_level(logging.ERROR):
        await hooks.apply_or_retry(SITE)  # never raises: the VEN stays up
    assert hooks.pending() == [] and hooks.applications[("s", "error")] == 1 and hooks.applications[("s", "failed")] == 0
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None and "a defect" in record.getMessage()
    families = {f.name: f for f in VenParts(lambda: {"hooks": hooks}).collect()}
    errors = {s.labels["kind"]: s.value for s in families["cariflex_ven_flexmeasures_errors"].samples}
    failures = {s.labels["kind"]: s.value for s in families["cariflex_ven_flexmeasures_failures"].samples}
    assert errors["apply"] == 1 and failures["apply"] == 0  # /metrics tells a defect from FlexMeasures away


async def test_a_failed_job_is_told_by_its_type_not_by_the_word_fail():
    failed = await _hooks(Client({"trigger_and_get_schedule": JobFailedError("Job j ended with status FAILED.")}))
    outcome = await failed.apply(SITE)
    assert outcome is not None and outcome.job_failed == "Job j ended with status FAILED."
    assert failed.applications[("s", "job_failed")] == 1
    # an error status whose message says "failed" is FlexMeasures refusing, not a failed schedule
    refusing = await _hooks(Client({"trigger_and_get_schedule": ValueError("Request failed with status code 500: oops")}))
    with pytest.raises(FlexMeasuresRefused):
        await refusing.apply(SITE)
    assert refusing.applications[("s", "failed")] == 1 and "s" not in refusing.outcomes


async def test_only_a_client_calls_value_error_is_an_error_status():
    async def refused() -> None:
        raise ValueError("Request failed with status code 400: bad")

    with pytest.raises(FlexMeasuresRefused) as caught:
        await call(refused())
    assert isinstance(caught.value, UNAVAILABLE) and isinstance(caught.value.__cause__, ValueError)
    assert not issubclass(ValueError, UNAVAILABLE)  # our own ValueError is a defect


class Source:
    def samples(self, site: SiteConfig, r_id: str, start: datetime, end: datetime) -> list:  # noqa: ANN001
        from mapping.curtailment import Sample

        return [Sample(start + timedelta(minutes=i), 5.0) for i in range(0, 60)] if r_id == SITE_POWER else []


@pytest.mark.parametrize(("error", "failures", "errors"), [(ConnectionError("down"), 1, 0), (TypeError("a bug"), 0, 1)])
async def test_telemetry_tells_flexmeasures_away_from_a_defect(error, failures, errors, caplog):
    clock = lambda: NOW  # noqa: E731
    forwarder = TelemetryForwarder(Client({"post_sensor_data": error}), ASSETS, Source(), [SITE], CurtailmentSettings(), clock)  # type: ignore[arg-type]
    await forwarder.forward_once()
    source = FlexMeasuresTelemetrySource(Client({"get_sensor_data": error}), ASSETS, [SITE], timedelta(hours=1), clock=clock)  # type: ignore[arg-type]
    await source.refresh_once()
    assert (forwarder.failures, forwarder.errors) == (failures, errors)
    assert (source.failures > 0, source.errors > 0) == (failures > 0, errors > 0)
    # ours only: a future another test's MQTT client left unretrieved may be collected (and logged by asyncio) here
    ours = [r for r in caplog.records if r.name.startswith("cariflex.")]
    assert any(r.exc_info for r in ours) == bool(errors)
