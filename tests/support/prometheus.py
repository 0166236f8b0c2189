"""A real Prometheus (Debian's package, 2.42) for tests: the shipped config/prometheus/prometheus.yml with only its
targets and intervals replaced, run as a child process on a free loopback port with its own storage folder, and
its HTTP API. `scripts/ensure-services.sh prometheus` (called by `make test`) installs the binaries."""

import asyncio
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.support.mqtt import free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "config" / "prometheus"
SCRAPE_CONFIG = CONFIG_DIR / "prometheus.yml"
RULES = CONFIG_DIR / "cariflex-rules.yml"
RULES_TESTS = CONFIG_DIR / "cariflex-rules.test.yml"


def binary(name: str) -> str:
    """The path of `prometheus` or `promtool`; fails the test, saying how to install it, when missing."""
    found = shutil.which(name)
    assert found is not None, f"{name} is not installed: `bash scripts/ensure-services.sh prometheus` installs it"
    return found


def render_config(directory: Path, targets: dict[str, list[str]], interval: str, token: str) -> Path:
    """Write the shipped prometheus.yml into `directory` with each job's targets (by job name) and the scrape and
    evaluation intervals replaced, the rules file and the token file beside it (the config names them relatively)."""
    config = yaml.safe_load(SCRAPE_CONFIG.read_text())
    config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = interval
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(targets), f"prometheus.yml's jobs are {sorted(jobs)}"
    for name, job in jobs.items():
        job["static_configs"] = [{"targets": targets[name]}]
        (directory / _beside(job["authorization"]["credentials_file"])).write_text(token + "\n")
    for rules in config["rule_files"]:
        shutil.copy(CONFIG_DIR / _beside(rules), directory / rules)
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _beside(name: str) -> str:
    """A file prometheus.yml names: relative, so that it is read beside the configuration wherever it is installed."""
    assert not Path(name).is_absolute(), f"prometheus.yml names {name}: name it relative to the file's folder"
    return name


async def _ready(http: aiohttp.ClientSession, base: str, process: subprocess.Popen, log: Path) -> bool:
    """Wait (30 s at most) for /-/ready; False when the process exited (e.g. its port was taken meanwhile)."""
    for _ in range(300):
        if process.poll() is not None:
            return False
        try:
            async with http.get(base + "/-/ready") as answer:
                if answer.status == 200:
                    return True
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"prometheus not ready within 30 s:\n{log.read_text()}")


@asynccontextmanager
async def running_prometheus(config: Path, http: aiohttp.ClientSession) -> AsyncIterator[str]:
    """Prometheus on `config`, storing in a folder beside it, on a free loopback port; yields its base URL.
    Stopped with SIGTERM (then SIGKILL) on leaving."""
    log = config.parent / "prometheus.log"
    for _attempt in range(3):  # a free port may be taken before prometheus binds it: try another
        port = free_port()
        with log.open("w") as out:
            process = subprocess.Popen(
                [
                    binary("prometheus"),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={config.parent / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            if await _ready(http, base, process, log):
                yield base
                return
        finally:
            _stop(process)
        if "address already in use" not in log.read_text():
            break
    raise RuntimeError(f"prometheus exited ({process.returncode}):\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def api(http: aiohttp.ClientSession, base: str, path: str, **params: str) -> Any:
    """GET /api/v1/<path>; asserts Prometheus answered `success` and returns its `data`."""
    async with http.get(f"{base}/api/v1/{path}", params=params) as answer:
        body = await answer.json()
    assert body.get("status") == "success", f"{path} {params}: {body}"
    return body["data"]


async def query(http: aiohttp.ClientSession, base: str, expr: str) -> list[dict[str, Any]]:
    """An instant query's result vector (a query error fails the test, naming the query)."""
    data = await api(http, base, "query", query=expr)
    assert data["resultType"] == "vector", f"{expr}: {data['resultType']}"
    return data["result"]
