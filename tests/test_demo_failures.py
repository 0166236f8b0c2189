"""A failing demo step ends with one line, "failed: <step>: <what>; see <log>", not a traceback: MQTT, HTTP and
unexpected answers of the VTN are turned into the step's DemoError (demo/run.py:step), and the demo's top level
turns any other exception into that line too."""

import json
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from demo import run as demo_run
from demo.processes import DemoError
from demo.scenario import plan
from demo.simulator import SiteSimulator


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: connections to it are refused, and nobody else gets it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_no_mqtt_broker_is_a_failed_step_naming_the_broker(refusing_port: int) -> None:
    simulator = SiteSimulator([], refusing_port)
    now = datetime.now(UTC)
    with pytest.raises(DemoError, match=rf"publishing the meters' history over MQTT on 127\.0\.0\.1:{refusing_port}: MqttError"):
        await demo_run._publish_history(simulator, now - timedelta(minutes=2), now)


@pytest.fixture
async def odd_vtn() -> AsyncIterator[str]:
    """A DSO API that grants a token but answers the alert with JSON lacking `event_ids`."""

    async def token(_request: web.Request) -> web.Response:
        return web.json_response({"access_token": "t", "token_type": "Bearer"})

    async def signal(_request: web.Request) -> web.Response:
        return web.json_response({"accepted": True}, status=201)

    app = web.Application()
    app.router.add_post("/dso/auth/token", token)
    app.router.add_post("/dso/signals/sei-peak", signal)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


async def test_an_unexpected_answer_to_the_alert_is_a_failed_step_naming_the_vtn_log(odd_vtn: str, tmp_path: Path) -> None:
    the_plan = plan(datetime.now(UTC), 16)
    log = tmp_path / "vtn.log"
    with pytest.raises(
        DemoError, match=rf"sending EDF SEI's alert to the VTN's DSO API at {odd_vtn}: KeyError: 'event_ids'; see {log}"
    ):
        await demo_run._send_alert(odd_vtn, "secret", the_plan, log)


async def test_a_vtn_that_is_gone_is_a_failed_step(refusing_port: int, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{refusing_port}"
    with pytest.raises(DemoError, match=rf"sending EDF SEI's alert to the VTN's DSO API at {url}: ClientConnectorError"):
        await demo_run._send_alert(url, "secret", plan(datetime.now(UTC), 16), tmp_path / "vtn.log")


@pytest.mark.external  # the demo's first steps
def test_an_unforeseen_error_ends_with_one_failed_line_and_its_traceback_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken_start(*_args: object) -> None:
        raise json.JSONDecodeError("Expecting value", "", 0)  # e.g. a state.json cut short

    monkeypatch.setattr(demo_run, "_start", broken_start)  # the steps themselves are tested above
    data = tmp_path / "demo"
    sigterm = signal.getsignal(signal.SIGTERM)  # run() installs the demo's own
    try:
        assert demo_run.run(demo_run.DemoOptions(data_dir=data, mqtt_port=1884)) == 1
    finally:
        signal.signal(signal.SIGTERM, sigterm)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert (
        last
        == f"==> [demo] failed: JSONDecodeError: Expecting value: line 1 column 1 (char 0) (traceback in {data}/demo-error.txt)"
    )
    assert "broken_start" in (data / "demo-error.txt").read_text()


@pytest.mark.external  # a Python process of its own
def test_progress_lines_after_the_reader_has_gone_do_not_stop_the_clean_up() -> None:
    """`make demo-fast | tee demo.log`, then Ctrl-C: tee dies with the demo, and every later progress line must
    be dropped quietly, so the clean-up that prints them still runs to its end."""
    import subprocess
    import sys

    script = (
        "import sys, time\n"
        "from demo.progress import out, say\n"
        "say('starting')\n"
        "time.sleep(1.0)\n"
        "say('stopping the VENs, the VTN and FlexMeasures')\n"
        "out('    a line of a stopping step')\n"
        "say('stopped')\n"
        "print('clean-up finished', file=sys.stderr)\n"
    )
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen([sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == b"==> [demo] starting\n"
    process.stdout.close()  # the reader goes away
    err = process.stderr.read().decode()
    assert process.wait(timeout=30) == 0, err
    assert "clean-up finished" in err and "BrokenPipe" not in err
