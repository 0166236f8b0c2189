"""Fuzzing every 2.0b endpoint of a running VTN over real HTTP: mutated Alliance samples carrying
the ids of a registered VEN (so the services, not just the parser, get the odd values), raw bytes
and odd headers. Zero 5xx, zero internal errors, every XML answer valid against the 2.0b schema,
and the VTN still serving a normal poll at the end."""

import http.client
import logging
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapping.oadr import model as m
from mapping.oadr.codes import ResponseCode
from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.xsd import parse_xml, schema_errors
from tests.support.fuzz import any_body, fuzz_settings, sample_bodies
from tests.support.threaded_vtn import vtn_in_thread
from tests.support.vtn_harness import config_for_tests
from vtn.oadr.http import BASE_PATH, SERVICES

pytestmark = pytest.mark.slow  # thousands of fuzzed requests

SERVICE_NAMES = sorted(SERVICES) + ["NoSuchService"]


async def _prepare(vtn):
    reg = await vtn.client.register("site-fuzz")
    await vtn.create_event(values=(1.0, 2.0), start_in=timedelta(minutes=5))
    await vtn.client.request_events(reg.ven_id)
    return reg


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/vtn.db"
    with vtn_in_thread(config_for_tests(url, body_timeout=timedelta(seconds=20)), _prepare) as (vtn, reg):
        port = int(vtn.base_url.rsplit(":", 1)[1])
        bodies = sample_bodies(ven_id=reg.ven_id, registration_id=reg.registration_id, vtn_id="CARIFLEX-VTN")
        yield port, bodies, reg


class Internal(logging.Handler):
    """Counts the VTN's 'failed to handle' logs: a defect answered politely is still a defect."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


@pytest.fixture(scope="module")
def internal_errors():
    handler = Internal()
    logger = logging.getLogger("cariflex")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def post(port: int, service: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", f"{BASE_PATH}/{service}", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def check_answer(status: int, data: bytes) -> None:
    assert status < 500, (status, data[:300])
    if status == 200 and data:
        root = parse_xml(data)
        assert schema_errors(root) is None, data[:500]
        message = decode(open_envelope(root))
        response = getattr(message, "response", None)
        if response is not None:
            assert not response.description.startswith("internal error"), response.description
            assert response.code != ResponseCode.DEPLOYMENT_ERROR_OR_OTHER_ERROR, response.description


HEADERS = st.sampled_from(
    [
        {"Content-Type": "application/xml"},
        {"Content-Type": "text/xml; charset=utf-8"},
        {"Content-Type": "application/xml; charset=latin-1"},
        {"Content-Type": "application/json"},
        {},
    ]
)


@fuzz_settings(2000)
@given(data=st.data())
def test_endpoints_never_fail(fuzz_target, internal_errors, data):
    port, bodies, _reg = fuzz_target
    body = data.draw(any_body(bodies), label="body")
    service = data.draw(st.sampled_from(SERVICE_NAMES), label="service")
    headers = data.draw(HEADERS, label="headers")
    status, answer = post(port, service, body, headers)
    check_answer(status, answer)
    assert not internal_errors.records, internal_errors.records


def test_still_serving_after_the_fuzz(fuzz_target, internal_errors):
    port, _bodies, reg = fuzz_target
    status, answer = post(port, "OadrPoll", encode(m.Poll(ven_id=reg.ven_id)), {"Content-Type": "application/xml"})
    assert status == 200
    check_answer(status, answer)
    assert not internal_errors.records, internal_errors.records
