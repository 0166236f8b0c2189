"""Mutual TLS as the 2.0b profile requires it, tested at the handshake with Python's ssl against
our VTN's real server context: each required suite accepted, other protocols and suites refused,
bad client certificates refused (expired, not yet valid, wrong CA, revoked by the CRL, none)."""

import asyncio
import socket
import ssl
from pathlib import Path

import pytest

from certs.tls import OPENADR_CIPHERS
from tests.support.pki import TestPki
from tests.support.tls_harness import served_vtn
from tests.support.vtn_harness import config_for_tests
from tests.support.vtn_process import wait_base_url

# TLS 1.0/1.1 are deprecated in Python's ssl: these tests use them on purpose, to see them refused
pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")


@pytest.fixture
async def tls_vtn(test_pki, sqlite_url):
    async with served_vtn(config_for_tests(sqlite_url, tls=test_pki.server())) as running:
        yield running


@pytest.fixture
async def modern_vtn(test_pki, sqlite_url):
    async with served_vtn(config_for_tests(sqlite_url, tls=test_pki.server(modern=True))) as running:
        yield running


def _client(
    test_pki: TestPki,
    stem: str | None = "site-a-ecdsa",
    ciphers: str = OPENADR_CIPHERS,
    version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
) -> ssl.SSLContext:
    """A client that offers exactly `ciphers` over exactly `version` (old versions need security level 0)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_3:
        context.set_ciphers(ciphers + ":@SECLEVEL=0")
    context.load_verify_locations(cafile=str(test_pki.cert("ca")))
    if stem:
        context.load_cert_chain(str(test_pki.cert(stem)), str(test_pki.key(stem)))
    return context


def _handshake(port: int, context: ssl.SSLContext) -> tuple[str, str]:
    """Connect, complete the handshake and exchange one request; (protocol, cipher) or ssl.SSLError."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            answer = tls.recv(4096)  # with TLS 1.3 a refused client certificate shows up here
            assert answer.startswith(b"HTTP/1.1 200"), answer
            return tls.version() or "", tls.cipher()[0]


async def handshake(vtn, context: ssl.SSLContext) -> tuple[str, str]:
    port = int(vtn.base_url.rsplit(":", 1)[1])
    return await asyncio.to_thread(_handshake, port, context)


@pytest.mark.parametrize("client_cert", ["site-a-ecdsa", "site-a-rsa"])
@pytest.mark.parametrize("suite", ["ECDHE-ECDSA-AES128-SHA256", "AES128-SHA256"])
async def test_each_required_suite_is_accepted(tls_vtn, test_pki, suite, client_cert):
    protocol, cipher = await handshake(tls_vtn, _client(test_pki, client_cert, ciphers=suite))
    assert (protocol, cipher) == ("TLSv1.2", suite)


async def test_server_prefers_the_ecdsa_suite_when_both_are_offered(tls_vtn, test_pki):
    assert await handshake(tls_vtn, _client(test_pki)) == ("TLSv1.2", "ECDHE-ECDSA-AES128-SHA256")


@pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_3], ids=["TLS1.0", "TLS1.1", "TLS1.3"]
)
async def test_other_protocol_versions_are_refused(tls_vtn, test_pki, version):
    with pytest.raises(ssl.SSLError):
        await handshake(tls_vtn, _client(test_pki, ciphers="ALL", version=version))


@pytest.mark.parametrize(
    "suite", ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "AES128-SHA", "ECDHE-ECDSA-AES128-SHA"]
)
async def test_other_suites_are_refused(tls_vtn, test_pki, suite):
    with pytest.raises(ssl.SSLError):
        await handshake(tls_vtn, _client(test_pki, ciphers=suite))


@pytest.mark.parametrize("stem", ["expired", "future", "stranger", "revoked", None], ids=str)
async def test_bad_client_certificates_are_refused_at_the_handshake(tls_vtn, test_pki, stem):
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        await handshake(tls_vtn, _client(test_pki, stem))


async def test_the_good_certificate_of_the_same_ca_still_passes_the_crl(tls_vtn, test_pki):
    # the CRL names the revoked certificate only: the check must not refuse everything
    assert (await handshake(tls_vtn, _client(test_pki, "site-b-rsa", ciphers="AES128-SHA256")))[1] == "AES128-SHA256"


async def test_modern_switch_adds_tls13_and_keeps_the_required_suites(modern_vtn, test_pki):
    assert (await handshake(modern_vtn, _client(test_pki, version=ssl.TLSVersion.TLSv1_3)))[0] == "TLSv1.3"
    assert await handshake(modern_vtn, _client(test_pki, ciphers="AES128-SHA256")) == ("TLSv1.2", "AES128-SHA256")
    with pytest.raises(ssl.SSLError):
        await handshake(modern_vtn, _client(test_pki, ciphers="ALL", version=ssl.TLSVersion.TLSv1_1))


async def test_modern_switch_still_refuses_a_revoked_certificate(modern_vtn, test_pki):
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, AssertionError)):
        await handshake(modern_vtn, _client(test_pki, "revoked", version=ssl.TLSVersion.TLSv1_3))


def test_dev_pki_files_and_fingerprints(test_pki):
    from openleadr.utils import certificate_fingerprint

    for stem in ("vtn-rsa", "vtn-ecdsa", "site-a-rsa", "site-a-ecdsa"):
        pem = test_pki.cert(stem).read_text()
        fingerprint = test_pki.fingerprint(stem)
        assert fingerprint == certificate_fingerprint(pem)  # the same definition as openleadr's
        assert len(fingerprint) == 29 and fingerprint.count(":") == 9
        assert Path(test_pki.key(stem)).stat().st_mode & 0o077 == 0  # keys readable by their owner only


@pytest.mark.external  # a `cariflex vtn` process
async def test_cariflex_vtn_serves_mutual_tls_from_its_configuration(test_pki, tmp_path):
    """The real command: `cariflex vtn --config` with a [tls] section listens on https and
    completes a 2.0b handshake with a VEN certificate."""
    import subprocess
    import sys

    (tmp_path / "config").mkdir()
    config = tmp_path / "config" / "vtn.toml"
    config.write_text(
        f'[vtn]\nport = 0\n[store]\nurl = "sqlite:///{tmp_path}/vtn.db"\n'
        f'[tls]\ncert = "{test_pki.cert("vtn-ecdsa")}"\nkey = "{test_pki.key("vtn-ecdsa")}"\nca = "{test_pki.cert("ca")}"\n'
        f'crl = "{test_pki.root / "ca.crl"}"\n'
    )
    cli = str(Path(sys.executable).parent / "cariflex")
    process = subprocess.Popen([cli, "vtn", "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = await asyncio.wait_for(asyncio.to_thread(wait_base_url, process), timeout=120)  # log lines come first
        assert base.startswith("https://127.0.0.1:"), base
        port = int(base.rsplit(":", 1)[1])
        assert await asyncio.to_thread(_handshake, port, _client(test_pki, "site-b-ecdsa")) == (
            "TLSv1.2",
            "ECDHE-ECDSA-AES128-SHA256",
        )
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            await asyncio.to_thread(_handshake, port, _client(test_pki, "revoked"))
    finally:
        process.terminate()
        process.wait(timeout=60)
