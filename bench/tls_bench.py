"""Poll throughput over mutual TLS: our VTN next to stock openleadr, same certificates, same client.

For each target and mode, a fresh server process; ``--vens`` VENs, each with its own ECDSA P-256
client certificate (both VTNs tie a venID to its certificate), register over mutual TLS, drain what
the VTN queued for them, then poll in a closed loop for ``--duration`` seconds, one request at a time
per VEN. Modes:

* ``keep-alive``          - one TLS connection per VEN, reused for every poll;
* ``handshake-per-poll``  - a new TCP connection and full TLS handshake for every poll;
* ``signed keep-alive``   - as keep-alive, every poll XML-signed by the VEN (fresh nonce) and every
  answer signed by the VTN (openleadr: ``verify_message_signatures`` and its signing key on).

Both servers get the same ECDSA P-256 server certificate, so the client (pinned to the two 2.0b
suites) negotiates TLS 1.2 ECDHE-ECDSA-AES128-SHA256 with both. (With an RSA certificate stock
openleadr cannot serve a 2.0b client at all: its context keeps Python's default suites, which leave
out AES128-SHA256, so the handshake fails.) The client runs in this process (uvloop); its
own TLS and signing work is part of what limits the numbers, equally for both targets. Example::

    .venv/bin/python bench/tls_bench.py --vens 20 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import uvloop
from targets import REPO_ROOT, ServerProcess, free_port

from certs.cli import make_dev_pki
from certs.tls import TlsSettings, client_context
from certs.xmlsig import Signer, sign
from mapping.oadr import model as m
from mapping.oadr.decode import decode, open_envelope
from mapping.oadr.encode import encode
from mapping.oadr.xsd import parse_xml

BENCH_DIR = Path(__file__).resolve().parent
PATH = "/OpenADR2/Simple/2.0b"
MODES = {
    "keep-alive": {"force_close": False, "sign": False},
    "handshake-per-poll": {"force_close": True, "sign": False},
    "signed keep-alive": {"force_close": False, "sign": True},
}
TARGETS = ("ours", "openleadr")
HEADERS = {"Content-Type": "application/xml"}


class Ven:
    """One benchmark VEN: its certificate, its HTTP session, its venID once registered."""

    def __init__(self, name: str, pki: Path, base: str, force_close: bool, signed: bool) -> None:
        cert, key = pki / f"{name}-ecdsa.crt", pki / f"{name}-ecdsa.key"
        context = client_context(TlsSettings(chains=((cert, key),), ca_file=pki / "ca.crt"))
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context, limit=1, force_close=force_close),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        self.name, self.base = name, base
        self.signer = Signer.from_files(cert, key) if signed else None
        self.ven_id = ""

    def body(self, message: m.Message) -> bytes:
        data = encode(message)
        return sign(data, self.signer, datetime.now(UTC), uuid.uuid4().hex) if self.signer else data

    async def post(self, service: str, message: m.Message) -> tuple[int, bytes]:
        async with self.session.post(f"{self.base}{PATH}/{service}", data=self.body(message), headers=HEADERS) as response:
            return response.status, await response.read()

    async def register(self) -> None:
        registration = m.CreatePartyRegistration(
            request_id=f"req-{self.name}",
            profile_name="2.0b",
            transport_name="simpleHttp",
            report_only=False,
            xml_signature=self.signer is not None,
            ven_name=self.name,
            http_pull_model=True,
        )
        status, data = await self.post("EiRegisterParty", registration)
        reply = decode(open_envelope(parse_xml(data))) if status == 200 else None
        if not isinstance(reply, m.CreatedPartyRegistration) or reply.response.code != 200 or not reply.ven_id:
            raise RuntimeError(f"{self.name}: registration failed: HTTP {status} {data[:300]!r}")
        self.ven_id = reply.ven_id
        for _ in range(5):  # deliver what the VTN queued for a new VEN (our VTN: its oadrRegisterReport)
            status, data = await self.post("OadrPoll", m.Poll(ven_id=self.ven_id))
            if b"oadrResponse" in data:
                return
        raise RuntimeError(f"{self.name}: queue not drained: {data[:300]!r}")

    async def poll_until(self, deadline: float, latencies: list[float]) -> int:
        errors = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                status, data = await self.post("OadrPoll", m.Poll(ven_id=self.ven_id))
                ok = status == 200 and b"oadrResponse" in data and b">200<" in data
            except (aiohttp.ClientError, TimeoutError, OSError):
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
        return errors


def start_target(target: str, pki: Path, work: Path, signatures: bool, cariflex: str) -> tuple[ServerProcess, str]:
    port = free_port()
    if target == "ours":
        config = work / f"vtn-{port}.toml"
        config.write_text(
            f'[vtn]\nvtn_id = "CARIFLEX-VTN"\nhost = "127.0.0.1"\nport = {port}\n'
            f'[store]\nurl = "sqlite:///{work}/vtn-{port}.db"\n'
            f'[tls]\ncert = "{pki}/vtn-ecdsa.crt"\nkey = "{pki}/vtn-ecdsa.key"\nca = "{pki}/ca.crt"\n'
        )
        cmd = [cariflex, "--log-level", "WARNING", "vtn", "--config", str(config)]
    else:
        cmd = [sys.executable, str(BENCH_DIR / "openleadr_tls_vtn.py"), "--port", str(port), "--pki", str(pki)]
        cmd += ["--signatures"] if signatures else []
    server = ServerProcess(cmd, port, work / f"{target}-{port}.log")
    server.start(ready_timeout=60)
    return server, f"https://127.0.0.1:{port}"


async def run_case(target: str, mode: str, args: argparse.Namespace, pki: Path, work: Path, names: list[str]) -> dict:
    settings = MODES[mode]
    server, base = start_target(target, pki, work, settings["sign"], args.cariflex)
    vens = [Ven(name, pki, base, settings["force_close"], settings["sign"]) for name in names]
    try:
        await asyncio.gather(*(ven.register() for ven in vens))
        latencies: list[float] = []
        started = time.perf_counter()
        errors = await asyncio.gather(*(ven.poll_until(started + args.duration, latencies) for ven in vens))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(ven.session.close() for ven in vens))
        rss = server.rss_mb()
        server.stop()
    latencies.sort()
    result = {
        "target": target,
        "mode": mode,
        "polls_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else None,
        "errors": sum(errors),
        "rss_mb": rss,
    }
    print(
        f"  {target:<10} {mode:<20} {result['polls_per_s']:8.0f} polls/s  p50 {result['p50_ms'] or 0:7.1f} ms"
        f"  p99 {result['p99_ms'] or 0:7.1f} ms  errors {result['errors']}",
        flush=True,
    )
    return result


async def main_async(args: argparse.Namespace) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="tls-bench-") as tmp:
        work = Path(tmp)
        names = [f"bench-{i:03d}" for i in range(args.vens)]
        make_dev_pki(work / "pki", names, ("localhost", "127.0.0.1"))
        results = []
        for mode in args.mode or list(MODES):
            for target in args.only or list(TARGETS):
                results.append(await run_case(target, mode, args, work / "pki", work, names))
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vens", type=int, default=20, help="VENs, each polling in a closed loop (= concurrency)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per case")
    parser.add_argument("--only", action="append", choices=TARGETS, help="target(s) to run (default both)")
    parser.add_argument("--mode", action="append", choices=list(MODES), help="mode(s) to run (default all)")
    parser.add_argument("--cariflex", default=str(Path(sys.executable).parent / "cariflex"), help="our VTN's CLI")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    print(f"TLS poll bench: {args.vens} VENs, {args.duration:g} s per case, {platform.python_version()}, {REPO_ROOT}")
    results = uvloop.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
