"""The UI login under attack and behind a proxy (issue 22): the failure throttle holds against concurrent
attempts and is kept per (user name, client address) — the address a trusted proxy forwards, never one a
client claims — and the pages tell browsers not to frame them and what they may load."""

import asyncio
import ipaddress
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.ui import PASSWORD, add_user, hidden
from tests.support.vtn_harness import VtnUnderTest, config_for_tests, running_vtn
from vtn.oadr.security_config import ProxyTrust


async def _attempt(base_url: str, username: str, password: str, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    """One login from a fresh browser: the form, then the post; the answer (read) is returned."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers) as browser:
        async with browser.get(f"{base_url}/ui/login") as page:
            csrf = hidden(await page.text(), "csrf")
        form = {"csrf": csrf, "username": username, "password": password, "next": "/ui/events"}
        async with browser.post(f"{base_url}/ui/login", data=form, allow_redirects=False) as reply:
            await reply.read()
            return reply


async def test_concurrent_wrong_passwords_cannot_outrun_the_throttle(vtn_sqlite):
    await add_user(vtn_sqlite.admin_store, "dave", "operator")
    answers = await asyncio.gather(*(_attempt(vtn_sqlite.base_url, "dave", f"guess {i}") for i in range(40)))
    statuses = sorted(a.status for a in answers)
    assert statuses.count(401) <= 5 and statuses.count(429) >= 35, statuses


async def test_one_users_failures_do_not_lock_out_another_at_the_same_address(vtn_sqlite):
    await add_user(vtn_sqlite.admin_store, "erin", "operator")
    await add_user(vtn_sqlite.admin_store, "frank", "operator")
    for _ in range(5):
        assert (await _attempt(vtn_sqlite.base_url, "erin", "wrong")).status == 401
    assert (await _attempt(vtn_sqlite.base_url, "erin", PASSWORD)).status == 429
    assert (await _attempt(vtn_sqlite.base_url, "frank", PASSWORD)).status == 303  # an operator behind the same NAT


@pytest.fixture
async def vtn_behind_nginx(sqlite_url: str) -> AsyncIterator[VtnUnderTest]:
    """A VTN that trusts 127.0.0.0/8 as its TLS-terminating proxy."""
    proxy = ProxyTrust(header="X-SSL-Client-Cert", networks=(ipaddress.ip_network("127.0.0.0/8"),))
    async with running_vtn(config_for_tests(sqlite_url, proxy=proxy)) as running:
        yield running


async def test_behind_a_trusted_proxy_the_throttle_keys_on_the_forwarded_address(vtn_behind_nginx):
    vtn = vtn_behind_nginx
    await add_user(vtn.admin_store, "gina", "operator")
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    for _ in range(5):
        assert (await _attempt(vtn.base_url, "gina", "wrong", attacker)).status == 401
    assert (await _attempt(vtn.base_url, "gina", PASSWORD, attacker)).status == 429
    # gina at her own desk, through the same nginx: another address; a forged list keeps nginx's last entry
    assert (await _attempt(vtn.base_url, "gina", PASSWORD, {"X-Forwarded-For": "203.0.113.7, 198.51.100.2"})).status == 303


async def test_a_client_cannot_pick_its_address_without_a_trusted_proxy(vtn_sqlite):
    await add_user(vtn_sqlite.admin_store, "hank", "operator")
    for i in range(5):
        assert (await _attempt(vtn_sqlite.base_url, "hank", "wrong", {"X-Forwarded-For": f"192.0.2.{i}"})).status == 401
    assert (await _attempt(vtn_sqlite.base_url, "hank", PASSWORD, {"X-Forwarded-For": "192.0.2.99"})).status == 429


async def test_the_session_cookie_is_secure_behind_a_tls_proxy(vtn_behind_nginx):
    await add_user(vtn_behind_nginx.admin_store, "iris", "operator")
    answer = await _attempt(vtn_behind_nginx.base_url, "iris", PASSWORD, {"X-Forwarded-Proto": "https"})
    assert answer.status == 303
    assert answer.cookies["cariflex_session"]["secure"], answer.headers.getall("Set-Cookie")


async def test_ui_pages_may_not_be_framed_and_say_what_they_load(vtn_sqlite):
    async with aiohttp.ClientSession() as browser, browser.get(f"{vtn_sqlite.base_url}/ui/login") as page:
        assert page.headers.get("X-Frame-Options") == "DENY"
        policy = page.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, policy
