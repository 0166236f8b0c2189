"""Each VEN is tied to its certificate's fingerprint at registration; a message naming its venID
over another certificate is refused with eiResponse 463, in the reply type the request calls for.
Also: our VEN agent over mutual TLS (one certificate per site), and `cariflex certs`."""

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from certs.tls import TlsSettings
from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from mapping.settings import ConfigError
from tests.support.eventually import eventually
from tests.support.tls_harness import served_vtn, tls_client
from tests.support.ven_harness import running_ven, ven_config
from tests.support.vtn_harness import config_for_tests
from vtn.config import load_config
from vtn.store import repository as repo

NOT_AUTHORIZED = ResponseCode.NOT_REGISTERED_OR_AUTHORIZED


def served(reply: object) -> bool:
    """A poll answer that is not a refusal (the first one after registration is the VTN's oadrRegisterReport)."""
    return reply is not None and not (isinstance(reply, m.Response) and reply.response.code != ResponseCode.OK)


@pytest.fixture
async def tls_vtn(test_pki, db_url):
    async with served_vtn(config_for_tests(db_url, tls=test_pki.server())) as running:
        yield running


async def test_registration_binds_the_ven_to_its_certificate_and_survives_a_restart(test_pki, db_url):
    config = config_for_tests(db_url, tls=test_pki.server())
    async with served_vtn(config) as vtn, tls_client(vtn.base_url, test_pki.client("site-a-ecdsa")) as site_a:
        reg = await site_a.register("site-a")
        assert vtn.ctx.live.vens[reg.ven_id].fingerprint == test_pki.fingerprint("site-a-ecdsa")
        stored = await vtn.admin_store.call(repo.load_ven, reg.ven_id)
        assert stored.fingerprint == test_pki.fingerprint("site-a-ecdsa")
    async with served_vtn(config) as vtn, tls_client(vtn.base_url, test_pki.client("site-b-rsa")) as site_b:
        reply = await site_b.poll(reg.ven_id)  # another certificate, after the restart
        assert isinstance(reply, m.Response) and reply.response.code == NOT_AUTHORIZED
        async with tls_client(vtn.base_url, test_pki.client("site-a-ecdsa")) as site_a:
            assert served(await site_a.poll(reg.ven_id))


async def test_another_certificate_cannot_speak_for_a_bound_ven(tls_vtn, test_pki):
    async with (
        tls_client(tls_vtn.base_url, test_pki.client("site-a-ecdsa")) as site_a,
        tls_client(tls_vtn.base_url, test_pki.client("site-b-ecdsa")) as site_b,
    ):
        reg = await site_a.register("site-a")
        poll = await site_b.poll(reg.ven_id)
        assert isinstance(poll, m.Response) and poll.response.code == NOT_AUTHORIZED
        assert "another client certificate" in poll.response.description
        events = await site_b.send("EiEvent", m.RequestEvent(request_id="r-1", ven_id=reg.ven_id))
        assert isinstance(events, m.DistributeEvent) and events.response.code == NOT_AUTHORIZED
        assert events.response.request_id == "r-1"
        for takeover in ({"ven_id": reg.ven_id}, {"registration_id": reg.registration_id}, {}):
            answer = await site_b.send(
                "EiRegisterParty",
                m.CreatePartyRegistration(
                    request_id="take",
                    profile_name="2.0b",
                    transport_name="simpleHttp",
                    report_only=False,
                    xml_signature=False,
                    ven_name="site-a",
                    http_pull_model=True,
                    **takeover,  # type: ignore[arg-type]
                ),
            )
            assert isinstance(answer, m.CreatedPartyRegistration) and answer.response.code == NOT_AUTHORIZED, takeover
        # venID is optional in oadrCancelPartyRegistration: the registrationID alone must not get past the binding
        for who in ({}, {"ven_id": reg.ven_id}):
            cancel = m.CancelPartyRegistration(request_id="c", registration_id=reg.registration_id, **who)  # type: ignore[arg-type]
            answer = await site_b.send("EiRegisterParty", cancel)
            assert isinstance(answer, m.CanceledPartyRegistration) and answer.response.code == NOT_AUTHORIZED, who
        assert tls_vtn.ctx.live.vens[reg.ven_id].registered
        assert tls_vtn.ctx.live.vens[reg.ven_id].fingerprint == test_pki.fingerprint("site-a-ecdsa")
        assert served(await site_a.poll(reg.ven_id))


