"""Stock openleadr ``OpenADRServer`` over mutual TLS, the reference of bench/tls_bench.py.

    python bench/openleadr_tls_vtn.py --port 8443 --pki DIR [--signatures]

Its TLS context is openleadr's own (CA-verified client certificates, its default suites). VENs are
accepted as in openleadr_reference_vtn.py, and ``ven_lookup`` answers with the fingerprint of the
certificate named after the VEN (``DIR/<ven name>-ecdsa.crt``), so openleadr checks every request's
certificate as a real deployment would. With ``--signatures`` it signs its answers and verifies
the VENs' signatures (openleadr's ``verify_message_signatures``); without, it does neither.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

from openleadr import OpenADRServer
from openleadr.utils import certificate_fingerprint
from openleadr_reference_vtn import Registry


class TlsRegistry(Registry):
    """The reference registry, with each VEN's certificate fingerprint."""

    def __init__(self, pki: Path) -> None:
        super().__init__()
        self.pki = pki

    def on_create_party_registration(self, payload: dict[str, Any]) -> tuple[str, str]:
        ven_id, registration_id = super().on_create_party_registration(payload)
        name = self.vens[ven_id]["ven_name"]
        self.vens[ven_id]["fingerprint"] = certificate_fingerprint((self.pki / f"{name}-ecdsa.crt").read_text())
        return ven_id, registration_id


async def serve(host: str, port: int, pki: Path, signatures: bool) -> None:
    registry = TlsRegistry(pki)
    server = OpenADRServer(
        vtn_id="OPENLEADR-REF-VTN",
        http_host=host,
        http_port=port,
        http_cert=str(pki / "vtn-ecdsa.crt"),
        http_key=str(pki / "vtn-ecdsa.key"),
        http_ca_file=str(pki / "ca.crt"),
        cert=str(pki / "vtn-ecdsa.crt") if signatures else None,
        key=str(pki / "vtn-ecdsa.key") if signatures else None,
        ven_lookup=registry.ven_lookup,
        verify_message_signatures=signatures,
        show_fingerprint=False,
        show_server_cert_domain=False,
    )
    server.add_handler("on_create_party_registration", registry.on_create_party_registration)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.run()
    print(f"READY https://{host}:{port}", flush=True)
    await stop.wait()
    await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pki", type=Path, required=True)
    parser.add_argument("--signatures", action="store_true")
    args = parser.parse_args()
    logging.getLogger("openleadr").setLevel(logging.ERROR)
    asyncio.run(serve(args.host, args.port, args.pki, args.signatures))


if __name__ == "__main__":
    main()
