"""XML signatures (optional per VEN): round trips with RSA and ECDSA keys, both ways with openleadr;
tampered, stale and replayed messages refused with eiResponse 463; a VEN that registers with
oadrXmlSignature gets signed answers; our VEN agent signing end to end over mutual TLS."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree
from openleadr import messaging

from certs.xmlsig import SignatureRefused, Signer, sign, verify
from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.xsd import parse_xml, schema_errors
from tests.support.eventually import eventually
from tests.support.pki import TestPki
from tests.support.tls_harness import served_vtn, tls_client
from tests.support.ven_harness import running_ven, ven_config
from tests.support.vtn_harness import config_for_tests

WINDOW = timedelta(minutes=5)
NOT_AUTHORIZED = ResponseCode.NOT_REGISTERED_OR_AUTHORIZED


def signer(test_pki: TestPki, stem: str) -> Signer:
    return Signer.from_files(test_pki.cert(stem), test_pki.key(stem))


def now() -> datetime:
    return datetime.now(UTC)


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_round_trip_and_openleadr_accepts_ours(test_pki, kind):
    who = signer(test_pki, f"site-a-{kind}")
    body = sign(encode(m.Poll(ven_id="ven-1")), who, now(), "nonce-1")
    root = parse_xml(body)
    assert schema_errors(root) is None  # still a valid 2.0b payload, Signature included
    verified = verify(root, now(), WINDOW)
    assert (verified.fingerprint, verified.nonce) == (test_pki.fingerprint(f"site-a-{kind}"), "nonce-1")
    assert decode(open_envelope(root)) == m.Poll(ven_id="ven-1")
    messaging.validate_xml_signature(etree.fromstring(body))  # openleadr's verifier: raises if not valid


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_we_accept_openleadr_signatures(test_pki, kind):
    body = messaging.create_message(
        "oadrPoll", cert=test_pki.cert(f"site-b-{kind}").read_bytes(), key=test_pki.key(f"site-b-{kind}").read_bytes(), ven_id="v"
    )
    root = parse_xml(body.encode())
    assert schema_errors(root) is None
    assert verify(root, now(), WINDOW).fingerprint == test_pki.fingerprint(f"site-b-{kind}")


@pytest.mark.parametrize(
    "edit",
    [
        lambda body: body.replace(b"<ei:venID>ven-1</ei:venID>", b"<ei:venID>ven-2</ei:venID>"),  # the message
        lambda body: body.replace(b"nonce-1", b"nonce-2"),  # the replay protection
        lambda body: body.replace(b"<dsp:nonce>", b"<dsp:nonce>x"),
    ],
    ids=["message", "nonce", "nonce-prefix"],
)
def test_tampering_is_detected(test_pki, edit):
    body = sign(encode(m.Poll(ven_id="ven-1")), signer(test_pki, "site-a-ecdsa"), now(), "nonce-1")
    tampered = edit(body)
    assert tampered != body
    with pytest.raises(SignatureRefused, match="does not verify"):
        verify(parse_xml(tampered), now(), WINDOW)


@pytest.mark.parametrize("offset", [timedelta(minutes=-10), timedelta(minutes=10)], ids=["stale", "future"])
def test_timestamps_outside_the_window_are_refused(test_pki, offset):
    body = sign(encode(m.Poll(ven_id="ven-1")), signer(test_pki, "site-a-rsa"), now() + offset, "n")
    with pytest.raises(SignatureRefused, match="replay window"):
        verify(parse_xml(body), now(), WINDOW)


def test_unsigned_message_is_refused_by_verify():
    with pytest.raises(SignatureRefused, match="not signed"):
        verify(parse_xml(encode(m.Poll(ven_id="ven-1"))), now(), WINDOW)


def _registration(name: str, signed: bool) -> m.CreatePartyRegistration:
    return m.CreatePartyRegistration(
        request_id=f"reg-{name}",
        profile_name="2.0b",
        transport_name="simpleHttp",
        report_only=False,
        xml_signature=signed,
        ven_name=name,
        http_pull_model=True,
    )


async def test_vtn_checks_signatures_and_signs_its_answers(test_pki, db_url):
    site_a = signer(test_pki, "site-a-ecdsa")
    async with (
        served_vtn(config_for_tests(db_url, tls=test_pki.server())) as vtn,
        tls_client(vtn.base_url, test_pki.client("site-a-ecdsa")) as client,
    ):
        unsigned = await client.send("EiRegisterParty", _registration("site-a", True))
        assert isinstance(unsigned, m.CreatedPartyRegistration) and unsigned.response.code == NOT_AUTHORIZED

        reply = await client.post("EiRegisterParty", sign(encode(_registration("site-a", True)), site_a, now(), "r-1"))
        assert isinstance(reply.message, m.CreatedPartyRegistration) and reply.message.response.code == ResponseCode.OK
        ven_id = reply.message.ven_id
        assert verify(parse_xml(reply.body), now(), WINDOW).fingerprint == test_pki.fingerprint("vtn-rsa")  # signed answer

        poll = sign(encode(m.Poll(ven_id=ven_id)), site_a, now(), "p-1")
        first = await client.post("OadrPoll", poll)
        assert first.status == 200 and not (isinstance(first.message, m.Response) and first.message.response.code != 200)
        verify(parse_xml(first.body), now(), WINDOW)

        replayed = await client.post("OadrPoll", poll)  # the same signed bytes again
        assert isinstance(replayed.message, m.Response) and replayed.message.response.code == NOT_AUTHORIZED
        assert "replayed" in replayed.message.response.description

        plain = await client.send("OadrPoll", m.Poll(ven_id=ven_id))
        assert isinstance(plain, m.Response) and plain.response.code == NOT_AUTHORIZED and "signed" in plain.response.description

        stale = await client.post("OadrPoll", sign(encode(m.Poll(ven_id=ven_id)), site_a, now() - 2 * WINDOW, "p-2"))
        assert stale.message.response.code == NOT_AUTHORIZED and "replay window" in stale.message.response.description  # type: ignore[union-attr]

        other = await client.post("OadrPoll", sign(encode(m.Poll(ven_id=ven_id)), signer(test_pki, "site-b-rsa"), now(), "p-3"))
        assert other.message.response.code == NOT_AUTHORIZED and "not the sender's" in other.message.response.description  # type: ignore[union-attr]

        tampered = sign(encode(m.Poll(ven_id=ven_id)), site_a, now(), "p-4").replace(b"p-4", b"p-5")
        bad = await client.post("OadrPoll", tampered)
        assert bad.message.response.code == NOT_AUTHORIZED and "does not verify" in bad.message.response.description  # type: ignore[union-attr]


async def test_signatures_stay_optional_per_ven(test_pki, sqlite_url):
    async with (
        served_vtn(config_for_tests(sqlite_url, tls=test_pki.server())) as vtn,
        tls_client(vtn.base_url, test_pki.client("site-b-rsa")) as client,
    ):
        reply = await client.post("EiRegisterParty", encode(_registration("site-b", False)))
        assert b"Signature" not in reply.body and reply.message.response.code == ResponseCode.OK  # type: ignore[union-attr]
        ven_id = reply.message.ven_id  # type: ignore[union-attr]
        plain = await client.post("OadrPoll", encode(m.Poll(ven_id=ven_id)))
        assert plain.status == 200 and b"Signature" not in plain.body  # unsigned requests, unsigned answers
        signed = await client.post("OadrPoll", sign(encode(m.Poll(ven_id=ven_id)), signer(test_pki, "site-b-rsa"), now(), "x-1"))
        assert not (isinstance(signed.message, m.Response) and signed.message.response.code != 200)  # a valid one is fine
        assert verify(parse_xml(signed.body), now(), WINDOW).fingerprint == test_pki.fingerprint("vtn-rsa")  # answered signed
        forged = await client.post("OadrPoll", sign(encode(m.Poll(ven_id=ven_id)), signer(test_pki, "site-a-rsa"), now(), "x-2"))
        assert forged.message.response.code == NOT_AUTHORIZED  # type: ignore[union-attr]  # checked even when optional


async def test_our_ven_agent_signs_over_mutual_tls(test_pki, sqlite_url, tmp_path):
    async with served_vtn(config_for_tests(sqlite_url, tls=test_pki.server())) as vtn:
        tls = replace(
            test_pki.client("site-a-rsa"), chains=((test_pki.root / "{ven_name}-rsa.crt", test_pki.root / "{ven_name}-rsa.key"),)
        )
        config = replace(
            ven_config(f"{vtn.base_url}/OpenADR2/Simple/2.0b", tmp_path / "ven.db", "site-a"), tls=tls, xml_signatures=True
        )
        async with running_ven(config) as ven:
            await eventually(
                lambda: any(v.registered and v.xml_signature for v in vtn.ctx.live.vens.values()),
                "a signed registration",
                timeout=30,
            )
            ven_id = next(iter(vtn.ctx.live.vens))
            await eventually(lambda: ven_id in vtn.ctx.seen or ven.vens["site-a"].site.ven_id, "polls", timeout=30)
            event = await vtn.create_event(values=(2.0,), start_in=timedelta(minutes=30))
            await eventually(
                lambda: vtn.ctx.live.acknowledged.get((ven_id, event.event_id)) is not None,
                "the signed oadrCreatedEvent",
                timeout=30,
            )


def test_a_ven_accepts_answers_signed_only_by_a_certificate_of_the_vtn_host(test_pki):
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from certs import pki
    from certs.xmlsig import issued_for_host

    ca = test_pki.cert("ca").read_bytes()
    load = lambda stem: x509.load_pem_x509_certificate(test_pki.cert(stem).read_bytes())  # noqa: E731
    assert issued_for_host(load("vtn-rsa"), "127.0.0.1", ca) and issued_for_host(load("vtn-ecdsa"), "localhost", ca)
    assert not issued_for_host(load("vtn-rsa"), "vtn.example.org", ca)  # another host
    assert not issued_for_host(load("site-a-rsa"), "127.0.0.1", ca)  # a VEN's certificate
    other_ca = pki.make_ca("Some other CA").certificate.public_bytes(Encoding.PEM)
    assert not issued_for_host(load("vtn-rsa"), "127.0.0.1", other_ca)  # not from our CA


def test_nonce_memory_and_migration_0006_down_and_up(db_url):
    from alembic import command
    from sqlalchemy import inspect

    from vtn.store.database import alembic_config, make_engine, upgrade
    from vtn.store.nonce_repository import remember_nonce
    from vtn.store.worker import StoreWorker

    upgrade(db_url)
    store = StoreWorker(db_url, origin="test")
    try:
        t0 = now()
        assert store.call_sync(remember_nonce, "AA", "n-1", t0, t0, WINDOW)
        assert not store.call_sync(remember_nonce, "AA", "n-1", t0, t0 + timedelta(seconds=1), WINDOW)  # a replay
        assert store.call_sync(remember_nonce, "BB", "n-1", t0, t0, WINDOW)  # nonces are per certificate
        later = t0 + 3 * WINDOW  # long after: the old row is forgotten (its timestamp is refused anyway)
        assert store.call_sync(remember_nonce, "AA", "n-1", later, later, WINDOW)
    finally:
        store.close()
    engine = make_engine(db_url)
    try:
        for target, present in (("0005", False), ("head", True)):
            with engine.begin() as connection:
                config = alembic_config(db_url)
                config.attributes["connection"] = connection
                (command.downgrade if target == "0005" else command.upgrade)(config, target)
            assert ("signature_nonces" in inspect(engine).get_table_names()) is present
    finally:
        engine.dispose()