async def test_one_certificate_holds_one_ven(tls_vtn, test_pki):
    async with tls_client(tls_vtn.base_url, test_pki.client("site-a-rsa")) as site_a:
        first = await site_a.register("site-a")
        again = await site_a.register("site-a")  # re-registration by name with the same certificate
        assert again.ven_id == first.ven_id
        reply = await site_a.send(
            "EiRegisterParty",
            m.CreatePartyRegistration(
                request_id="second",
                profile_name="2.0b",
                transport_name="simpleHttp",
                report_only=False,
                xml_signature=False,
                ven_name="site-other",
                http_pull_model=True,
            ),
        )
        assert isinstance(reply, m.CreatedPartyRegistration) and reply.response.code == NOT_AUTHORIZED
        assert first.ven_id in reply.response.description
    async with tls_client(tls_vtn.base_url, test_pki.client("site-b-rsa")) as site_b:
        other = await site_b.register("site-b")
    async with tls_client(tls_vtn.base_url, test_pki.client("site-a-rsa")) as site_a:
        # a certificate bound to one VEN cannot take over another by naming it
        claim = m.CreatePartyRegistration(
            request_id="claim", profile_name="2.0b", transport_name="simpleHttp", report_only=False,
            xml_signature=False, ven_name="site-b", http_pull_model=True,
        )  # fmt: skip
        reply = await site_a.send("EiRegisterParty", claim)
        assert isinstance(reply, m.CreatedPartyRegistration) and reply.response.code == NOT_AUTHORIZED
        assert tls_vtn.ctx.live.vens[other.ven_id].fingerprint == test_pki.fingerprint("site-b-rsa")


async def test_ven_registered_without_a_certificate_must_register_again(test_pki, sqlite_url):
    async with served_vtn(config_for_tests(sqlite_url, tls=test_pki.server(require_client_cert=False))) as vtn:
        async with tls_client(vtn.base_url, replace(test_pki.client("site-a-rsa"), chains=())) as anonymous:
            reg = await anonymous.register("site-plain")  # certificates are optional on this VTN
            assert vtn.ctx.live.vens[reg.ven_id].fingerprint is None
            assert served(await anonymous.poll(reg.ven_id))
    async with served_vtn(config_for_tests(sqlite_url, tls=test_pki.server())) as vtn:
        async with tls_client(vtn.base_url, test_pki.client("site-a-rsa")) as site_a:
            reply = await site_a.poll(reg.ven_id)
            assert isinstance(reply, m.Response) and reply.response.code == NOT_AUTHORIZED
            assert "without a certificate" in reply.response.description


