"""The aggregator API's webhooks: subscriptions (POST/GET/DELETE /subscriptions) and the notifier that
tells subscribers when their orders are acknowledged, refused, started, ended or measured.

The notifier looks every `[aggregator] notify_interval` at the subscribed clients' orders that may still
change, in one store transaction: it computes each order's view, compares it with what was last notified
(stored with the order, so a restart or a second VTN process does not notify twice: the rows are locked
while compared) and records the new state. The notifications then go out through the OpenADR 3
webhook machinery (`vtn.dso.openadr3.notify.Notifier`: retries with back-off, in order per callback URL),
signed with the subscription's secret (`mapping.flexready.notices.signature`).
"""

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from mapping.flexready.clock import utc_text
from mapping.flexready.notices import SIGNATURE_HEADER, changes, parse_subscription, settled, signature, snapshot
from mapping.oadr.codes import OadrError
from mapping.oadr.timefmt import parse_datetime
from vtn.aggregator import status
from vtn.aggregator.common import AggregatorApi
from vtn.auth.secrets import new_secret
from vtn.auth.tokens import Grant
from vtn.context import new_id
from vtn.curtailment.settings import Settlement
from vtn.dso.openadr3.common import NotFound, json_body
from vtn.dso.openadr3.notify import Notifier
from vtn.store import Tx
from vtn.store import aggregator_repository as agg_repo
from vtn.store import portfolio_repository as portfolio_repo
from vtn.store.aggregator_repository import StoredRequest, Subscription

log = logging.getLogger("cariflex.vtn.aggregator.notices")
#: an order whose window ended this long ago is looked at no more, measured or not (a VEN that never
#: reports must not keep an order in every look forever)
SETTLE_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Notice:
    """One notification to send: where, and the JSON bytes (what the signature covers)."""

    subscription: Subscription
    kind: str
    body: bytes


def _public(sub: Subscription) -> dict[str, Any]:
    return {
        "subscription_id": sub.subscription_id,
        "callback_url": sub.callback_url,
        "events": list(sub.events),
        "created": utc_text(sub.created_at),
    }


async def post_subscription(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """Subscribe a callback URL to notifications: 201 with the signing secret (shown this once)."""
    url, events = parse_subscription(await json_body(request), api.ctx.config.aggregator.callback_hosts)
    sub = await api.ctx.store.call(
        agg_repo.add_subscription, grant.client_id, new_id("sub"), url, events, new_secret(), api.ctx.now()
    )
    return web.json_response({**_public(sub), "secret": sub.secret}, status=201)


async def list_subscriptions(api: AggregatorApi, _request: web.Request, grant: Grant) -> web.Response:
    """This client's subscriptions (never their secrets)."""
    found = await api.ctx.store.call(agg_repo.subscriptions, grant.client_id)
    return web.json_response({"items": [_public(s) for s in found]})


async def _owned(api: AggregatorApi, request: web.Request, grant: Grant) -> Subscription:
    subscription_id = request.match_info["subscription_id"]
    sub = await api.ctx.store.call(agg_repo.find_subscription, grant.client_id, subscription_id)
    if sub is None:
        raise NotFound(f"subscription_id: no subscription {subscription_id!r} of this client")
    return sub


async def get_subscription(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """One of this client's subscriptions."""
    return web.json_response(_public(await _owned(api, request, grant)))


async def delete_subscription(api: AggregatorApi, request: web.Request, grant: Grant) -> web.Response:
    """Stop a subscription's notifications."""
    sub = await _owned(api, request, grant)
    await api.ctx.store.call(agg_repo.delete_subscription, grant.client_id, sub.subscription_id)
    return web.json_response(_public(sub))


def collect(session: Tx, now: datetime, settlement: Settlement) -> list[Notice]:
    """The notifications due, oldest first per order, with each order's new state recorded (one transaction)."""
    by_client: dict[str, list[Subscription]] = {}
    for sub in agg_repo.subscriptions(session):
        by_client.setdefault(sub.client_id, []).append(sub)
    if not by_client:
        return []
    notices: list[Notice] = []
    scopes = {client_id: portfolio_repo.scope(session, client_id) for client_id in by_client}
    for stored in agg_repo.unsettled_orders(session, sorted(by_client)):
        view = status.view(session, stored, now, settlement, scopes[stored.client_id])
        snap = snapshot(view)
        found = changes(stored.notified, snap)
        if found or stored.notified is None or _stale(stored, now):
            agg_repo.save_notified(session, stored.client_id, stored.request_id, snap, settled(snap) or _stale(stored, now))
        for kind, detail in found:
            body = {"type": kind, "sent": utc_text(now), "client_order_id": stored.request_id, **detail, "order": view}
            data = json.dumps(body, separators=(",", ":")).encode()
            notices += [Notice(sub, kind, data) for sub in by_client[stored.client_id] if kind in sub.events]
    return notices


def _stale(stored: StoredRequest, now: datetime) -> bool:
    try:  # the body was checked when the order was placed: "end" is a date-time
        return parse_datetime(str(stored.body.get("end"))) + SETTLE_AFTER <= now
    except OadrError:
        return False


def _headers(secret: str, body: bytes) -> Any:
    # signed again at each attempt: a receiver refuses an old timestamp, and a retry comes later
    return lambda: {SIGNATURE_HEADER: signature(secret, int(time.time()), body)}


class OrderNotifier:
    """The background loop of one VTN process (started and stopped with the app)."""

    def __init__(self, api: AggregatorApi) -> None:
        self.api = api
        self.sender = Notifier(api.ctx.store)
        self.task: asyncio.Task[None] | None = None

    async def tick(self) -> int:
        """Look once; schedule what is due (in order per callback URL). How many were scheduled."""
        notices = await self.api.ctx.store.call(collect, self.api.ctx.now(), self.api.settlement)
        for notice in notices:
            sub = notice.subscription
            change = f"{notice.kind} for {sub.client_id}"
            self.sender.push(sub.callback_url, _headers(sub.secret, notice.body), notice.body, change)
        return len(notices)

    async def _run(self) -> None:
        interval = self.api.ctx.config.aggregator.notify_interval.total_seconds()
        while True:
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 — the loop must outlive a store hiccup; the next tick retries
                log.exception("aggregator notifications: a look at the orders failed; trying again in %g s", interval)
            await asyncio.sleep(interval)

    async def start(self, _app: web.Application) -> None:
        """Start the loop (app start-up)."""
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, _app: web.Application) -> None:
        """Stop the loop, then give notifications under way their grace (app clean-up, before the store closes)."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.sender.close()
