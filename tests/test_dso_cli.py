"""`cariflex dso client …` against a running VTN's store: the secret is shown once and works at the
token endpoint, the store never shows it, a disabled client gets no token."""

import subprocess
import sys

import pytest

from tests.support.dso import token
from tests.support.eventually import eventually

pytestmark = pytest.mark.external  # `cariflex` commands as processes


def cariflex(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cariflex.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [["dso"], ["dso", "client"], ["dso", "client", "add"], ["dso", "client", "list"]])
def test_help(command):
    done = cariflex(*command, "--help")
    assert done.returncode == 0 and "usage: cariflex" in done.stdout


async def test_add_list_disable(vtn_sqlite):
    vtn = vtn_sqlite
    db = vtn.ctx.config.db_url
    added = cariflex("dso", "client", "add", "edf-sei", "--scopes", "read_all write_events", "--db", db)
    assert added.returncode == 0, added.stderr
    fields = dict(line.split("=", 1) for line in added.stdout.splitlines())
    assert fields["client_id"] == "edf-sei" and fields["scopes"] == "read_all write_events"
    base = f"{vtn.base_url}/openadr3/3.1.0"
    assert await token(vtn.client.session, base, "edf-sei", fields["client_secret"])

    assert cariflex("dso", "client", "add", "edf-sei", "--db", db).returncode == 1  # taken
    bad = cariflex("dso", "client", "add", "x", "--scopes", "root", "--db", db)
    assert bad.returncode == 2 and "--scopes" in bad.stderr
    listing = cariflex("dso", "client", "list", "--db", db)
    assert "edf-sei" in listing.stdout and fields["client_secret"] not in listing.stdout

    held = await token(vtn.client.session, base, "edf-sei", fields["client_secret"])
    assert cariflex("dso", "client", "disable", "edf-sei", "--db", db).returncode == 0
    with pytest.raises(AssertionError, match="invalid_client"):
        await token(vtn.client.session, base, "edf-sei", fields["client_secret"])

    async def refused() -> bool:  # the token it holds stops working within [dso] client_recheck (10 s)
        async with vtn.client.session.get(f"{base}/events", headers={"Authorization": f"Bearer {held}"}) as response:
            return response.status == 401

    await eventually(refused, timeout=60, what="the disabled client's token to be refused")
    assert cariflex("dso", "client", "disable", "nobody", "--db", db).returncode == 1
