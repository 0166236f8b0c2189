"""Assembling the operator UI: a sub-application under /ui/ with its own store handle, templates, login
middleware and pages. The OpenADR endpoints are not touched."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from aiohttp import web

from vtn.context import VtnContext, new_id
from vtn.curtailment import api as curtailment_api
from vtn.curtailment.settings import settlement
from vtn.store.worker import StoreWorker
from vtn.ui import actions, auth, login, pages_events, pages_meter, pages_misc, pages_portfolios, pages_settlement, pages_vens
from vtn.ui.sitemap import load_sites
from vtn.ui.state import UI_KEY, UiState

STATIC = Path(__file__).with_name("static")


def add_ui(app: web.Application, ctx: VtnContext) -> None:
    """Mount the operator UI at /ui/."""
    # A store handle of its own: UI queries never queue behind the poll path, and the UI's writes come
    # back to this process through the change feed like any other writer's.
    store = StoreWorker(ctx.config.db_url, origin=new_id("ui"), timeouts=ctx.config.store_timeouts)
    templates = jinja2.Environment(loader=jinja2.PackageLoader("vtn.ui", "templates"), autoescape=True)
    headers = _security_headers(content_policy(ctx.config.ui.tiles_url))
    ui = web.Application(middlewares=[headers, _refuse_nul, auth.make_middleware(store, ctx.now)])
    sites_file = ctx.config.ui.sites_file
    ui[UI_KEY] = UiState(
        ctx=ctx,
        store=store,
        templates=templates,
        sites=load_sites(sites_file),
        settlement=settlement(ctx.config.curtailment, sites_file),
    )
    ui.router.add_get("/", _home)
    ui.router.add_static("/static/", STATIC)
    for module in (login, pages_events, pages_vens, pages_misc, pages_meter, pages_settlement, pages_portfolios, actions):
        module.add_routes(ui.router)
    curtailment_api.add_routes(ui, store, ui[UI_KEY].settlement)

    async def close_store(_app: web.Application) -> None:
        store.close()

    ui.on_cleanup.append(close_store)
    app.add_subapp("/ui/", ui)
    app.router.add_get("/ui", _home)


def content_policy(tiles_url: str | None) -> str:
    """The Content-Security-Policy of the UI: its own files only (no inline script or style), the map's tiles from
    their server, never framed (clickjacking), forms posted only to itself."""
    tiles = urlsplit(tiles_url) if tiles_url else None
    images = "'self' data:" + (f" {tiles.scheme}://{tiles.netloc}" if tiles and tiles.netloc else "")
    return (
        f"default-src 'self'; img-src {images}; script-src 'self'; style-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    )


def _security_headers(policy: str) -> Callable[[web.Request, auth.Handler], Awaitable[web.StreamResponse]]:
    """Every UI answer — pages, redirects, refusals — says: not in a frame, and the content policy above."""

    @web.middleware
    async def add_headers(request: web.Request, handler: auth.Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers["X-Frame-Options"] = "DENY"
            exc.headers["Content-Security-Policy"] = policy
            raise
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = policy
        return response

    return add_headers


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
