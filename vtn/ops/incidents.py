"""Failures of ours, or of the store, told to a caller: a short text and an incident id, never the details.

A caller — often unauthenticated — must not learn the SQL, its parameters or where the database runs (issue 22).
The operator finds the details in the log, on the line that carries the same incident id.
"""

import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from vtn.auth.http import problem
from vtn.store import StoreDown

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_incident_id() -> str:
    """A fresh id to quote in an answer and in the log line that explains it."""
    return f"inc-{secrets.token_hex(6)}"


def is_store_down(exc: BaseException) -> bool:
    """Whether the failure is the store not answering: the caller may retry later (503 where HTTP is the contract)."""
    return isinstance(exc, StoreDown)


def record(log: logging.Logger, exc: BaseException, what: str) -> str:
    """Log `what` failed with `exc` (traceback included) under a new incident id; returns the id."""
    incident = new_incident_id()
    if is_store_down(exc):
        # an outage is not a defect: its cause in one line is what the operator needs, not a traceback per request
        log.error("incident %s: %s: the store did not answer: %s", incident, what, exc)
    else:
        log.error("incident %s: %s", incident, what, exc_info=exc)
    return incident


def public_text(exc: BaseException, incident: str) -> str:
    """What a caller is told of the failure `exc` logged as `incident`."""
    if is_store_down(exc):
        return f"the store is unavailable; retry later (incident {incident})"
    return f"internal error (incident {incident})"


def answer_failures(log: logging.Logger, retry_after: int) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware for the routes where HTTP is the contract (OpenADR 3, the aggregators' API, the UI): a
    failure a handler did not answer becomes a problem answer with an incident id — 503 with Retry-After
    (`retry_after` seconds) when the store did not answer, else 500 — instead of aiohttp's bare 500. The 2.0b
    services answer their own failures inside OpenADR (eiResponse 469), with the same texts."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            incident = record(log, exc, f"{request.method} {request.path} from {request.remote}")
            down = is_store_down(exc)
            answer = problem(503 if down else 500, public_text(exc, incident), incident=incident)
            if down:
                answer.headers["Retry-After"] = str(retry_after)
            return answer

    return middleware
