"""Operator UI helpers for tests: users in the store, and a logged-in HTTP session."""

import re
from datetime import UTC, datetime

import aiohttp

from vtn.store import ui_repository as users
from vtn.store.worker import StoreWorker
from vtn.ui.auth import hash_password

PASSWORD = "correct horse battery"


async def add_user(store: StoreWorker, username: str, role: str) -> None:
    """Create a UI user with the test password."""
    await store.call(users.save_user, username, hash_password(PASSWORD), role, datetime.now(UTC))


def hidden(html: str, name: str) -> str:
    """The value of a hidden form field."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name} in the page"
    return found.group(1)


async def login(base_url: str, username: str, password: str = PASSWORD) -> aiohttp.ClientSession:
    """A client session logged into the UI (cookies kept for 127.0.0.1)."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(f"{base_url}/ui/login") as page:
        csrf = hidden(await page.text(), "csrf")
    form = {"csrf": csrf, "username": username, "password": password, "next": "/ui/events"}
    async with session.post(f"{base_url}/ui/login", data=form, allow_redirects=False) as reply:
        assert reply.status == 303, await reply.text()
    return session
