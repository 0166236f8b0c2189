"""OpenADR 3.1's notifier bindings (GET /notifiers and the 12 GET /notifiers/mqtt/topics/... paths).

The VTN offers the WEBHOOK binding only (subscriptions with a callbackUrl): GET /notifiers says so, and
the MQTT topic paths answer 404 (the spec's answer for a binding the VTN does not offer), after the same
bearer-token check as every other path. Any other method on these paths is 405 with `Allow: GET, HEAD`.
"""

from collections.abc import Awaitable, Callable

from aiohttp import web

from vtn.auth.http import problem
from vtn.auth.tokens import Grant
from vtn.dso.openadr3.common import Api, endpoint, ok, path_id

#: the spec's 12 topic paths under /notifiers/mqtt/topics, with their objectID path parameters
TOPIC_PATHS = (
    ("programs", ()),
    ("programs/{programID}", ("programID",)),
    ("events", ()),
    ("programs/{programID}/events", ("programID",)),
    ("reports", ()),
    ("subscriptions", ()),
    ("vens", ()),
    ("vens/{venID}", ("venID",)),
    ("resources", ()),
    ("vens/{venID}/events", ("venID",)),
    ("vens/{venID}/programs", ("venID",)),
    ("vens/{venID}/resources", ("venID",)),
)

ALLOW = "GET, HEAD"


async def list_notifiers(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """The bindings offered: WEBHOOK (the spec: currently MUST be true); no MQTT."""
    return ok({"WEBHOOK": True})


def topics(params: tuple[str, ...]) -> Callable[[Api, web.Request, Grant], Awaitable[web.Response]]:
    """A topic path's handler: 400 for a malformed objectID among `params`, else 404 (MQTT not offered)."""

    async def handle(api: Api, request: web.Request, grant: Grant) -> web.Response:
        for name in params:
            path_id(request, name)  # 400 naming a malformed objectID
        return problem(404, "the MQTT notifier binding is not offered: see GET /notifiers (subscribe with a callbackUrl)")

    return handle


def _get_only(get: Callable[[web.Request], Awaitable[web.Response]]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        if request.method in ("GET", "HEAD"):
            return await get(request)
        response = problem(405, f"{request.method} is not allowed here; use GET")
        response.headers["Allow"] = ALLOW
        return response

    return handle


def add_routes(app: web.Application, api: Api, *scopes: str) -> None:
    """GET /notifiers and the MQTT topic paths under `api.base` (3.1 only); other methods: 405."""
    b = api.base
    app.router.add_route("*", f"{b}/notifiers", _get_only(endpoint(api, list_notifiers, *scopes)))
    for path, params in TOPIC_PATHS:
        app.router.add_route("*", f"{b}/notifiers/mqtt/topics/{path}", _get_only(endpoint(api, topics(params), *scopes)))
