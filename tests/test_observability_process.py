"""A real `cariflex --log-format json vtn` process: its /metrics (token from the environment, as `env:NAME`
in the file) counts what a VEN did, and every line it logs is one JSON object."""

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from mapping.oadr import model as m
from observability.logs import JsonFormatter
from tests.support.metrics import scrape, value
from tests.support.oadr_client import RawClient
from tests.support.vtn_process import wait_base_url

pytestmark = pytest.mark.external  # `cariflex` processes

ROOT = Path(__file__).resolve().parents[1]
CARIFLEX = [sys.executable, "-m", "cariflex.cli"]
TOKEN = "process-scrape-token-0123456789"


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "vtn.toml"
    path.write_text(
        f"""
[vtn]
port = 0
[store]
url = "sqlite:///{tmp_path / "vtn.db"}"
[[programs]]
program_id = "test"
market_context = "http://cariflex.mq/programs/test"
[metrics]
token = "env:CFX_TEST_METRICS_TOKEN"
"""
    )
    return path


async def test_a_vtn_process_serves_metrics_and_logs_json_lines(tmp_path):
    env = {**os.environ, "CFX_TEST_METRICS_TOKEN": TOKEN}
    process = subprocess.Popen(
        [*CARIFLEX, "--log-format", "json", "vtn", "--config", str(_config(tmp_path))],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = await asyncio.wait_for(asyncio.to_thread(wait_base_url, process), timeout=30)
        async with aiohttp.ClientSession() as http:
            client = RawClient(http, base)
            reg = await client.register("site-process")
            await client.poll(reg.ven_id)
            assert isinstance(await client.poll(reg.ven_id), m.Response)
            async with http.get(base + "/metrics") as refused:
                assert refused.status == 401
            samples = await scrape(http, base + "/metrics", TOKEN)
        assert value(samples, "cariflex_oadr_messages_total", service="OadrPoll", message="oadrPoll", code="200") == 2
        assert value(samples, "cariflex_vens_registered") == 1
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    lines = [json.loads(text) for text in err.splitlines() if text.strip()]
    assert lines, "the VTN logged nothing"
    for entry in lines:
        assert {"time", "level", "logger", "message"} <= set(entry), entry
        assert entry["time"].endswith("+00:00")
    messages = [e["message"] for e in lines]
    assert any("plain HTTP" in text for text in messages) and "stopping" in messages
    assert {e["level"] for e in lines} >= {"INFO", "WARNING"}


def test_json_lines_carry_extra_fields_and_the_exception():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("cariflex.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("refused %s", "ven-1", extra={"ven_id": "ven-1", "code": 463, "at": Path("/x")})
        try:
            raise ValueError("bad\nvalue")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(text) for text in stream.getvalue().splitlines())
    assert first["message"] == "refused ven-1" and first["level"] == "WARNING" and first["logger"] == "cariflex.test.json"
    assert (first["ven_id"], first["code"], first["at"]) == ("ven-1", 463, "/x")
    assert second["message"] == "failed" and "ValueError: bad\nvalue" in second["exception"]


def test_a_bad_log_format_from_the_environment_is_refused():
    env = {**os.environ, "CARIFLEX_LOG_FORMAT": "xml"}
    done = subprocess.run([*CARIFLEX, "vtn", "--port", "0"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "CARIFLEX_LOG_FORMAT must be text or json, not 'xml'" in done.stderr


def test_a_warning_is_a_json_line_when_json_is_asked(tmp_path):
    script = (
        "import sys, warnings\n"
        "from observability.logs import configure\n"
        "configure('INFO', 'json')\n"
        "warnings.warn('something to say', UserWarning)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    (entry,) = [json.loads(text) for text in done.stderr.splitlines() if text.strip()]
    assert entry["logger"] == "py.warnings" and "UserWarning: something to say" in entry["message"]


def test_a_command_prints_no_import_warnings(tmp_path):
    """signxml's DSA deprecation warning (cryptography >= 46) is silenced where it arises: every command's
    stderr is the command's own log, JSON lines only."""
    done = subprocess.run(
        [*CARIFLEX, "--log-format", "json", "db", "upgrade", "--db", f"sqlite:///{tmp_path / 'vtn.db'}"],
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "default"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr
    for text in done.stderr.splitlines():
        json.loads(text)
