"""The portfolios page: which sites each aggregator or supplier client holds, and (operators) giving
or taking a site from a date — the same change as `cariflex aggregator portfolio`, audited the same way.

GET  /ui/portfolios   holdings, past and present, and the form
POST /ui/portfolios   `client_id`, `site`, `action` (assign | release), `at` (local time or RFC 3339;
                      empty: this quarter hour), `csrf`; a bad field is a 400 naming it
"""

from aiohttp import web

from mapping.grid import floor_slot
from vtn.aggregator import portfolio
from vtn.store import portfolio_repository as portfolio_repo
from vtn.store.portfolio_repository import SwitchRefused
from vtn.ui.actions import done
from vtn.ui.auth import require_operator
from vtn.ui.formatting import parse_local
from vtn.ui.state import render, state

ACTIONS = {"assign": portfolio.assign, "release": portfolio.release}


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the page and its form."""
    router.add_get("/portfolios", portfolios_page)
    router.add_post("/portfolios", change)


async def portfolios_page(request: web.Request) -> web.Response:
    """Every holding, by site then date; the form for operators."""
    ui = state(request)
    holdings = await ui.store.call(portfolio_repo.holdings)
    sites = sorted(portfolio.configured_sites(ui.ctx.config))
    return render(request, "portfolios.html", title="Portfolios", holdings=holdings, sites=sites)


async def change(request: web.Request) -> web.Response:
    """Give a site to a client, or take it, from a date (its old owner's open orders end then)."""
    operator = require_operator(request)
    ui = state(request)
    form = {k: str(v).strip() for k, v in (await request.post()).items()}
    client_id, site, action = form.get("client_id", ""), form.get("site", ""), form.get("action", "")
    if not client_id or len(client_id) > 128:
        raise web.HTTPBadRequest(text="client_id: give the client's id (1 to 128 characters)")
    if site not in portfolio.configured_sites(ui.ctx.config):
        raise web.HTTPBadRequest(text=f"site: {site!r} is not a site of the aggregator API")
    if action not in ACTIONS:
        raise web.HTTPBadRequest(text="action: expected assign or release")
    try:
        at = parse_local(form["at"], ui.zone) if form.get("at") else floor_slot(ui.now())
    except (ValueError, OverflowError) as exc:
        raise web.HTTPBadRequest(text=f"at: expected a time such as 2026-12-08 06:00 or 2026-12-08T10:00:00Z ({exc})") from exc
    try:
        done_change = await ui.store.call(
            ACTIONS[action], client_id, site, at, operator.username, ui.now(), ui.ctx.config.near_window
        )
    except SwitchRefused as exc:
        raise web.HTTPBadRequest(text=f"{exc.field}: {exc}") from exc
    verb = "given to" if action == "assign" else "taken from"
    raise done("/ui/portfolios", f"{site} {verb} {client_id}; {len(done_change.events)} events ended")
