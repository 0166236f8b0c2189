"""What every UI handler shares: the UI's state (context, store handle, templates, sites) and rendering a page."""

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import jinja2
from aiohttp import web

from vtn.context import VtnContext
from vtn.curtailment.settings import Settlement
from vtn.store.worker import StoreWorker
from vtn.ui import auth, formatting
from vtn.ui.sitemap import Site


@dataclass
class UiState:
    """What every UI handler needs: the VTN context, the UI's own store handle, the templates."""

    ctx: VtnContext
    store: StoreWorker
    templates: jinja2.Environment
    #: read once from the sites file: the sites (map, VEN page), and each VEN's contract (requested curtailment)
    sites: list[Site] = field(default_factory=list)
    #: how the VTN settles (its programs' baseline methods, the sites' contracts and meters)
    settlement: Settlement = field(default_factory=Settlement)
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
