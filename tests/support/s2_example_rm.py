"""Run flexmeasures-client's own S2 example RM (`flexmeasures_client/s2/script/websockets_client.py`, as installed)
against a CEM it was not written for: `python -m tests.support.s2_example_rm <ws url>` with the device's pairing
token in the environment variable TOKEN_VARIABLE.

The example connects to a fixed `http://localhost:8080/ws` without any authorization; the only change here is to
`aiohttp.ClientSession.ws_connect`, for this process: the example's URL becomes the one given, and the header
`Authorization: Bearer <token>` is added. The example itself is run unchanged from the installed package, with
runpy (it starts itself at import: `asyncio.run(main_s2())`).
"""

import importlib.util
import os
import runpy
import sys
from typing import Any

import aiohttp

#: the installed example RM's module
EXAMPLE = "flexmeasures_client.s2.script.websockets_client"
#: the environment variable holding the pairing token (not on the command line, where `ps` would show it)
TOKEN_VARIABLE = "CARIFLEX_S2_EXAMPLE_TOKEN"


def example_path() -> str:
    """Where the installed flexmeasures-client keeps its example RM."""
    spec = importlib.util.find_spec(EXAMPLE)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{EXAMPLE} is not installed: install flexmeasures-client (pyproject.toml) in this venv")
    return spec.origin


def redirect_ws_connect(url: str, token: str) -> None:
    """Make every `ClientSession.ws_connect` of this process go to `url` with `token` as its bearer token."""
    original = aiohttp.ClientSession.ws_connect

    def ws_connect(self: aiohttp.ClientSession, _url: Any, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Authorization"] = f"Bearer {token}"
        return original(self, url, headers=headers, **kwargs)

    aiohttp.ClientSession.ws_connect = ws_connect  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    """Run the example RM against the CEM at `argv[0]`."""
    if len(argv) != 1 or TOKEN_VARIABLE not in os.environ:
        raise SystemExit(f"usage: {TOKEN_VARIABLE}=<pairing token> python -m tests.support.s2_example_rm ws://host:port/path")
    redirect_ws_connect(argv[0], os.environ[TOKEN_VARIABLE])
    runpy.run_path(example_path(), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
