"""Passwords (argon2), login sessions (random token in an HttpOnly cookie, SHA-256 in the store),
CSRF tokens, and the middleware that keeps every UI page behind a login."""

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vtn.auth.throttle import Attempt, FailureThrottle
from vtn.oadr.security_config import ProxyTrust
from vtn.store import ui_repository as users
from vtn.store.worker import StoreWorker

SESSION_COOKIE = "cariflex_session"
LOGIN_CSRF_COOKIE = "cariflex_login_csrf"
#: reachable without a session: the login form and the stylesheet/script files
PUBLIC_PATHS = ("/ui/login",)
PUBLIC_PREFIXES = ("/ui/static/",)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_HASHER = PasswordHasher()
#: checked against when the user does not exist, so a wrong name costs what a wrong password costs
_DUMMY_HASH = _HASHER.hash("not a password")


@dataclass(frozen=True)
class Operator:
    """The logged-in user of a request."""

    username: str
    role: str
    csrf_token: str
    token_hash: str

    @property
    def may_act(self) -> bool:
        """Operators act (cancel, request reports, re-registration); viewers only read."""
        return self.role == "operator"


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _HASHER.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends one argon2 verification."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class PasswordChecker:
    """Password checks off the event loop (argon2 costs ~0.1 s of CPU: on the loop it would stall the
    VENs' polls), a few at a time, and a pause after repeated failures (`vtn/auth/throttle.py`: per user name
    and client address, counted before the check)."""

    def __init__(self, concurrency: int = 2, max_failures: int = 5, window_s: float = 300.0) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self.throttle = FailureThrottle(max_failures, window_s)

    def reserve(self, username: str, client: str) -> Attempt:
        """Count an attempt of `username` from `client` now, or raise Throttled."""
        return self.throttle.reserve(username, client)

    async def verify(self, attempt: Attempt, stored_hash: str | None, password: str) -> bool:
        """Verify in a worker thread; a right password takes the attempt back."""
        async with self._slots:
            ok = await asyncio.to_thread(check_password, stored_hash, password)
        if ok:
            self.throttle.succeeded(attempt)
        return ok


def served_over_tls(request: web.Request, proxy: ProxyTrust | None) -> bool:
    """Whether the browser reached us over HTTPS: our own TLS, or a trusted TLS-terminating proxy ([proxy])."""
    return request.secure or (proxy is not None and proxy.trusts(request.remote))


def plausible_username(username: str) -> bool:
    """A user name worth looking up (no NUL, which PostgreSQL refuses, and a sane length)."""
    return 0 < len(username) <= 128 and "\x00" not in username


def new_token() -> str:
    """A fresh random token (session, CSRF)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens (None never matches)."""
    return a is not None and b is not None and hmac.compare_digest(a, b)


OPERATOR_KEY = web.RequestKey("operator", Operator)


def make_middleware(
    store: StoreWorker, now: Callable[[], object]
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Anonymous requests to anything but the public paths go to the login page; POSTs need the session's CSRF token."""

    @web.middleware
    async def require_login(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return await handler(request)
        token = request.cookies.get(SESSION_COOKIE)
        found = await store.call(users.find_session, token_hash(token), now()) if token else None
        if found is None:
            if request.method == "GET":
                raise web.HTTPSeeOther(f"/ui/login?{urlencode({'next': request.rel_url.path_qs})}")
            raise web.HTTPUnauthorized(text="login required")
        operator = Operator(username=found[0], role=found[1], csrf_token=found[2], token_hash=token_hash(token or ""))
        if request.method == "POST":
            form = await request.post()
            if not same(str(form.get("csrf", "")), operator.csrf_token):
                raise web.HTTPForbidden(text="csrf: the form's CSRF token is missing or wrong; reload the page and try again")
        request[OPERATOR_KEY] = operator
        return await handler(request)

    return require_login


def operator_of(request: web.Request) -> Operator:
    """The logged-in user (the middleware has checked there is one)."""
    return request[OPERATOR_KEY]


def require_operator(request: web.Request) -> Operator:
    """The logged-in user, who must hold the operator role."""
    operator = operator_of(request)
    if not operator.may_act:
        raise web.HTTPForbidden(text=f"role: {operator.username} is a viewer; this action needs the operator role")
    return operator
