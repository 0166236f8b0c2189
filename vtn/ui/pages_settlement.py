"""Settlement statements in the operator UI: the list, one statement as a printable page, its JSON and CSV.

GET /ui/settlements                    the statements issued, newest first (`cariflex settlement issue` issues them)
GET /ui/settlements/{statement_id}     one statement, printable, its fingerprint checked
GET /ui/settlements/{statement_id}.json / .csv
"""

from typing import Any

from aiohttp import web

from vtn.csv_export import attachment
from vtn.curtailment import statements
from vtn.curtailment.statement_files import statement_csv
from vtn.store import Tx
from vtn.store import statement_repository as stored
from vtn.ui.state import render, state


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the settlement pages."""
    router.add_get("/settlements", settlements_page)
    router.add_get("/settlements/{statement_id}.json", statement_json)
    router.add_get("/settlements/{statement_id}.csv", statement_file)
    router.add_get("/settlements/{statement_id}", statement_page)


def _documents(session: Tx) -> list[dict[str, Any]]:
    return [statements.as_document(row) for row in stored.list_statements(session)]


def _document(session: Tx, statement_id: str) -> dict[str, Any] | None:
    row = stored.find_statement(session, statement_id)
    return statements.as_document(row) if row is not None else None


async def _found(request: web.Request) -> dict[str, Any]:
    statement_id = request.match_info["statement_id"]
    document = await state(request).store.call(_document, statement_id)
    if document is None:
        raise web.HTTPNotFound(text=f"statement_id: no statement {statement_id}")
    return document


async def settlements_page(request: web.Request) -> web.Response:
    """The statements issued."""
    return render(request, "settlements.html", documents=await state(request).store.call(_documents))


async def statement_page(request: web.Request) -> web.Response:
    """One statement, printable."""
    return render(request, "statement.html", d=await _found(request))


async def statement_json(request: web.Request) -> web.Response:
    """One statement as JSON."""
    return web.json_response(await _found(request))


async def statement_file(request: web.Request) -> web.Response:
    """One statement as CSV."""
    document = await _found(request)
    return web.Response(
        text=statement_csv(document),
        content_type="text/csv",
        headers={"Content-Disposition": attachment(document["statement_id"])},
    )
