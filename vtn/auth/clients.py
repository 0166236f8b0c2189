"""What the token endpoint needs to know of an API client."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ClientRecord:
    """A stored API client: its secret's hash and the scopes it may be granted."""

    client_id: str
    secret_hash: str
    scopes: frozenset[str]
    disabled: bool = False
