"""What every OpenADR 3 handler shares: the API's state per version, auth, paging, error answers."""

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mapping.openadr3.wire import object_id
from mapping.refusal import Refused
from vtn.admin.events import EventRefused
from vtn.auth.http import AuthFailed, bearer_grant, problem, require_scope
from vtn.auth.revocation import DisabledClients
from vtn.auth.tokens import Grant, TokenIssuer
from vtn.context import VtnContext
from vtn.dso.openadr3.notify import Notifier
from vtn.lifecycle import Lifecycle

log = logging.getLogger("cariflex.vtn.openadr3")

#: the spec's cap on `limit`
MAX_LIMIT = 50


class NotFound(Exception):
    """No such object (for this client)."""


class Conflict(Exception):
    """The change clashes with what exists (a name taken, an overlapping event, a closed event)."""


@dataclass(frozen=True)
class Api:
    """One version of the API mounted at `base` (e.g. /openadr3/3.0.1)."""

    ctx: VtnContext
    lifecycle: Lifecycle
    issuer: TokenIssuer
    version: str
    base: str
    notifier: Notifier
    disabled: DisabledClients

    @property
    def unauthenticated_status(self) -> int:
        """3.0.1 documents only 403 for auth failures; 3.1 has 401."""
        return 403 if self.version == "3.0.1" else 401


Handler = Callable[[Api, web.Request, Grant], Awaitable[web.Response]]


def endpoint(api: Api, handler: Handler, *scopes: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler: bearer token and scope first, then `handler`; failures become problem answers."""

    async def handle(request: web.Request) -> web.Response:
        try:
            grant = bearer_grant(request, api.issuer, api.ctx.now(), api.unauthenticated_status)
            if await api.disabled.contains(grant.client_id):
                raise AuthFailed(api.unauthenticated_status, "Authorization: this client is disabled")
            require_scope(grant, *scopes)
            return await handler(api, request, grant)
        except AuthFailed as exc:
            return problem(exc.status, exc.detail)
        except Refused as exc:
            return problem(400, str(exc), field=exc.field)
        except NotFound as exc:
            return problem(404, str(exc))
        except Conflict as exc:
            return problem(409, str(exc))
        except EventRefused as exc:
            return problem(409, str(exc))

    return handle


async def json_body(request: web.Request) -> Any:
    """The request's JSON body; Refused (400) when it is not JSON."""
    if request.content_type != "application/json":
        raise Refused("body", "send application/json")
    raw = await request.read()
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise Refused("body", f"not valid JSON ({exc})") from exc


def _int_param(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError as exc:
        raise Refused(name, f"expected an integer, got {text!r}") from exc
    if value < 0:
        raise Refused(name, "must be 0 or more")
    return value


#: a skip beyond any list: larger ones overflow the databases' OFFSET (a 500) and would find nothing anyway
MAX_SKIP = 2**31 - 1


def page(request: web.Request) -> tuple[int, int]:
    """(skip, limit) of a search; limit defaults to and is capped at the spec's 50, skip at MAX_SKIP."""
    return min(_int_param(request, "skip", 0), MAX_SKIP), min(_int_param(request, "limit", MAX_LIMIT), MAX_LIMIT)


def ok(body: Any, status: int = 200) -> web.Response:
    """A JSON answer."""
    return web.json_response(body, status=status)


def path_id(request: web.Request, name: str) -> str:
    """A path parameter that must be an objectID (400 naming it otherwise)."""
    return object_id(request.match_info[name], name) or ""
