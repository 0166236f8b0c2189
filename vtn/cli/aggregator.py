"""`cariflex aggregator client add NAME`: an aggregator API client (OAuth2 client credentials, scope
`flexready`); `cariflex supplier client add NAME`: a supplier client (scope `supplier`: price series
only); `cariflex aggregator portfolio …`: the sites either holds (`vtn.cli.portfolio`).
Clients live beside the DSO API's (`cariflex dso client list|disable` manage both);
the secret is shown once and stored hashed."""

from typing import Any

from vtn.aggregator.common import SCOPE, SUPPLIER_SCOPE
from vtn.cli import portfolio
from vtn.cli.dso import add_client, client_actions, client_add_parser


def register(commands: Any, config_args: Any, store_of: Any) -> None:
    """Add `aggregator client add`, `aggregator portfolio …` and `supplier client add` to the `cariflex` parser (config_args and
    store_of are vtn.cli.store's)."""
    actions = client_actions(commands, "aggregator", "aggregator API", portfolio.register, config_args, store_of)
    add = client_add_parser(actions, config_args, "agregateur-caraibes")
    add.set_defaults(run=lambda args: add_client(args, store_of, frozenset({SCOPE})))
    suppliers = client_actions(commands, "supplier", "supplier (price series on the aggregator API)")
    supplier = client_add_parser(suppliers, config_args, "fournisseur-antilles")
    supplier.set_defaults(run=lambda args: add_client(args, store_of, frozenset({SUPPLIER_SCOPE})))