async def test_our_ven_agent_over_mutual_tls_with_one_certificate_per_site(test_pki, sqlite_url, tmp_path):
    async with served_vtn(config_for_tests(sqlite_url, tls=test_pki.server())) as vtn:
        tls = TlsSettings(
            chains=((test_pki.root / "{ven_name}-ecdsa.crt", test_pki.root / "{ven_name}-ecdsa.key"),),
            ca_file=test_pki.cert("ca"),
        )
        config = replace(ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-a", "site-b"), tls=tls)
        async with running_ven(config):
            # the live view learns the fingerprint with the registration's commit, which may come a beat later
            await eventually(
                lambda: len([v for v in vtn.ctx.live.vens.values() if v.registered and v.fingerprint]) == 2,
                "two registrations with their certificates' fingerprints",
                timeout=30,
            )
        prints = {v.ven_name: v.fingerprint for v in vtn.ctx.live.vens.values()}
        assert prints == {"site-a": test_pki.fingerprint("site-a-ecdsa"), "site-b": test_pki.fingerprint("site-b-ecdsa")}


def test_tls_configuration_errors_name_the_key(tmp_path, test_pki):
    (tmp_path / "config").mkdir()
    path = tmp_path / "config" / "vtn.toml"
    path.write_text(f'[tls]\ncert = "{test_pki.cert("vtn-rsa")}"\nkey = "{test_pki.key("vtn-rsa")}"\nca = "pki/nowhere.crt"\n')
    with pytest.raises(ConfigError, match=r"tls\.ca: file .*nowhere\.crt not found"):
        load_config(path)
    path.write_text('[proxy]\nclient_cert_header = "X-Cert"\ntrusted = ["not-an-address"]\n')
    with pytest.raises(ConfigError, match=r"proxy\.trusted: 'not-an-address'"):
        load_config(path)
    path.write_text(
        f'[tls]\ncert = "{test_pki.cert("vtn-rsa")}"\nkey = "{test_pki.key("vtn-rsa")}"\n'
        f'ca = "{test_pki.cert("ca")}"\nmodern = true\n[proxy]\ntrusted = ["127.0.0.1", "10.0.0.0/8"]\n'
    )
    config = load_config(path)
    assert config.tls is not None and config.tls.modern and config.tls.require_client_cert
    assert config.proxy is not None and config.proxy.trusts("10.1.2.3") and not config.proxy.trusts("192.168.1.1")


@pytest.mark.external  # `cariflex certs` as a process
def test_cariflex_certs_prints_fingerprints_and_revokes(tmp_path):
    out = tmp_path / "pki"
    cli = (
        [sys.executable, "-m", "cariflex.cli"]
        if Path("cariflex/__main__.py").exists()
        else [str(Path(sys.executable).parent / "cariflex")]
    )
    done = subprocess.run([*cli, "certs", "--out", str(out), "--ven", "site-01"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    from certs import pki

    for stem in ("ca", "vtn-rsa", "vtn-ecdsa", "site-01-rsa", "site-01-ecdsa"):
        assert pki.load(out, stem).fingerprint in done.stdout
    done = subprocess.run(
        [*cli, "certs", "--out", str(out), "--revoke", str(out / "site-01-rsa.crt")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    from cryptography import x509

    crl = x509.load_pem_x509_crl((out / "ca.crl").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(pki.load(out, "site-01-rsa").certificate.serial_number) is not None
    assert crl.get_revoked_certificate_by_serial_number(pki.load(out, "site-01-ecdsa").certificate.serial_number) is None


def test_ven_tls_configuration(tmp_path, test_pki):
    from certs.settings import for_ven
    from ven.config import load_config as load_ven_config

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "sites.toml").write_text('[[sites]]\nname = "site-a"\n')
    path = tmp_path / "config" / "ven.toml"
    pattern = test_pki.root / "{ven_name}-ecdsa"
    path.write_text(
        f'[vtn]\nvtn_id = "CARIFLEX-VTN"\nxml_signatures = true\n'
        f'[tls]\ncert = "{pattern}.crt"\nkey = "{pattern}.key"\nca = "{test_pki.cert("ca")}"\n'
    )
    config = load_ven_config(path)
    assert config.xml_signatures and config.tls is not None
    assert for_ven(config.tls, "site-a").chains == ((test_pki.cert("site-a-ecdsa"), test_pki.key("site-a-ecdsa")),)
    with pytest.raises(ConfigError, match=r"site-zz-ecdsa\.crt \(for VEN 'site-zz'\) not found"):
        for_ven(config.tls, "site-zz")
    path.write_text('[vtn]\nvtn_id = "CARIFLEX-VTN"\nxml_signatures = true\n')
    with pytest.raises(ConfigError, match=r"vtn\.xml_signatures: needs \[tls\]"):
        load_ven_config(path)
