"""Assembling the operator UI: a sub-application under /ui/ with its own store handle, templates,
login middleware, and the login/logout pages. The OpenADR endpoints are not touched."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from vtn.context import VtnContext, new_id
from vtn.site_registry import contracted_kw_by_ven
from vtn.store import ui_repository as users
from vtn.store.worker import StoreWorker
from vtn.ui import auth, formatting
from vtn.ui.sitemap import Site, load_sites

STATIC = Path(__file__).with_name("static")


@dataclass
class UiState:
    """What every UI handler needs: the VTN context, the UI's own store handle, the templates."""

    ctx: VtnContext
    store: StoreWorker
    templates: jinja2.Environment
    #: read once from the sites file: the sites (map, VEN page), and each VEN's contract (requested curtailment)
    sites: list[Site] = field(default_factory=list)
    contracts: Mapping[str, float] = field(default_factory=dict)
    passwords: auth.PasswordChecker = field(default_factory=auth.PasswordChecker)

    def now(self) -> datetime:
        """The VTN's clock."""
        return self.ctx.now()

    @property
    def zone(self) -> tzinfo:
        """The zone pages show times in (`[ui] timezone`)."""
        return self.ctx.config.ui.timezone

    def site_of(self, ven_name: str | None) -> Site | None:
        """The sites-file entry of a VEN, by oadrVenName."""
        return next((s for s in self.sites if ven_name and s.ven_name == ven_name), None)

    def ven_id_for(self, text: str) -> str:
        """The venID a filter names, by venID or site name (oadrVenName); an unknown one as typed (it
        simply matches nothing)."""
        ven = self.ctx.live.vens.get(text) or self.ctx.live.ven_by_name(text)
        return ven.ven_id if ven else text


UI_KEY = web.AppKey("ui", UiState)


def state(request: web.Request) -> UiState:
    """The UI state of the sub-application handling `request`."""
    return request.config_dict[UI_KEY]


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """A page from `template` with the logged-in operator and the formatting helpers."""
    ui = state(request)
    operator = request.get(auth.OPERATOR_KEY)
    html = ui.templates.get_template(template).render(
        operator=operator, notice=request.query.get("notice"), **formatting.helpers(ui.zone, ui.now()), **values
    )
    return web.Response(text=html, content_type="text/html", status=status)


def add_ui(app: web.Application, ctx: VtnContext) -> None:
    """Mount the operator UI at /ui/."""
    from vtn import curtailment_api
    from vtn.ui import actions, pages_events, pages_misc, pages_vens  # the handlers import this module

    # A store handle of its own: UI queries never queue behind the poll path, and the UI's writes come
    # back to this process through the change feed like any other writer's.
    store = StoreWorker(ctx.config.db_url, origin=new_id("ui"))
    templates = jinja2.Environment(loader=jinja2.PackageLoader("vtn.ui", "templates"), autoescape=True)
    ui = web.Application(middlewares=[_refuse_nul, auth.make_middleware(store, ctx.now)])
    sites_file = ctx.config.ui.sites_file
    ui[UI_KEY] = UiState(
        ctx=ctx, store=store, templates=templates, sites=load_sites(sites_file), contracts=contracted_kw_by_ven(sites_file)
    )
    ui.router.add_get("/login", _login_form)
    ui.router.add_post("/login", _login)
    ui.router.add_post("/logout", _logout)
    ui.router.add_get("/", _home)
    ui.router.add_static("/static/", STATIC)
    for module in (pages_events, pages_vens, pages_misc, actions):
        module.add_routes(ui.router)
    curtailment_api.add_routes(ui, store, ui[UI_KEY].contracts)

    async def close_store(_app: web.Application) -> None:
        store.close()

    ui.on_cleanup.append(close_store)
    app.add_subapp("/ui/", ui)
    app.router.add_get("/ui", _home)


@web.middleware
async def _refuse_nul(request: web.Request, handler: auth.Handler) -> web.StreamResponse:
    """400 naming the field for a NUL character anywhere a page reads from (PostgreSQL refuses it in text)."""
    fields = [*request.match_info.items(), *request.query.items()]
    if request.method == "POST":
        fields += [(k, str(v)) for k, v in (await request.post()).items()]
    for name, value in fields:
        if "\x00" in value:
            raise web.HTTPBadRequest(text=f"{name}: contains a NUL character")
    return await handler(request)


async def _home(_request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/ui/events")


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
    client = request.remote or "unknown"
    wait = ui.passwords.blocked_for(client)
    if wait > 0:
        message = f"Too many failed logins from your address; try again in {int(wait // 60) + 1} minute(s)."
        return _login_page(request, message, next_path, status=429)
    found = await ui.store.call(users.find_user, username) if auth.plausible_username(username) else None
    if not password or not await ui.passwords.check(client, found[0] if found else None, password):
        return _login_page(request, "Wrong user name or password.", next_path, status=401)
    token, csrf, now = auth.new_token(), auth.new_token(), ui.now()
    lifetime = ui.ctx.config.ui.session_lifetime
    await ui.store.call(users.open_session, auth.token_hash(token), username, csrf, now, now + lifetime)
    response = web.HTTPSeeOther(next_path)
    response.set_cookie(
        auth.SESSION_COOKIE, token, httponly=True, samesite="Strict", path="/", max_age=int(lifetime.total_seconds())
    )
    response.del_cookie(auth.LOGIN_CSRF_COOKIE, path="/ui/login")
    raise response


async def _logout(request: web.Request) -> web.Response:
    ui = state(request)
    await ui.store.call(users.close_session, auth.operator_of(request).token_hash)
    response = web.HTTPSeeOther("/ui/login")
    response.del_cookie(auth.SESSION_COOKIE, path="/")
    raise response
