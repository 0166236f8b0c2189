"""The login and logout pages (the session cookie, the login form's CSRF token, the password throttle)."""

from aiohttp import web

from vtn.auth.throttle import Throttled, client_address
from vtn.store import ui_repository as users
from vtn.ui import auth
from vtn.ui.state import render, state


def add_routes(router: web.UrlDispatcher) -> None:
    """GET/POST /login and POST /logout."""
    router.add_get("/login", _login_form)
    router.add_post("/login", _login)
    router.add_post("/logout", _logout)


def _safe_next(target: str) -> str:
    """Only a path of this UI (never another site) after login."""
    return target if target.startswith("/ui/") and not target.startswith("//") else "/ui/events"


def _login_page(request: web.Request, error: str | None, next_path: str, status: int = 200) -> web.Response:
    csrf = auth.new_token()
    response = render(request, "login.html", status=status, title="Log in", error=error, csrf=csrf, next=next_path)
    response.set_cookie(auth.LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="Strict", path="/ui/login")
    return response


async def _login_form(request: web.Request) -> web.Response:
    return _login_page(request, None, _safe_next(request.query.get("next", "")))


async def _login(request: web.Request) -> web.Response:
    ui = state(request)
    form = await request.post()
    next_path = _safe_next(str(form.get("next", "")))
    if not auth.same(str(form.get("csrf", "")), request.cookies.get(auth.LOGIN_CSRF_COOKIE)):
        return _login_page(request, "csrf: the login form expired; please try again.", next_path, status=403)
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    proxy = ui.ctx.config.proxy
    try:  # counted before anything is awaited: concurrent attempts see each other
        attempt = ui.passwords.reserve(username, client_address(request, proxy))
    except Throttled as exc:
        message = f"Too many failed logins; try again in {int(exc.wait // 60) + 1} minute(s)."
        return _login_page(request, message, next_path, status=429)
    found = await ui.store.call(users.find_user, username) if auth.plausible_username(username) else None
    if not password or not await ui.passwords.verify(attempt, found[0] if found else None, password):
        return _login_page(request, "Wrong user name or password.", next_path, status=401)
    token, csrf, now = auth.new_token(), auth.new_token(), ui.now()
    lifetime = ui.ctx.config.ui.session_lifetime
    await ui.store.call(users.open_session, auth.token_hash(token), username, csrf, now, now + lifetime)
    response = web.HTTPSeeOther(next_path)
    response.set_cookie(
        auth.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        path="/",
        max_age=int(lifetime.total_seconds()),
        secure=auth.served_over_tls(request, proxy),  # a browser then never sends it over plain HTTP
    )
    response.del_cookie(auth.LOGIN_CSRF_COOKIE, path="/ui/login")
    raise response


async def _logout(request: web.Request) -> web.Response:
    ui = state(request)
    await ui.store.call(users.close_session, auth.operator_of(request).token_hash)
    response = web.HTTPSeeOther("/ui/login")
    response.del_cookie(auth.SESSION_COOKIE, path="/")
    raise response
