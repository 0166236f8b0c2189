"""`cariflex certs`: make (or extend) a development PKI and print each certificate's OpenADR fingerprint."""

import argparse
from pathlib import Path
from typing import Any

from cryptography import x509

from certs import pki

DEFAULT_DIR = Path("var/pki")
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")


def register(commands: Any) -> None:
    """Add `certs` to the `cariflex` parser."""
    parser = commands.add_parser(
        "certs",
        help="make a development PKI (CA, VTN and VEN certificates, CRL)",
        description=(
            "Make a development PKI in --out: a CA (reused when present), the VTN's server certificates and one "
            "client certificate per --ven, each with an RSA-2048 and an ECDSA P-256 key, and the CA's CRL. "
            "Prints every certificate's OpenADR fingerprint. Keys are written mode 0600 and are git-ignored "
            "(var/). For development and tests only."
        ),
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR, help=f"output folder (default {DEFAULT_DIR})")
    parser.add_argument("--ven", action="append", default=[], help="a VEN name to issue client certificates for (repeatable)")
    parser.add_argument(
        "--host", action="append", default=[], help="a DNS name or IP of the VTN (default localhost, 127.0.0.1, ::1)"
    )
    parser.add_argument("--revoke", action="append", default=[], type=Path, help="a certificate file to add to the CRL")
    parser.add_argument("--no-vtn", action="store_true", help="do not (re)issue the VTN's server certificates")
    parser.set_defaults(run=_run)


def make_dev_pki(out: Path, vens: list[str], hosts: tuple[str, ...], with_vtn: bool = True) -> list[tuple[str, Path, str]]:
    """Write the PKI into `out`; returns (what, certificate path, fingerprint) of each certificate written."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / "ca.crt").exists():
        ca = pki.load(out, "ca")
    else:
        ca = pki.make_ca()
        pki.write(ca, out, "ca")
    made = [("CA", out / "ca.crt", ca.fingerprint)]
    leaves = [(f"vtn-{kind}", "vtn", kind, True) for kind in pki.KEY_TYPES] if with_vtn else []
    leaves += [(f"{ven}-{kind}", ven, kind, False) for ven in vens for kind in pki.KEY_TYPES]
    for stem, common_name, kind, server in leaves:
        issued = pki.issue(ca, common_name, kind, server=server, hosts=hosts if server else ())
        cert_path, _key = pki.write(issued, out, stem)
        made.append((f"{'VTN' if server else 'VEN ' + common_name} {kind}", cert_path, issued.fingerprint))
    if not (out / "ca.crl").exists():
        pki.write_crl(pki.make_crl(ca), out / "ca.crl")
    return made


def revoke(out: Path, certificates: list[Path]) -> Path:
    """Add `certificates` to the CA's CRL in `out` (entries already there are kept)."""
    ca = pki.load(out, "ca")
    crl_path = out / "ca.crl"
    serials = set()
    if crl_path.exists():
        serials = {entry.serial_number for entry in x509.load_pem_x509_crl(crl_path.read_bytes())}
    revoked = [x509.load_pem_x509_certificate(path.read_bytes()) for path in certificates]
    serials |= {c.serial_number for c in revoked}
    return pki.write_crl(pki.make_crl(ca, serials=tuple(sorted(serials))), crl_path)


def _run(args: argparse.Namespace) -> int:
    if args.revoke:
        path = revoke(args.out, args.revoke)
        print(f"{len(args.revoke)} certificate(s) added to {path}")
        return 0
    made = make_dev_pki(args.out, args.ven, tuple(args.host) or DEFAULT_HOSTS, with_vtn=not args.no_vtn)
    width = max(len(what) for what, _, _ in made)
    for what, path, fingerprint in made:
        print(f"{what:<{width}}  {fingerprint}  {path}")
    print(f"CRL: {args.out / 'ca.crl'}; keys beside their certificates (mode 0600). Development use only.")
    return 0
