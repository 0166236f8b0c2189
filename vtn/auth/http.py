"""aiohttp glue: the OAuth2 client-credentials token endpoint, bearer-token checks, problem answers."""

import asyncio
import base64
import binascii
import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from vtn.auth.secrets import verify_secret
from vtn.auth.throttle import FailureThrottle, Throttled
from vtn.auth.tokens import Grant, TokenInvalid, TokenIssuer
from vtn.domain import ClientRecord

MAX_FIELD = 4096


class AuthFailed(Exception):
    """A request without a usable credential (`status` 401 or 403, per the API's contract)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


def problem(status: int, detail: str, **extra: Any) -> web.Response:
    """An RFC 7807-style problem answer (the OpenAPI `problem` schema), naming what was wrong."""
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": detail, **extra}
    return web.json_response(body, status=status)


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    # RFC 6749 §5.2 members, with the problem members beside them (3.1 answers 401 with a problem)
    body = {"error": error, "error_description": description, "title": _TITLES.get(status, "Error"), "status": status}
    headers = {"WWW-Authenticate": 'Basic realm="cariflex"'} if status == 401 else None
    return web.json_response(body, status=status, headers=headers)


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


async def token_endpoint(
    request: web.Request,
    find_client: Callable[[str], Awaitable[ClientRecord | None]],
    issuer: TokenIssuer,
    now: datetime,
    invalid_client_status: int = 401,
    throttle: FailureThrottle | None = None,
    client_address: str = "",
) -> web.Response:
    """Answer an OAuth2 client-credentials token request (credentials in HTTP Basic or in the form). With
    `throttle`, failures are counted per (client_id, `client_address`) before the secret is checked: past the
    limit the answer is invalid_client with Retry-After, whatever the secret."""
    if request.content_type != "application/x-www-form-urlencoded":
        return _oauth_error(400, "invalid_request", "send the parameters as application/x-www-form-urlencoded")
    try:
        form = await request.post()
    except ValueError:
        return _oauth_error(400, "invalid_request", "the form body could not be read")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if any(len(v) > MAX_FIELD for v in fields.values()):
        return _oauth_error(400, "invalid_request", f"a parameter is longer than {MAX_FIELD} characters")
    if fields.get("grant_type") != "client_credentials":
        if not fields.get("grant_type"):
            return _oauth_error(400, "invalid_request", "grant_type is required (client_credentials)")
        return _oauth_error(400, "unsupported_grant_type", "grant_type: only client_credentials is supported")
    basic = _basic(request.headers.get("Authorization", ""))
    client_id, secret = basic if basic else (fields.get("client_id", ""), fields.get("client_secret", ""))
    if not client_id or not secret:
        return _oauth_error(400, "invalid_request", "client_id and client_secret are required (HTTP Basic or form)")
    try:  # counted before anything is awaited: concurrent guesses see each other
        attempt = throttle.reserve(client_id, client_address) if throttle is not None else None
    except Throttled as exc:
        # the invalid_client status, not 429: the OpenADR 3 specifications document no 429 for auth/token
        wait = math.ceil(exc.wait)
        answer = _oauth_error(invalid_client_status, "invalid_client", f"too many failed attempts; retry in {wait} s")
        answer.headers["Retry-After"] = str(wait)
        return answer
    client = await find_client(client_id)
    valid = client is not None and not client.disabled and await asyncio.to_thread(verify_secret, secret, client.secret_hash)
    if not valid or client is None:
        return _oauth_error(invalid_client_status, "invalid_client", "unknown client or wrong secret")
    if throttle is not None and attempt is not None:
        throttle.succeeded(attempt)
    wanted = frozenset(fields.get("scope", "").split()) or client.scopes
    if not wanted <= client.scopes:
        extra = " ".join(sorted(wanted - client.scopes))
        return _oauth_error(400, "invalid_scope", f"scope: not granted to this client: {extra}")
    token = issuer.issue(client.client_id, wanted, now)
    body = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(issuer.lifetime.total_seconds()),
        "scope": " ".join(sorted(wanted)),
    }
    return web.json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def bearer_grant(request: web.Request, issuer: TokenIssuer, now: datetime, missing_status: int = 401) -> Grant:
    """The grant of the request's bearer token; AuthFailed (`missing_status`) when there is none or it is invalid."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthFailed(missing_status, "Authorization: a bearer token is required (POST auth/token for one)")
    try:
        return issuer.verify(token.strip(), now)
    except TokenInvalid as exc:
        raise AuthFailed(missing_status, f"Authorization: {exc}") from exc


def require_scope(grant: Grant, *accepted: str) -> None:
    """AuthFailed (403) unless the grant holds one of the accepted scopes."""
    if not grant.scopes.intersection(accepted):
        raise AuthFailed(403, f"scope: this operation needs one of {', '.join(accepted)}")
