"""OpenADR 3.1's notifier bindings (GET /notifiers and the 12 GET /notifiers/mqtt/topics/... paths).

WEBHOOK is always offered (subscriptions with a callbackUrl). MQTT is offered when `[dso.mqtt]` names a
broker (docs/openadr3-mqtt.md): GET /notifiers then carries its binding object, and the topic paths of
the objects the VTN publishes (programs, events) answer their topic names; the other topic paths, and
all of them when MQTT is off, answer 404 (the spec's answer for what the VTN does not offer), after the
same bearer-token check as every other path. Any other method is 405 with `Allow: GET, HEAD`.
"""

from collections.abc import Awaitable, Callable

from aiohttp import web

from mapping.openadr3.mqtt_topics import MqttBinding, binding_object, topic_names
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
    """The bindings offered: WEBHOOK (the spec: currently MUST be true), and MQTT when configured."""
    body: dict[str, object] = {"WEBHOOK": True}
    mqtt = api.ctx.config.dso.mqtt
    if mqtt.host is not None:
        body["MQTT"] = binding_object(MqttBinding(mqtt.uris, mqtt.client_authentication, mqtt.username))
    return ok(body)


def topics(path: str, params: tuple[str, ...]) -> Callable[[Api, web.Request, Grant], Awaitable[web.Response]]:
    """A topic path's handler: 400 for a malformed objectID among `params`, 404 when MQTT is off or the path's
    objects are not published, else the notifierTopicsResponse."""

    async def handle(api: Api, request: web.Request, grant: Grant) -> web.Response:
        ids = {name: path_id(request, name) for name in params}  # 400 naming a malformed objectID
        mqtt = api.ctx.config.dso.mqtt
        if mqtt.host is None:
            return problem(404, "the MQTT notifier binding is not offered: see GET /notifiers (subscribe with a callbackUrl)")
        names = topic_names(mqtt.topic_prefix, path, ids)
        if names is None:
            return problem(404, f"{path.split('/')[0]}: not published over MQTT here (programs and events are)")
        return ok({"topics": names})

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
        app.router.add_route("*", f"{b}/notifiers/mqtt/topics/{path}", _get_only(endpoint(api, topics(path, params), *scopes)))
