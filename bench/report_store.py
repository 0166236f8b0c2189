"""Counting what a VTN kept: ``report_point`` rows (ours) or values handed to handlers (openleadr)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import urllib.request
from urllib.parse import urlsplit, urlunsplit

import psutil
from targets import HOST, REPO_ROOT, ServerProcess


def _pg_conninfo(db_url: str) -> str:
    """SQLAlchemy URL (postgresql+psycopg://…) → libpq URL."""
    parts = urlsplit(db_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def _sql_count(db_url: str, where: str = "", params: tuple[str, ...] = ()) -> int:
    """``SELECT count(*) FROM report_point [WHERE …]`` on a SQLite or PostgreSQL store URL."""
    if db_url.startswith("sqlite:///"):
        path = db_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            sql = "SELECT count(*) FROM report_point" + (f" WHERE {where.replace('%s', '?')}" if where else "")
            return int(conn.execute(sql, params).fetchone()[0])
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(_pg_conninfo(db_url)) as conn:
        row = conn.execute("SELECT count(*) FROM report_point" + (f" WHERE {where}" if where else ""), params).fetchone()
        return int(row[0]) if row else 0


def count_rows(db_url: str) -> int:
    """Rows in our VTN's ``report_point`` table, read directly with SQL (RuntimeError if unreadable)."""
    import psycopg

    try:
        return _sql_count(db_url)
    except (sqlite3.Error, psycopg.Error) as err:
        raise RuntimeError(f"cannot count report_point rows: {err}") from err


def cross_check_cli(cariflex: str, db_url: str, ven_id: str, timeout: float = 120.0) -> tuple[int, int]:
    """(rows of one VEN per ``cariflex reports data --format json``, same count per SQL)."""
    cmd = [cariflex, "reports", "data", "--db", db_url, "--ven", ven_id, "--format", "json"]
    proc = subprocess.run(  # our own command line
        cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-1000:]}")
    return len(json.loads(proc.stdout)), _sql_count(db_url, "ven_id = %s", (ven_id,))


def openleadr_tally(port: int, timeout: float = 30.0) -> dict[str, int]:
    """Counters of bench/report_openleadr_vtn.py (``values``: report values delivered to handlers)."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/bench/report-count", timeout=timeout) as resp:
        return json.load(resp)


def cpu_seconds(server: ServerProcess | None) -> float | None:
    """User + system CPU seconds used so far by a server's process tree (None if it is gone)."""
    if server is None or server.proc is None or server.proc.poll() is not None:
        return None
    try:
        root = psutil.Process(server.proc.pid)
        times = [p.cpu_times() for p in (root, *root.children(recursive=True))]
    except psutil.Error:
        return None
    return sum(t.user + t.system for t in times)


def log_problems(server: ServerProcess | None) -> list[str]:
    """ERROR/CRITICAL lines and tracebacks (by their exception line) in a server's log so far."""
    if server is None:
        return []
    try:
        lines = server.log_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            ends = (x for x in lines[i + 1 :] if x and not x[0].isspace() and not x.startswith("Traceback"))
            found.append("Traceback: " + next(ends, "?"))
        elif "ERROR" in line or "CRITICAL" in line:
            found.append(line)
    return [x[:300] for x in found]
