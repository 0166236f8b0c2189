"""Drive the load generators (wrk, fixed-rate client) as separate processes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
LUA_SCRIPT = BENCH_DIR / "rotate_bodies.lua"
FIXED_RATE_CLIENT = BENCH_DIR / "fixed_rate_client.py"
WRK_INSTALL_HINT = "wrk not found; install it with: apt-get install -y wrk"
_RESULT_LINE = re.compile(r"^BENCH_RESULT (.*)$", re.MULTILINE)
_BAD_SAMPLE_LINE = re.compile(r"^BENCH_BAD_SAMPLE (.*)$", re.MULTILINE)


@dataclass
class LoadSettings:
    """Knobs shared by all load runs."""

    duration: float = 15.0
    threads: int = 1
    connections: int = 20
    timeout: float = 10.0
    rate: float = 1000.0


@dataclass
class Measurement:
    """What one load run measured."""

    requests: int
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    non_2xx: int
    unexpected: int
    socket_errors: int
    detail: dict


def find_wrk() -> str:
    """Return the wrk executable path, or exit with an install hint."""
    path = shutil.which("wrk")
    if path is None:
        sys.exit(WRK_INSTALL_HINT)
    return path


def _parse_wrk(stdout: str) -> Measurement:
    match = _RESULT_LINE.search(stdout)
    if match is None:
        raise RuntimeError(f"no BENCH_RESULT line in wrk output:\n{stdout}")
    fields = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}
    seconds = fields["duration_us"] / 1e6
    sample = _BAD_SAMPLE_LINE.search(stdout)
    return Measurement(
        requests=fields["requests"],
        rps=fields["requests"] / seconds if seconds else 0.0,
        p50_ms=fields["p50_us"] / 1000,
        p99_ms=fields["p99_us"] / 1000,
        non_2xx=fields["non2xx"],
        unexpected=fields["unexpected"],
        socket_errors=sum(fields[k] for k in ("connect_err", "read_err", "write_err", "timeouts")),
        detail={
            **fields,
            "p90_ms": fields["p90_us"] / 1000,
            "max_ms": fields["max_us"] / 1000,
            "bad_sample": sample.group(1) if sample else None,
        },
    )


def run_wrk(
    url: str,
    bodies: Path,
    expect: list[str],
    settings: LoadSettings,
    duration: float,
) -> Measurement:
    """Closed-loop saturation run of wrk rotating through ``bodies``."""
    cmd = [
        find_wrk(),
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={max(1, round(settings.timeout))}s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        url,
        "--",
        str(bodies),
        *expect,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr}")
    return _parse_wrk(proc.stdout)


def run_fixed_rate(url: str, bodies: Path, expect: list[str], settings: LoadSettings) -> Measurement:
    """Open-loop run at ``settings.rate`` req/s in a separate Python process."""
    cmd = [
        sys.executable,
        str(FIXED_RATE_CLIENT),
        "--url",
        url,
        "--bodies",
        str(bodies),
        "--rate",
        str(settings.rate),
        "--duration",
        str(settings.duration),
        "--timeout",
        str(settings.timeout),
        *[arg for marker in expect for arg in ("--expect", marker)],
    ]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=settings.duration + 2 * settings.timeout + 60,
        check=False,
    )
    match = _RESULT_LINE.search(proc.stdout)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"fixed-rate client failed: {proc.stderr[-2000:]}")
    data = json.loads(match.group(1))
    return Measurement(
        requests=data["completed"],
        rps=data["achieved_rate"],
        p50_ms=data["p50_ms"],
        p99_ms=data["p99_ms"],
        non_2xx=data["non_2xx"],
        unexpected=data["unexpected"],
        socket_errors=data["errors"] + data["timeouts"] + data["dropped"],
        detail=data,
    )
