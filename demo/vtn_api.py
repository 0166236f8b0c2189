"""What the demo reads of its VTN, over the VTN's HTTP API as any operator's script could: the operator UI's JSON
and text endpoints (docs/ui.md, docs/curtailment.md), logged in with the operator account the demo created.

Never the VTN's store: pyproject.toml's import contracts keep `demo` out of `vtn` (but for the listening line
`cariflex vtn` prints, vtn.banner).
"""

import asyncio
import json
import re
from typing import Any
from urllib.parse import quote, unquote_plus

import aiohttp

from demo.processes import DemoError

LOGIN_PATH = "/ui/login"
#: how often, and how long apart, a 503 (the VTN's store busy or away: retry) is asked again
BUSY_RETRIES, BUSY_WAIT_S = 12, 5.0
#: the hidden CSRF field of the UI's login form, which the login POST must send back
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


class VtnApi:
    """A session on the VTN's operator UI at `base_url` (scheme://host:port) as `username`; it logs in at its first
    request, and again when the session has expired (`[ui] session_lifetime`, 12 h: a demo without --fast may
    wait longer than that for the evening)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self._credentials = (username, password)
        # the VTN's address is an IP (127.0.0.1): aiohttp keeps cookies of an IP only in an "unsafe" jar
        self._http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self._logged_in = False

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._http.close()

    async def vens(self) -> list[dict[str, Any]]:
        """Every VEN the VTN knows (GET /ui/vens.json, page after page): venID, oadrVenName, registration,
        the reports it offers."""
        found: list[dict[str, Any]] = []
        path: str | None = "/ui/vens.json"
        while path is not None:
            page = await self._json(path)
            found += page["vens"]
            path = page["next"]
        return found

    async def deliveries(self, event_id: str) -> dict[str, Any]:
        """The event's status and, per VEN it was delivered to or that answered it, its latest optIn/optOut
        (GET /ui/events/{id}/deliveries.json)."""
        return await self._json(f"/ui/events/{quote(event_id, safe='')}/deliveries.json")

    async def curtailment(self, event_id: str) -> dict[str, Any]:
        """The event's achieved curtailment per VEN and in total (GET /ui/events/{id}/curtailment.json)."""
        return await self._json(f"/ui/events/{quote(event_id, safe='')}/curtailment.json")

    async def curtailment_table(self, event_id: str) -> list[str]:
        """The lines of the table `cariflex reports curtailment --format table` prints (GET …/curtailment.txt)."""
        return (await self._get(f"/ui/events/{quote(event_id, safe='')}/curtailment.txt")).splitlines()

    async def upload_meter_data(self, filename: str, text: str) -> str:
        """Import a load-curve CSV through the UI's Meter data page (POST /ui/meter, as an operator uploading the meter
        operator's file); the notice the VTN answers with. DemoError when it refuses the file."""
        page = await self._get("/ui/meter")
        found = _CSRF_FIELD.search(page)
        if found is None:
            raise DemoError("the VTN's meter page has no upload form: is the demo's user an operator?")
        form = aiohttp.FormData()
        form.add_field("csrf", found.group(1))
        form.add_field("file", text.encode(), filename=filename, content_type="text/csv")
        async with self._http.post(self.base_url + "/ui/meter", data=form, allow_redirects=False) as reply:
            if reply.status != 303:
                raise DemoError(f"the VTN refused the load curve {filename}: HTTP {reply.status} {(await reply.text())[:300]}")
            return unquote_plus(reply.headers.get("Location", "").partition("notice=")[2])

    async def _json(self, path: str) -> Any:
        return _parsed(path, await self._get(path))

    async def _get(self, path: str) -> str:
        """The body of a 200 answer to GET `path`; LookupError for a 404, DemoError for any other answer."""
        if not self._logged_in:
            await self._login()
        status, body = await self._fetch(path)
        if status == 303:  # to the login page: the session expired
            await self._login()
            status, body = await self._fetch(path)
        for _ in range(BUSY_RETRIES):  # 503: the store is busy or away; the VTN says when to come back
            if status != 503:
                break
            await asyncio.sleep(BUSY_WAIT_S)
            status, body = await self._fetch(path)
        if status == 404:
            raise LookupError(f"the VTN has no {path}: {body.strip()}")
        if status != 200:
            raise DemoError(f"the VTN answered GET {self.base_url}{path} with HTTP {status}: {body.strip()[:300]}")
        return body

    async def _fetch(self, path: str) -> tuple[int, str]:
        async with self._http.get(self.base_url + path, allow_redirects=False) as reply:
            return reply.status, await reply.text()

    async def _login(self) -> None:
        username, password = self._credentials
        async with self._http.get(self.base_url + LOGIN_PATH) as page:
            found = _CSRF_FIELD.search(await page.text())
        if found is None:
            raise DemoError(f"the VTN's login page {self.base_url}{LOGIN_PATH} has no CSRF field (HTTP {page.status})")
        form = {"csrf": found.group(1), "username": username, "password": password, "next": "/ui/events"}
        async with self._http.post(self.base_url + LOGIN_PATH, data=form, allow_redirects=False) as reply:
            if reply.status != 303:  # the UI redirects after a successful login, and shows the form again otherwise
                raise DemoError(f"the VTN's UI refused the demo's login as {username}: HTTP {reply.status}")
        self._logged_in = True


def _parsed(path: str, body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise DemoError(f"the VTN's {path} is not JSON: {body[:300]!r}") from exc
