"""The VTN's `[tls]` and `[proxy]` configuration sections (validated like the rest of vtn.toml)."""

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from certs.settings import parse_tls as parse_tls_table
from certs.tls import TlsSettings
from mapping.settings import ConfigError, Table

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ProxyTrust:
    """Reverse-proxy mode: a TLS-terminating proxy forwards the verified client certificate in
    `header`; the header is believed only on connections from `networks`."""

    header: str
    networks: tuple[Network, ...]

    def trusts(self, address: str | None) -> bool:
        """True when `address` (the TCP peer) is one of the configured proxies."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


def parse_tls(root: Table, base_dir: Path) -> TlsSettings | None:
    """`[tls]`: None (plain HTTP) when the section is absent or `enabled = false`."""
    return parse_tls_table(root.table("tls"), base_dir, "server")


def parse_proxy(root: Table) -> ProxyTrust | None:
    """`[proxy]`: None unless a client-certificate header is configured."""
    proxy = root.table("proxy")
    proxy.reject_unknown({"client_cert_header", "trusted"})
    if not proxy.data:
        return None
    trusted = proxy.data.get("trusted")
    if not isinstance(trusted, list) or not trusted or not all(isinstance(t, str) for t in trusted):
        raise ConfigError(f'{proxy.path}.trusted: expected a non-empty list of proxy addresses or networks, e.g. ["127.0.0.1"]')
    networks = []
    for text in trusted:
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ConfigError(f"{proxy.path}.trusted: {text!r} is not an IP address or network") from exc
    return ProxyTrust(header=proxy.string("client_cert_header", "X-SSL-Client-Cert"), networks=tuple(networks))
