"""The line `cariflex vtn` prints on stdout once it listens — written here, and read back here by
whatever starts a VTN process and needs its address (the demo, tests, benchmarks)."""

import re

from vtn.oadr import http as openadr_http

#: finds the banner; group 1 is the base URL
BASE_URL_PATTERN = r" listening on (https?://[^/\s]+)" + re.escape(openadr_http.BASE_PATH) + "/"


def listening_banner(vtn_id: str, base_url: str) -> str:
    """The line printed when the VTN listens at `base_url` (scheme://host:port)."""
    return f"Cariflex VTN {vtn_id!r} listening on {base_url}{openadr_http.BASE_PATH}/"


def base_url_in(text: str) -> str | None:
    """The base URL (scheme://host:port) of the first listening banner in `text`; None when there is none."""
    found = re.search(BASE_URL_PATTERN, text)
    return found.group(1) if found else None
