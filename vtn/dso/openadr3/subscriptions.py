"""/subscriptions: a client's webhooks, called when its programs or events change (see notify).

Each client sees and changes only its own subscriptions. Callback hosts must be listed in
`[dso] callback_hosts` (none by default: subscriptions are then refused, 400).
"""

import uuid
from typing import Any

from aiohttp import web

from mapping.openadr3.subscriptions import OBJECT_TYPES, check_callback_hosts, clean_subscription, render_subscription
from mapping.refusal import Refused
from vtn.auth.tokens import Grant
from vtn.dso.openadr3.common import Api, NotFound, json_body, ok, page, path_id
from vtn.dso.openadr3.filters import filter_by_targets
from vtn.store import dso_repository as dso_repo
from vtn.store.dso_repository import SubscriptionRow


def _render(api: Api, row: SubscriptionRow) -> dict[str, Any]:
    return render_subscription(row.body, row.subscription_id, row.created_at, row.modified_at, api.version, row.client_id)


def _clean(api: Api, body: Any) -> dict[str, Any]:
    clean = clean_subscription(body, api.version)
    check_callback_hosts(clean, api.ctx.config.dso.callback_hosts)
    return clean


async def _owned(api: Api, request: web.Request, grant: Grant) -> SubscriptionRow:
    subscription_id = path_id(request, "subscriptionID")
    row = await api.ctx.store.call(dso_repo.load_subscription, subscription_id)
    if row is None or row.client_id != grant.client_id:
        raise NotFound(f"subscriptionID: no subscription {subscription_id}")
    return row


async def search_subscriptions(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /subscriptions (programID, clientName, objects, targets, skip/limit)."""
    skip, limit = page(request)
    rows = await api.ctx.store.call(dso_repo.list_subscriptions, grant.client_id)
    if request.query.get("programID") is not None:
        rows = [r for r in rows if r.body.get("programID") == request.query["programID"]]
    if request.query.get("clientName") is not None:
        rows = [r for r in rows if r.body.get("clientName") == request.query["clientName"]]
    objects = {o for raw in request.query.getall("objects", []) for o in raw.split(",") if o}
    if objects - set(OBJECT_TYPES):
        raise Refused("objects", f"expected object types among {', '.join(OBJECT_TYPES)}")
    if objects:
        rows = [r for r in rows if any(objects.intersection(o["objects"]) for o in r.body["objectOperations"])]
    rows = filter_by_targets(request, api.version, rows)
    return ok([_render(api, r) for r in rows[skip : skip + limit]])


async def create_subscription(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """POST /subscriptions → 201."""
    clean = _clean(api, await json_body(request))
    subscription_id = f"sub-{uuid.uuid4().hex[:16]}"
    row = await api.ctx.store.call(
        dso_repo.insert_subscription, subscription_id, grant.client_id, api.version, clean, api.ctx.now()
    )
    return ok(_render(api, row), status=201)


async def read_subscription(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """GET /subscriptions/{subscriptionID}."""
    return ok(_render(api, await _owned(api, request, grant)))


async def update_subscription(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """PUT /subscriptions/{subscriptionID}: replaces the subscription."""
    current = await _owned(api, request, grant)
    clean = _clean(api, await json_body(request))
    row = await api.ctx.store.call(dso_repo.update_subscription, current.subscription_id, clean, api.ctx.now())
    if row is None:
        raise NotFound(f"subscriptionID: no subscription {current.subscription_id}")
    return ok(_render(api, row))


async def delete_subscription(api: Api, request: web.Request, grant: Grant) -> web.Response:
    """DELETE /subscriptions/{subscriptionID}: answers with the deleted subscription."""
    current = await _owned(api, request, grant)
    await api.ctx.store.call(dso_repo.delete_subscription, current.subscription_id)
    return ok(_render(api, current))
