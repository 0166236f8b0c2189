"""Reading a `[tls]` table (the VTN's or a VEN's) into TlsSettings, with errors that name the key."""

from dataclasses import replace
from pathlib import Path
from typing import Literal

from certs.tls import TlsSettings
from mapping.settings import ConfigError, Table

COMMON_KEYS = {"enabled", "cert", "key", "ecdsa_cert", "ecdsa_key", "ca", "crl", "modern"}
ROLE_KEYS = {"server": {"require_client_cert"}, "client": {"check_hostname"}}


#: in a VEN's cert and key paths, replaced by each site's VEN name (one certificate per VEN)
VEN_NAME = "{ven_name}"


def _path(table: Table, key: str, base_dir: Path) -> Path:
    path = Path(table.string(key))
    path = path if path.is_absolute() else (base_dir / path)
    if VEN_NAME not in str(path) and not path.is_file():
        raise ConfigError(f"{table.path}.{key}: file {path} not found")
    return path


def parse_tls(tls: Table, base_dir: Path, role: Literal["server", "client"]) -> TlsSettings | None:
    """None (plain HTTP) when the table is empty or `enabled = false`; relative paths are taken from `base_dir`."""
    tls.reject_unknown(COMMON_KEYS | ROLE_KEYS[role])
    if not tls.data or not tls.boolean("enabled", True):
        return None
    chains = [(_path(tls, "cert", base_dir), _path(tls, "key", base_dir))]
    if "ecdsa_cert" in tls.data or "ecdsa_key" in tls.data:
        chains.append((_path(tls, "ecdsa_cert", base_dir), _path(tls, "ecdsa_key", base_dir)))
    return TlsSettings(
        chains=tuple(chains),
        ca_file=_path(tls, "ca", base_dir),
        crl_file=_path(tls, "crl", base_dir) if "crl" in tls.data else None,
        require_client_cert=tls.boolean("require_client_cert", True) if role == "server" else True,
        modern=tls.boolean("modern", False),
        check_hostname=tls.boolean("check_hostname", True) if role == "client" else True,
    )


def for_ven(settings: TlsSettings, ven_name: str) -> TlsSettings:
    """The settings of one VEN: `{ven_name}` in certificate and key paths replaced by its name."""
    chains = tuple(
        (Path(str(c).replace(VEN_NAME, ven_name)), Path(str(k).replace(VEN_NAME, ven_name))) for c, k in settings.chains
    )
    for cert, key in chains:
        for path in (cert, key):
            if not path.is_file():
                raise ConfigError(f"tls: file {path} (for VEN {ven_name!r}) not found")
    return replace(settings, chains=chains)
