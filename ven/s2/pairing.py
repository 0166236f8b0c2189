"""Pairing: each device's RM presents its site's `s2_token` (sites.toml) as `Authorization: Bearer <token>` when it
opens its WebSocket; the token names the device (site and kind), and no other RM may speak for it."""

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from ven.config import SiteConfig


@dataclass(frozen=True)
class DeviceKey:
    """One S2-dispatched device: its site and its kind (battery, v2g, evse, pv)."""

    site: str
    kind: str


class PairingBook:
    """The paired devices by token."""

    def __init__(self, sites: Iterable[SiteConfig]) -> None:
        self._by_token = {
            site.s2_token: DeviceKey(site.name, str(site.asset.get("kind", "")))
            for site in sites
            if site.s2_token and site.asset.get("kind")
        }

    def __len__(self) -> int:
        return len(self._by_token)

    def devices(self) -> list[DeviceKey]:
        """Every paired device."""
        return list(self._by_token.values())

    def device(self, authorization: str | None) -> DeviceKey | None:
        """The device an `Authorization` header's bearer token names; None for a missing or unknown token. Every
        token is compared in constant time, so the time taken says nothing about how close a guess was."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        given = authorization[len("Bearer ") :].strip().encode()
        found = None
        for token, key in self._by_token.items():
            if hmac.compare_digest(given, token.encode()):
                found = key
        return found
