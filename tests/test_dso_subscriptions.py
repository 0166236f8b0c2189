"""OpenADR 3 subscriptions: a client's webhooks get its event and program changes (in the subscription's
API version, with its bearer token); callback hosts must be allowed; CRUD and ownership."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mapping.oadr.timefmt import format_datetime
from tests.support.dso import connect
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from vtn.dso.config import DsoConfig
from vtn.dso.openadr3.routes import NOTIFIER_KEY


@pytest.fixture
async def vtn_hooks(sqlite_url: str) -> AsyncIterator[VtnUnderTest]:
    """Our VTN allowing callbacks to 127.0.0.1."""
    async with running_vtn(config_for_tests(sqlite_url, dso=DsoConfig(callback_hosts=frozenset({"127.0.0.1"})))) as running:
        yield running


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[str, str, dict]]]]:
    """A webhook receiver on loopback: (its URL, what it received as (path, Authorization, body))."""
    received: list[tuple[str, str, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.path, request.headers.get("Authorization", ""), await request.json()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{name}", hook)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}", received
    finally:
        await server.close()


def subscription(url: str, version: str, **extra: object) -> dict:
    return {
        "clientName": "edf-sei-dispatch",
        "programID": "test",
        "objectOperations": [
            {
                "objects": ["EVENT"],
                "operations": ["CREATE", "UPDATE", "DELETE"],
                "callbackUrl": f"{url}/events",
                "bearerToken": "s3cret",
            },
            {"objects": ["PROGRAM"], "operations": ["CREATE"], "callbackUrl": f"{url}/programs", "bearerToken": None},
        ],
        **extra,
    }


def event(vtn, value: float) -> dict:
    start = (vtn.ctx.now() + timedelta(hours=1)).replace(microsecond=0)
    return {
        "programID": "test",
        "intervalPeriod": {"start": format_datetime(start), "duration": "PT15M"},
        "intervals": [{"id": 0, "payloads": [{"type": "SIMPLE", "values": [value]}]}],
    }


@pytest.mark.parametrize(
    ("version", "create", "update", "delete"), [("3.0.1", "POST", "PUT", "DELETE"), ("3.1.0", "CREATE", "UPDATE", "DELETE")]
)
async def test_event_changes_are_posted_to_the_callback(vtn_hooks, receiver, version, create, update, delete):
    vtn, (url, received) = vtn_hooks, receiver
    dso = await connect(vtn, "edf-sei", version)
    status, sub = await dso.call("POST", "/subscriptions", subscription(url, version))
    assert status == 201 and sub["objectType"] == "SUBSCRIPTION" and sub["id"].startswith("sub-")
    assert ("clientID" in sub) == (version != "3.0.1")

    status, created = await dso.call("POST", "/events", event(vtn, 1))
    assert status == 201
    assert (await dso.call("PUT", f"/events/{created['id']}", event(vtn, 2)))[0] == 200
    assert (await dso.call("DELETE", f"/events/{created['id']}"))[0] == 200
    other = await connect(vtn, "rte", version)  # another client's changes are not sent to edf-sei's hooks
    assert (await other.call("POST", "/events", {**event(vtn, 3), "priority": 5}))[0] == 201

    async def three() -> bool:
        while len(received) < 3:
            await asyncio.sleep(0.05)
        return True

    await asyncio.wait_for(three(), timeout=30)
    await asyncio.sleep(0.3)  # nothing more arrives
    assert [(path, auth, body["operation"], body["object"]["id"]) for path, auth, body in received] == [
        ("/events", "Bearer s3cret", create, created["id"]),
        ("/events", "Bearer s3cret", update, created["id"]),
        ("/events", "Bearer s3cret", delete, created["id"]),
    ]
    assert received[1][2]["object"]["intervals"][0]["payloads"][0]["values"] == [2]
    assert all(body["objectType"] == "EVENT" for _, _, body in received)


async def test_subscription_crud_ownership_and_allowed_hosts(vtn_hooks, receiver):
    vtn, (url, _) = vtn_hooks, receiver
    dso = await connect(vtn, "edf-sei", "3.1.0")
    status, problem = await dso.call("POST", "/subscriptions", subscription("http://example.com", "3.1.0"))
    assert status == 400 and problem["field"] == "objectOperations[0].callbackUrl"
    status, sub = await dso.call("POST", "/subscriptions", subscription(url, "3.1.0"))
    assert status == 201
    changed = subscription(url, "3.1.0", clientName="renamed")
    status, updated = await dso.call("PUT", f"/subscriptions/{sub['id']}", changed)
    assert status == 200 and updated["clientName"] == "renamed"
    assert [s["id"] for s in (await dso.call("GET", "/subscriptions", objects="PROGRAM"))[1]] == [sub["id"]]
    other = await connect(vtn, "rte", "3.1.0")
    assert (await other.call("GET", "/subscriptions"))[1] == []
    assert (await other.call("DELETE", f"/subscriptions/{sub['id']}"))[0] == 404
    status, deleted = await dso.call("DELETE", f"/subscriptions/{sub['id']}")
    assert status == 200 and deleted["clientName"] == "renamed"
    assert (await dso.call("GET", f"/subscriptions/{sub['id']}"))[0] == 404


async def test_program_creation_is_notified(vtn_hooks, receiver):
    vtn, (url, received) = vtn_hooks, receiver
    dso = await connect(vtn, "edf-sei", "3.0.1")
    status, problem = await dso.call("POST", "/subscriptions", {**subscription(url, "3.0.1"), "programID": None})
    assert status == 400 and problem["field"] == "programID"  # 3.0.1 requires one
    sub31 = await connect(vtn, "edf-sei-31", "3.1.0")
    no_program = subscription(url, "3.1.0")
    no_program.pop("programID")  # 3.1: a subscription for every program
    assert (await sub31.call("POST", "/subscriptions", no_program))[0] == 201
    status, program = await sub31.call("POST", "/programs", {"programName": "nouveau"})
    assert status == 201

    async def one() -> None:
        while not received:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(one(), timeout=30)
    path, auth, body = received[0]
    assert (path, auth, body["operation"], body["object"]["id"]) == ("/programs", "", "CREATE", program["id"])


@pytest.fixture
async def flaky_receiver() -> AsyncIterator[tuple[str, dict[str, list[int]], list[tuple[str, str]]]]:
    """A webhook receiver whose answers are scripted per path (a list of statuses, used up in order, then 204):
    (its URL, the scripts, what it took as (path, operation))."""
    scripts: dict[str, list[int]] = {}
    taken: list[tuple[str, str]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        script = scripts.get(request.path, [])
        status = script.pop(0) if script else 204
        if status < 300:
            taken.append((request.path, body["operation"]))
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/{name}", hook)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}", scripts, taken
    finally:
        await server.close()


async def test_a_failing_callback_is_tried_again_in_order_and_a_refusing_one_given_up(vtn_hooks, flaky_receiver, caplog):
    """The events callback answers 503 once: the creation is posted again a second later, and the update made
    meanwhile waits for it (it would be taken at once otherwise). The programs callback answers 400: given up
    at once (one attempt), logged as an error."""
    vtn, (url, scripts, taken) = vtn_hooks, flaky_receiver
    vtn.process.app[NOTIFIER_KEY].retry_delays = (1.0, 1.0, 1.0)
    scripts["/events"] = [503]
    scripts["/programs"] = [400, 400]
    dso = await connect(vtn, "edf-sei-31", "3.1.0")
    sub = {**subscription(url, "3.1.0")}
    sub.pop("programID")
    assert (await dso.call("POST", "/subscriptions", sub))[0] == 201
    assert (await dso.call("POST", "/programs", {"programName": "nouveau"}))[0] == 201
    status, created = await dso.call("POST", "/events", event(vtn, 1.0))
    assert status == 201
    assert (await dso.call("PUT", f"/events/{created['id']}", event(vtn, 2.0)))[0] == 200
    await vtn.process.app[NOTIFIER_KEY].drain()
    assert taken == [("/events", "CREATE"), ("/events", "UPDATE")]
    assert scripts["/events"] == [] and scripts["/programs"] == [400]  # the failure used up; one attempt for 400
    assert any("given up after 1 attempt" in r.getMessage() and "/programs" in r.getMessage() for r in caplog.records)


async def test_a_stopping_vtn_drops_notifications_still_waiting_and_says_so(vtn_hooks, flaky_receiver, caplog):
    """A callback that keeps answering 503 while the VTN stops: the stop does not wait out the retries; the
    notification still waiting is dropped and logged."""
    vtn, (url, scripts, taken) = vtn_hooks, flaky_receiver
    notifier = vtn.process.app[NOTIFIER_KEY]
    notifier.retry_delays = (600.0,)
    scripts["/events"] = [503]
    dso = await connect(vtn, "edf-sei", "3.0.1")
    assert (await dso.call("POST", "/subscriptions", subscription(url, "3.0.1")))[0] == 201
    assert (await dso.call("POST", "/events", event(vtn, 1.0)))[0] == 201

    async def first_attempt_refused() -> None:  # answered 503: the retry waits 600 s
        while scripts["/events"]:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(first_attempt_refused(), timeout=30)
    await asyncio.wait_for(notifier.close(grace=0.2), timeout=30)
    assert not notifier.tasks and taken == []
    assert any("1 webhook notification(s) still waiting" in r.getMessage() for r in caplog.records)


async def test_a_dead_callback_gets_one_attempt_per_notification_until_it_takes_one(vtn_hooks, flaky_receiver):
    """A callback that failed a notification's every attempt does not hold each later one for all its retries:
    one attempt each, until it takes one; then retries again."""
    vtn, (url, scripts, taken) = vtn_hooks, flaky_receiver
    notifier = vtn.process.app[NOTIFIER_KEY]
    notifier.retry_delays = (0.1, 0.1)
    scripts["/events"] = [503, 503, 503, 503]  # the creation's 3 attempts, then the update's single one
    dso = await connect(vtn, "edf-sei", "3.0.1")
    assert (await dso.call("POST", "/subscriptions", subscription(url, "3.0.1")))[0] == 201
    status, created = await dso.call("POST", "/events", event(vtn, 1.0))
    assert status == 201
    await notifier.drain()
    assert (await dso.call("PUT", f"/events/{created['id']}", event(vtn, 2.0)))[0] == 200
    await notifier.drain()
    assert scripts["/events"] == [] and taken == []  # the update was given up after its one attempt
    scripts["/events"] = [503]
    assert (await dso.call("DELETE", f"/events/{created['id']}"))[0] == 200
    await notifier.drain()
    assert taken == []  # still down: one attempt
    assert (await dso.call("POST", "/events", event(vtn, 3.0)))[0] == 201
    await notifier.drain()
    assert taken == [("/events", "POST")]  # taken: the URL is up again
