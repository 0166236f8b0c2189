"""The aggregator API's own OpenAPI document, fetched from the running VTN (a `cariflex vtn` process on
a fresh SQLite store, with an aggregator client made by `cariflex aggregator client add`), drives
schemathesis: every response must be schema-valid, carry a documented status code and content type,
and none may be a 5xx. Bounded by --max-examples."""

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api_clients import BIN, blocking_token, vtn_process_with_client

pytestmark = pytest.mark.external  # a `cariflex vtn` process

CONFIG = """
[vtn]
host = "127.0.0.1"
port = 0
[store]
url = "sqlite:///{db}"
[[programs]]
program_id = "aggregator"
market_context = "http://cariflex.mq/programs/aggregator"
[groups]
ab = ["site-a", "site-b"]
[aggregator]
program = "aggregator"
use_sites_file = false
callback_hosts = ["127.0.0.1"]
[aggregator.sites]
site-a = {{ subscribed_kva = 36 }}
site-b = {{ subscribed_kva = 12, objective = "co2" }}
"""
EXAMPLES = "25"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """(base URL of the API, bearer token, a scratch folder) of a VTN process with an aggregator client."""
    folder = tmp_path_factory.mktemp("agg-st")
    (folder / "config").mkdir()
    config = folder / "config" / "vtn.toml"
    config.write_text(CONFIG.format(db=folder / "vtn.db"))
    # the client's portfolio, as an operator makes it (without one it would see no site)
    hold = [["aggregator", "portfolio", "add", "schemathesis", "site-a", "site-b", "--from", "2000-01-01T00:00:00Z"]]
    with vtn_process_with_client(config, "aggregator", "schemathesis", then=hold) as (root, secret):
        base = f"{root}/flexready/v1"
        yield base, blocking_token(f"{base}/auth/token", "schemathesis", secret), folder


@pytest.mark.slow
def test_the_served_openapi_document_holds_for_the_running_vtn(running):
    base, token, folder = running
    result = subprocess.run(
        [
            BIN / "st",
            "run",
            f"{base}/openapi.json",
            "--url",
            base,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            EXAMPLES,
            "--no-shrink",
            "--generation-database",
            "none",
            "--workers",
            "1",  # CPython 3.11 can fail compile() in concurrent threads ("AST constructor recursion depth mismatch")
            "--seed",
            "20261126",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,  # schemathesis writes a .schemathesis folder there
    )
    cases = re.search(r"(\d+) generated", result.stdout)
    print(f"schemathesis aggregator API: {cases.group(0) if cases else 'no count'}")
    assert result.returncode == 0, result.stdout[-8000:]
    assert cases and int(cases.group(1)) >= 200
