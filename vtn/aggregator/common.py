"""What every aggregator API handler shares: its state, the bearer-token check, problem answers."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from mapping.flexready.offers import OfferExceeded, SiteFacts, offer_json
from mapping.flexready.scope import Scope
from mapping.flexready.sites import Portfolio, Unknown
from mapping.refusal import Refused
from vtn.admin.events import EventRefused
from vtn.auth.http import AuthFailed, bearer_grant, problem, require_scope
from vtn.auth.tokens import Grant, TokenIssuer
from vtn.context import VtnContext
from vtn.curtailment.settings import Settlement
from vtn.dso.openadr3.common import Conflict, NotFound
from vtn.lifecycle import Lifecycle
from vtn.site_registry import delivery_points_by_ven
from vtn.store import portfolio_repository as portfolio_repo

BASE = "/flexready/v1"
AUDIENCE = "cariflex-aggregator"
SCOPE = "flexready"
#: a supplier's scope: its portfolio's sites, their telemetry, and price series only
SUPPLIER_SCOPE = "supplier"


@dataclass(frozen=True)
class AggregatorApi:
    """What the handlers share: the VTN, the token issuer, the sites and the program's market context."""

    ctx: VtnContext
    lifecycle: Lifecycle
    issuer: TokenIssuer
    portfolio: Portfolio
    market_context: str
    #: what the sites file says of each site's device (flexibility offers)
    devices: Mapping[str, SiteFacts] = field(default_factory=dict)

    @property
    def contracts(self) -> dict[str, float]:
        """Site → the kW its subscription allows (what shares of the contract mean)."""
        return {site: self.portfolio.max_kw(site) for site in self.portfolio.sites}

    async def scope(self, grant: Grant) -> Scope:
        """The client's permission filter (its portfolio), read afresh for each request."""
        return await self.ctx.store.call(portfolio_repo.scope, grant.client_id)

    def held(self, scope: Scope) -> Portfolio:
        """The configured sites and groups the client holds now: all that its requests may name."""
        return scope.restrict(self.portfolio, self.ctx.now())

    @property
    def settlement(self) -> Settlement:
        """How the VTN settles these sites: its programs' methods, their contracts, their meters."""
        return Settlement(self.ctx.config.curtailment, self.contracts, delivery_points_by_ven(self.ctx.config.ui.sites_file))


Handler = Callable[[AggregatorApi, web.Request, Grant], Awaitable[web.Response]]


def endpoint(api: AggregatorApi, handler: Handler, *scopes: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler: a bearer token with one of `scopes` (default `flexready`) first, then `handler`;
    failures become problem answers."""
    accepted = scopes or (SCOPE,)

    async def handle(request: web.Request) -> web.Response:
        try:
            grant = bearer_grant(request, api.issuer, api.ctx.now())
            require_scope(grant, *accepted)
            return await handler(api, request, grant)
        except AuthFailed as exc:
            answer = problem(exc.status, exc.detail)
            if exc.status == 401:  # RFC 6750 §3
                answer.headers["WWW-Authenticate"] = f'Bearer realm="{AUDIENCE}"'
            return answer
        except OfferExceeded as exc:  # more than the sites can do: the answer says what they can
            return problem(409, str(exc), field=exc.field, offer=offer_json(exc.offer))
        except Unknown as exc:  # not there or not this client's: the same answer (no leak)
            return problem(404, str(exc), field=exc.field)
        except Refused as exc:
            return problem(400, str(exc), field=exc.field)
        except NotFound as exc:
            return problem(404, str(exc), field=str(exc).partition(":")[0])
        except (Conflict, EventRefused) as exc:
            return problem(409, str(exc), field=str(exc).partition(":")[0])

    return handle
