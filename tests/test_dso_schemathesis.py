"""The official OpenADR 3.0.1 and 3.1.0 OpenAPI files drive schemathesis against the running VTN
(a `cariflex vtn` process on a fresh SQLite store): programs, events, VENs, resources, reports and
auth; every response must be schema-valid, carry a documented status code, and none may be a 5xx.

Subscriptions and notifiers are left out: the VTN does not offer them (it answers 501).
"""

import base64
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[2] / "shared" / "openadr3-spec"
BIN = Path(sys.executable).parent
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
[dso.zones]
poste-lamentin = ["site-01"]
"""


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, bearer token) of a VTN process with a DSO client."""
    folder = tmp_path_factory.mktemp("st")
    (folder / "config").mkdir()
    config = folder / "config" / "vtn.toml"
    config.write_text(CONFIG.format(db=folder / "vtn.db"))
    added = subprocess.run(
        [BIN / "cariflex", "dso", "client", "add", "schemathesis", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    secret = re.search(r"client_secret=(\S+)", added.stdout).group(1)
    vtn = subprocess.Popen(
        [BIN / "cariflex", "vtn", "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        line = vtn.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, f"VTN did not start: {line!r}"
        base = f"http://127.0.0.1:{match.group(1)}/openadr3"
        basic = base64.b64encode(f"schemathesis:{secret}".encode()).decode()
        request = urllib.request.Request(
            f"{base}/3.1.0/auth/token", data=b"grant_type=client_credentials", headers={"Authorization": f"Basic {basic}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            token = json.load(response)["access_token"]
        yield base, token
    finally:
        vtn.terminate()
        vtn.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("version", "paths"),
    [("3.0.1", "programs|events|vens|reports|auth"), ("3.1.0", "programs|events|vens|resources|reports|auth")],
)
def test_official_openapi_drives_the_running_vtn(running, version, paths):
    base, token = running
    result = subprocess.run(
        [
            BIN / "st",
            "run",
            str(SPEC / version / "openadr3.yaml"),
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
            "2",
            "--seed",
            "20261126",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    cases = re.search(r"(\d+) generated", result.stdout)
    print(f"schemathesis {version}: {cases.group(0) if cases else 'no count'}")
    assert result.returncode == 0, result.stdout[result.stdout.find("FAILURES") :][:6000]
    assert cases and int(cases.group(1)) >= 1000
