"""The official OpenADR 3.0.1 and 3.1.0 OpenAPI files drive schemathesis against the running VTN
(a `cariflex vtn` process on a fresh SQLite store): programs, events, subscriptions, VENs, resources,
reports and auth; every response must be schema-valid, carry a documented status code, and none may be a 5xx.

Notifiers (3.1 only): GET notifiers and the MQTT topic paths (404: the binding is not offered).
"""

import json
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mapping.oadr import model as m
from mapping.oadr.encode import encode
from tests.support.api_clients import BIN, blocking_token, vtn_process_with_client
from tests.support.reference_data import openadr3_spec

pytestmark = pytest.mark.external  # a `cariflex vtn` process

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
#: examples per operation and phase: about 4,000 cases per version
EXAMPLES = "10"

CONFIG = """
[vtn]
host = "127.0.0.1"
port = 0
[store]
url = "sqlite:///{db}"
[[programs]]
program_id = "dso-capacity"
market_context = "http://cariflex.mq/programs/dso-capacity"
[groups]
north = ["site-01"]
[resources]
site-01 = ["site-01-battery"]
[dso]
callback_hosts = ["127.0.0.1"]
[dso.zones]
poste-lamentin = ["site-01"]
"""


def _call(url: str, body: bytes | None, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def _seed(base: str, token: str, version: str) -> None:
    """Data for the responses to carry: a program, an event, a subscription (its callback on the discard
    port: notifications fail, quietly) and (3.0.1) a registered 2.0b VEN.

    3.1.0's ven schema cannot be satisfied (objectType must be both VEN and BL_VEN_REQUEST), so the
    3.1 run has no VEN to list.
    """
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    api = f"{base}/openadr3/{version}"
    _call(f"{api}/programs", json.dumps({"programName": "seeded", "retailerName": None}).encode(), auth)
    targets = [{"type": "GROUP", "values": ["north"]}] if version == "3.0.1" else ["north"]
    start = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:00:00Z")
    event = {
        "programID": "dso-capacity",
        "targets": targets,
        "intervalPeriod": {"start": start, "duration": "PT15M"},
        "intervals": [{"id": i, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [6 - i]}]} for i in range(4)],
    }
    _call(f"{api}/events", json.dumps(event).encode(), auth)
    hook = {
        "objects": ["EVENT", "PROGRAM"],
        "operations": ["CREATE", "UPDATE", "DELETE"],
        "callbackUrl": "http://127.0.0.1:9/hook",
    }
    subscription = {"clientName": "dispatch", "programID": "dso-capacity", "objectOperations": [hook], "targets": targets}
    _call(f"{api}/subscriptions", json.dumps(subscription).encode(), auth)
    if version == "3.0.1":
        registration = m.CreatePartyRegistration(
            request_id="r",
            profile_name="2.0b",
            transport_name="simpleHttp",
            report_only=False,
            xml_signature=False,
            ven_name="site-01",
        )
        _call(f"{base}/OpenADR2/Simple/2.0b/EiRegisterParty", encode(registration), {"Content-Type": "application/xml"})


@pytest.fixture(params=["3.0.1", "3.1.0"])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(version, base URL, bearer token) of a VTN process with a DSO client and some data."""
    version = request.param
    (tmp_path / "config").mkdir()
    config = tmp_path / "config" / "vtn.toml"
    config.write_text(CONFIG.format(db=tmp_path / "vtn.db"))
    with vtn_process_with_client(config, "dso", "schemathesis") as (base, secret):
        token = blocking_token(f"{base}/openadr3/{version}/auth/token", "schemathesis", secret)
        _seed(base, token, version)
        yield version, f"{base}/openadr3", token


@pytest.mark.slow
def test_official_openapi_drives_the_running_vtn(running, tmp_path):
    version, base, token = running
    paths = "programs|events|subscriptions|vens|reports|auth"
    if version == "3.1.0":
        paths += "|resources|notifiers"
    result = subprocess.run(
        [
            BIN / "st",
            "run",
            str(openadr3_spec(version)),
            "--url",
            f"{base}/{version}",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--include-path-regex",
            f"^/({paths})",
            "--max-examples",
            EXAMPLES,
            "--no-shrink",
            "--generation-database",
            "none",
            "--workers",
            "1",  # CPython 3.11 can fail compile() in concurrent threads ("AST constructor recursion depth mismatch")
            "--suppress-health-check",
            "too_slow",  # hypothesis' own data-generation speed check: on a loaded CI machine it errors, the VTN not at fault
            "--seed",
            "20261126",
            "--request-timeout",
            "60",  # a loaded CI machine must not turn slowness into failures
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,  # schemathesis keeps a cache folder where it runs
    )
    cases = re.search(r"(\d+) generated", result.stdout)
    print(f"schemathesis {version}: {cases.group(0) if cases else 'no count'}")
    assert result.returncode == 0, result.stdout[-8000:]  # FAILURES and ERRORS sections (an error has no FAILURES)
    assert cases and int(cases.group(1)) >= 1000
